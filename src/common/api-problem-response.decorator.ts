import { ApiResponse, getSchemaPath } from '@nestjs/swagger';
import type { ResponseObject } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from './problem-details.filter';
import { ProblemExample } from './problem-example';
import { ProblemDto } from './problem.dto';

/** A response header, e.g. Retry-After. */
export interface ProblemHeader {
  description: string;
  schema: { type: 'integer' | 'string'; example?: number | string };
}

/** Retry-After on a 429 or 503, with a typical value as its example. */
export const retryAfterHeader = (seconds: number): Record<string, ProblemHeader> => ({
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    schema: { type: 'integer', example: seconds },
  },
});

/**
 * The 503 of any dependency that is down (the database, the key server): one text, because an
 * operation that needs both documents one 503 with the examples of each.
 */
export const DEPENDENCY_UNAVAILABLE_DESCRIPTION =
  'A dependency is down for now; the token may be fine. Retry after Retry-After, and do ' +
  'not sign the user out.';

/** One documented error answer of one operation. */
export interface ProblemResponse {
  description: string;
  /**
   * What the client receives, by name (`missingToken`, `invalidToken`, …). Each operation passes
   * its own, so Swagger UI never shows one route's error under another.
   */
  examples: Record<string, ProblemExample>;
  headers?: Record<string, ProblemHeader>;
}

/** An error answer as OpenAPI describes it: application/problem+json (RFC 9457) with examples. */
export function problemResponse({ description, examples, headers }: ProblemResponse) {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: {
      [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) }, examples },
    },
  } satisfies ResponseObject;
}

/** Documents an error answer as what it is on the wire, with the headers that come with it. */
export const ApiProblemResponse = (status: number, response: ProblemResponse) =>
  ApiResponse({ status, ...problemResponse(response) });
