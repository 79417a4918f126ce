import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, ValidateBy, ValidateIf } from 'class-validator';
import { decodeTodoCursor } from '../todo-cursor';
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX } from '../todo.limits';
import { booleanFromQuery, IsIntegerBetween, integerFromQuery } from './validators';

/** The query of GET /api/todos. */
export class ListTodosQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: LIST_LIMIT_MAX,
    default: LIST_LIMIT_DEFAULT,
    description: 'Todos per page.',
  })
  @Transform(integerFromQuery)
  @IsIntegerBetween(1, LIST_LIMIT_MAX)
  limit: number = LIST_LIMIT_DEFAULT;

  @ApiPropertyOptional({
    type: String,
    description: "The previous page's `nextCursor`; omit it for the first page.",
  })
  @IsOptional()
  @ValidateBy({
    name: 'isTodoCursor',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && decodeTodoCursor(value) !== undefined,
      defaultMessage: () => "cursor must be a previous page's nextCursor",
    },
  })
  cursor?: string;

  @ApiPropertyOptional({
    type: Boolean,
    description: 'Only completed (true) or only open (false) todos; both when omitted.',
  })
  @Transform(booleanFromQuery)
  @ValidateIf((_, value) => value !== undefined)
  @IsBoolean({ message: 'completed must be true or false' })
  completed?: boolean;
}
