import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { ApiProblemResponse } from '../common/api-problem-response.decorator';

/** OpenAPI description of the ETag response header. */
export const ETAG_RESPONSE_HEADER = {
  ETag: {
    description: 'The version of the todo (a strong ETag). Send it back in If-Match.',
    schema: { type: 'string', example: '"3"' },
  },
};

/** The `:id` routes: a bad id or header is 400; another user's todo is the same 404 as none. */
export const ApiTodoByIdProblems = () =>
  applyDecorators(
    ApiProblemResponse(
      HttpStatus.BAD_REQUEST,
      'Validation failed; `errors` names each field (`id` when the path id is not a UUID).',
    ),
    ApiProblemResponse(
      HttpStatus.NOT_FOUND,
      'No such todo for the caller: the same answer whether it does not exist or is not theirs.',
    ),
  );

/** Routes with a JSON body. */
export const ApiJsonBodyProblems = () =>
  applyDecorators(
    ApiProblemResponse(HttpStatus.PAYLOAD_TOO_LARGE, 'The body exceeds 64 KiB.'),
    ApiProblemResponse(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'The body is not application/json.'),
  );

/** Routes that honour If-Match. */
export const ApiIfMatch = () =>
  applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: false,
      description:
        'An ETag from a previous response, or *: the change happens only if the todo is still ' +
        'at that version. Without it, the last write wins.',
    }),
    ApiProblemResponse(
      HttpStatus.PRECONDITION_FAILED,
      'If-Match does not name the current version: someone changed the todo meanwhile.',
    ),
  );
