import { ApiSchema, PartialType } from '@nestjs/swagger';
import { RequestValidationException } from '../../common/common.errors';
import { CreateTodoDto } from './create-todo.dto';

/**
 * The body of PATCH /api/todos/:id: any of the create fields, with the same rules. A field that
 * is sent must be valid (`skipNullProperties: false`): `"title": null` is a 400, not a NOT NULL
 * violation; only `description` accepts null (it clears the description).
 */
@ApiSchema({ name: 'UpdateTodo' })
export class UpdateTodoDto extends PartialType(CreateTodoDto, { skipNullProperties: false }) {}

/** The fields a PATCH changes. Only keys that were sent are present. */
export interface TodoChanges {
  title?: string;
  description?: string | null;
  completed?: boolean;
}

/** Keeps the fields that were sent; a PATCH that changes nothing is a client error. */
export function toTodoChanges(dto: UpdateTodoDto): TodoChanges {
  const changes: TodoChanges = {};
  if (dto.title !== undefined) changes.title = dto.title;
  if (dto.description !== undefined) changes.description = dto.description;
  if (dto.completed !== undefined) changes.completed = dto.completed;
  if (Object.keys(changes).length === 0) {
    throw new RequestValidationException([
      { field: 'body', message: 'send at least one of title, description, completed' },
    ]);
  }
  return changes;
}
