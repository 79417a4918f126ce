import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { RequestValidationException } from '../common/common.errors';

/** 8-4-4-4-12 hex digits, any case, any version: what PostgreSQL's uuid type reads back the same. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `:id` path parameter: anything but a UUID is a 400 naming `id`, the answer the global
 * ValidationPipe gives a DTO field, before any query runs. A pipe rather than a DTO because every
 * request to one todo pays for it: through class-transformer and class-validator one regular
 * expression cost several microseconds per request (`npm run bench -- --cpu-prof`).
 */
@Injectable()
export class TodoIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value === 'string' && UUID.test(value)) return value;
    throw new RequestValidationException([{ field: 'id', message: 'id must be a UUID' }]);
  }
}

/** Documents the `:id` that TodoIdPipe checks. */
export const ApiTodoIdParam = () =>
  ApiParam({ name: 'id', format: 'uuid', description: 'The todo id.' });
