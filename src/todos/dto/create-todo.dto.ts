import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, ValidateIf } from 'class-validator';
import { DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH } from '../todo.limits';
import { HasCodePointLength, IsStorableText } from './validators';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/**
 * The body of POST /api/todos. Only these fields are accepted: the global ValidationPipe refuses
 * any other (`id`, `userId`, `createdAt`, …) with a 400 naming it, so a client can never set what
 * the server owns.
 */
@ApiSchema({ name: 'CreateTodo' })
export class CreateTodoDto {
  @ApiProperty({
    example: 'Buy milk',
    minLength: 1,
    maxLength: TITLE_MAX_LENGTH,
    description: `Trimmed, then 1 to ${TITLE_MAX_LENGTH} characters (Unicode code points).`,
  })
  @Transform(trim)
  @IsString({
    message: ({ value }) => (value === undefined ? 'title is required' : 'title must be a string'),
  })
  @HasCodePointLength(1, TITLE_MAX_LENGTH)
  @IsStorableText()
  title!: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'Semi-skimmed, 2 litres',
    maxLength: DESCRIPTION_MAX_LENGTH,
    description: `Up to ${DESCRIPTION_MAX_LENGTH} characters (Unicode code points), or null.`,
  })
  @IsOptional()
  @IsString()
  @HasCodePointLength(0, DESCRIPTION_MAX_LENGTH)
  @IsStorableText()
  description?: string | null;

  @ApiPropertyOptional({ default: false })
  // Optional, but not nullable: null is refused rather than stored as "not completed".
  @ValidateIf((_, value) => value !== undefined)
  @IsBoolean()
  completed?: boolean;
}
