import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { encodeTodoCursor } from '../todo-cursor';
import { TodoPage } from '../todos.service';
import { TodoDto } from './todo.dto';

/** One page of the caller's todos, newest first. */
@ApiSchema({ name: 'TodoPage' })
export class TodoPageDto {
  @ApiProperty({ type: [TodoDto] })
  todos!: TodoDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'djEuMTc2OTg1MTgwMDAwMC4wYjlmNGE1My0yZjZjLTRjNTUtOWE0My03ZDNlNWY3YzFhMjA',
    description: 'Pass as `cursor` to get the next page; null on the last page.',
  })
  nextCursor!: string | null;

  static from(page: TodoPage): TodoPageDto {
    return {
      todos: page.todos.map((todo) => TodoDto.from(todo)),
      nextCursor: page.next ? encodeTodoCursor(page.next) : null,
    };
  }
}
