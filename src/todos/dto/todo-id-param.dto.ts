import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

/** The `:id` path parameter: anything but a UUID is a 400 naming `id`, before any query runs. */
export class TodoIdParamDto {
  @ApiProperty({ format: 'uuid', description: 'The todo id.' })
  @IsUUID('loose', { message: 'id must be a UUID' })
  id!: string;
}
