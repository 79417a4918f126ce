import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'FieldError' })
export class FieldErrorDto {
  @ApiProperty({ example: 'title', description: 'The request field at fault (dotted path).' })
  field!: string;

  @ApiProperty({ example: 'title must be between 1 and 200 characters' })
  message!: string;
}

/** RFC 9457 problem details: the body of every error response. */
@ApiSchema({ name: 'Problem' })
export class ProblemDto {
  @ApiProperty({ example: 'about:blank' })
  type!: string;

  @ApiProperty({ example: 'Not Found' })
  title!: string;

  @ApiProperty({ example: 404 })
  status!: number;

  @ApiProperty({ example: 'Todo not found.' })
  detail!: string;

  @ApiProperty({ example: '/api/todos/1f0c5a0e-8a43-4c55-9c0e-0a3f1b1d2c3e' })
  instance!: string;

  @ApiProperty({ example: 'req-7f3a9c', description: 'Correlates the response with server logs.' })
  requestId!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Present on validation errors.' })
  errors?: FieldErrorDto[];
}
