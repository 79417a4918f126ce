import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { TodoRecord } from '../todo.record';
import { DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH } from '../todo.limits';

/** A todo as the API returns it. The owner and the version are not part of it (the ETag is). */
@ApiSchema({ name: 'Todo' })
export class TodoDto {
  @ApiProperty({ format: 'uuid', example: '0b9f4a53-2f6c-4c55-9a43-7d3e5f7c1a20' })
  id!: string;

  @ApiProperty({ example: 'Buy milk', maxLength: TITLE_MAX_LENGTH })
  title!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'Semi-skimmed, 2 litres',
    maxLength: DESCRIPTION_MAX_LENGTH,
  })
  description!: string | null;

  @ApiProperty({ example: false })
  completed!: boolean;

  @ApiProperty({ format: 'date-time', example: '2026-01-31T09:30:00.000Z' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', example: '2026-01-31T09:45:12.345Z' })
  updatedAt!: string;

  static from(todo: TodoRecord): TodoDto {
    return {
      id: todo.id,
      title: todo.title,
      description: todo.description,
      completed: todo.completed,
      createdAt: todo.createdAt,
      updatedAt: todo.updatedAt,
    };
  }
}
