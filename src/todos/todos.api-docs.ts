import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { ApiJsonBodyProblems } from '../common/api-json-body-problems.decorator';
import {
  ApiProblemResponse,
  DEPENDENCY_UNAVAILABLE_DESCRIPTION,
  retryAfterHeader,
} from '../common/api-problem-response.decorator';
import { RequestValidationException } from '../common/common.errors';
import { ProblemExample, problemExample } from '../common/problem-example';
import { FieldError } from '../common/problem.exception';
import {
  DATABASE_RETRY_AFTER_SECONDS,
  DatabaseUnavailableException,
} from '../database/database.errors';
import { LIST_LIMIT_MAX, TITLE_MAX_LENGTH } from './todo.limits';
import {
  TodoLimitReachedException,
  TodoNotFoundException,
  TodoVersionMismatchException,
} from './todos.errors';

const TODOS = '/api/todos';
const TODO = '/api/todos/{id}';

/** OpenAPI description of the ETag response header. */
export const ETAG_RESPONSE_HEADER = {
  ETag: {
    description: 'The version of the todo (a strong ETag). Send it back in If-Match.',
    schema: { type: 'string', example: '"3"' },
  },
};

const invalid = (summary: string, path: string, ...errors: FieldError[]): ProblemExample =>
  problemExample(summary, new RequestValidationException(errors), path);

const invalidId = (path: string) =>
  invalid('The path id is not a UUID', path, { field: 'id', message: 'id must be a UUID' });

const titleTooLong = (path: string) =>
  invalid('A title over the limit', path, {
    field: 'title',
    message: `title must be between 1 and ${TITLE_MAX_LENGTH} characters long`,
  });

const validationFailed = (...examples: [string, ProblemExample][]) =>
  ApiProblemResponse(HttpStatus.BAD_REQUEST, {
    description: 'Validation failed: `errors` names each field at fault and why.',
    examples: Object.fromEntries(examples),
  });

const notFound = (path: string) =>
  ApiProblemResponse(HttpStatus.NOT_FOUND, {
    description:
      'No such todo for the caller: the same answer whether it does not exist or is not theirs.',
    examples: { notFound: problemExample('No such todo', new TodoNotFoundException(), path) },
  });

const versionMismatch = (path: string) =>
  ApiProblemResponse(HttpStatus.PRECONDITION_FAILED, {
    description: 'If-Match does not name the current version: someone changed the todo meanwhile.',
    examples: {
      versionMismatch: problemExample(
        'Changed since the ETag was read: GET it again',
        new TodoVersionMismatchException(),
        path,
      ),
    },
  });

/** Every route reads the database; the auth documentation adds the key server's 503 to this. */
const databaseUnavailable = (path: string) =>
  ApiProblemResponse(HttpStatus.SERVICE_UNAVAILABLE, {
    description: DEPENDENCY_UNAVAILABLE_DESCRIPTION,
    headers: retryAfterHeader(DATABASE_RETRY_AFTER_SECONDS),
    examples: {
      databaseUnavailable: problemExample(
        'The database cannot be reached',
        new DatabaseUnavailableException(undefined),
        path,
      ),
    },
  });

/** GET /api/todos */
export const ApiListTodosProblems = () =>
  applyDecorators(
    validationFailed(
      [
        'invalidLimit',
        invalid('A limit out of range', TODOS, {
          field: 'limit',
          message: `limit must be an integer from 1 to ${LIST_LIMIT_MAX}`,
        }),
      ],
      [
        'invalidCursor',
        invalid('A cursor that no page returned', TODOS, {
          field: 'cursor',
          message: "cursor must be a previous page's nextCursor",
        }),
      ],
    ),
    databaseUnavailable(TODOS),
  );

/** POST /api/todos */
export const ApiCreateTodoProblems = () =>
  applyDecorators(
    validationFailed(
      [
        'missingTitle',
        invalid('No title', TODOS, { field: 'title', message: 'title is required' }),
      ],
      ['titleTooLong', titleTooLong(TODOS)],
      [
        'serverOwnedField',
        invalid('A field the server sets', TODOS, {
          field: 'id',
          message: 'property id should not exist',
        }),
      ],
    ),
    ApiJsonBodyProblems(TODOS),
    ApiProblemResponse(HttpStatus.CONFLICT, {
      description:
        'The caller already holds TODOS_MAX_PER_USER todos; `detail` names the limit. Delete ' +
        'some, then retry.',
      examples: {
        limitReached: problemExample(
          'At the per-user limit (10000 by default)',
          new TodoLimitReachedException(10_000),
          TODOS,
        ),
      },
    }),
    databaseUnavailable(TODOS),
  );

/** GET /api/todos/{id} */
export const ApiGetTodoProblems = () =>
  applyDecorators(
    validationFailed(['invalidId', invalidId(TODO)]),
    notFound(TODO),
    databaseUnavailable(TODO),
  );

/** PATCH /api/todos/{id} */
export const ApiUpdateTodoProblems = () =>
  applyDecorators(
    validationFailed(
      ['invalidId', invalidId(TODO)],
      ['titleTooLong', titleTooLong(TODO)],
      [
        'nothingToChange',
        invalid('An empty body', TODO, {
          field: 'body',
          message: 'send at least one of title, description, completed',
        }),
      ],
    ),
    notFound(TODO),
    versionMismatch(TODO),
    ApiJsonBodyProblems(TODO),
    databaseUnavailable(TODO),
  );

/** DELETE /api/todos/{id} */
export const ApiDeleteTodoProblems = () =>
  applyDecorators(
    validationFailed(['invalidId', invalidId(TODO)]),
    notFound(TODO),
    versionMismatch(TODO),
    databaseUnavailable(TODO),
  );

/** Routes that honour If-Match. */
export const ApiIfMatch = () =>
  ApiHeader({
    name: 'If-Match',
    required: false,
    description:
      'An ETag from a previous response, or *: the change happens only if the todo is still ' +
      'at that version. Without it, the last write wins.',
  });
