import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiProblemResponse } from './api-problem-response.decorator';
import { UnsupportedCharsetException, UnsupportedContentEncodingException } from './common.errors';
import { FASTIFY_ERRORS } from './problem-details.filter';
import { problemExample } from './problem-example';

/**
 * Documents the answers of any route with a JSON body at `path`: Fastify refuses what is too
 * large or not JSON before Nest sees it.
 */
export const ApiJsonBodyProblems = (path: string) =>
  applyDecorators(
    ApiProblemResponse(HttpStatus.PAYLOAD_TOO_LARGE, {
      description: 'The body exceeds 64 KiB.',
      examples: {
        bodyTooLarge: problemExample(
          'A body over 64 KiB',
          { status: 413, detail: FASTIFY_ERRORS.FST_ERR_CTP_BODY_TOO_LARGE },
          path,
        ),
      },
    }),
    ApiProblemResponse(HttpStatus.UNSUPPORTED_MEDIA_TYPE, {
      description:
        'The body is not application/json, names a charset other than UTF-8, or has a ' +
        'Content-Encoding other than identity (then Accept-Encoding: identity says so).',
      examples: {
        notJson: problemExample(
          'Content-Type: text/plain',
          { status: 415, detail: FASTIFY_ERRORS.FST_ERR_CTP_INVALID_MEDIA_TYPE },
          path,
        ),
        notUtf8: problemExample(
          'Content-Type: application/json; charset=latin1',
          new UnsupportedCharsetException(),
          path,
        ),
        contentCoding: problemExample(
          'Content-Encoding: gzip',
          new UnsupportedContentEncodingException(),
          path,
        ),
      },
    }),
  );
