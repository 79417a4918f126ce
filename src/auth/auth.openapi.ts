import { OpenAPIObject } from '@nestjs/swagger';
import type { ResponseObject } from '@nestjs/swagger';
import {
  ProblemHeader,
  ProblemResponse,
  problemResponse,
} from '../common/api-problem-response.decorator';
import { TOO_MANY_REQUESTS_DETAIL } from '../common/problem-details.filter';
import { problemExample } from '../common/problem-example';
import { BEARER_SCHEME } from '../common/swagger';
import {
  InvalidTokenException,
  KEYS_RETRY_AFTER_SECONDS,
  KeysUnavailableException,
  MissingTokenException,
} from './auth.errors';
import { AUTH_MODE_EXTENSION } from './decorators/public.decorator';

const RETRY_AFTER: Record<string, ProblemHeader> = {
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    schema: { type: 'integer', example: KEYS_RETRY_AFTER_SECONDS },
  },
};

const WWW_AUTHENTICATE: Record<string, ProblemHeader> = {
  'WWW-Authenticate': {
    description:
      'Bearer realm="api" without a token; with a bad one, also error="invalid_token" and ' +
      'error_description naming the failed check (e.g. "token expired": fetch a new token).',
    schema: { type: 'string', example: new InvalidTokenException('token expired').challenge },
  },
};

/** The answers the guard and the rate limiter give on any operation that takes a token. */
function authProblems(path: string): Record<string, ProblemResponse> {
  return {
    '401': {
      description: 'No bearer token, or one that failed a check (see WWW-Authenticate).',
      headers: WWW_AUTHENTICATE,
      examples: {
        missingToken: problemExample('No Authorization header', new MissingTokenException(), path),
        expiredToken: problemExample(
          'An expired token: get a new one and retry once',
          new InvalidTokenException('token expired'),
          path,
        ),
        invalidToken: problemExample(
          'A token whose signature does not verify',
          new InvalidTokenException('signature verification failed'),
          path,
        ),
      },
    },
    '429': {
      description:
        'Too many requests: per user, or per address for anonymous calls and failed sign-ins.',
      headers: RETRY_AFTER,
      examples: {
        tooManyRequests: problemExample(
          'Over the rate limit',
          { status: 429, detail: TOO_MANY_REQUESTS_DETAIL },
          path,
        ),
      },
    },
    '503': {
      description:
        'A dependency is down for now; the token may be fine. Retry after Retry-After, and do ' +
        'not sign the user out.',
      headers: RETRY_AFTER,
      examples: {
        keysUnavailable: problemExample(
          'The signing keys cannot be fetched',
          new KeysUnavailableException(),
          path,
        ),
      },
    },
  };
}

/**
 * Adds a documented answer, or merges its examples into the one the operation already documents
 * (a data route's 503 for its database, say), so every reason for a status is shown.
 */
function addProblem(
  responses: Record<string, ResponseObject>,
  status: string,
  problem: ProblemResponse,
): void {
  const existing = responses[status];
  const added = problemResponse(problem);
  if (!existing) {
    responses[status] = added;
    return;
  }
  for (const [type, media] of Object.entries(existing.content ?? {})) {
    const addedMedia = added.content[type as keyof typeof added.content];
    if (addedMedia) media.examples = { ...media.examples, ...addedMedia.examples };
  }
}

/**
 * Every operation requires the bearer token unless @Public() or @OptionalAuth() marked it:
 * the same metadata the guard reads, so the document cannot drift from the guard. Operations
 * that take a token also document their 401, 429 and 503 answers here, once.
 */
export function documentAuthModes(document: OpenAPIObject): void {
  for (const [path, pathItem] of Object.entries(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = pathItem[method];
      if (!operation) continue;
      const extensions = operation as unknown as Record<string, unknown>;
      const mode = extensions[AUTH_MODE_EXTENSION];
      delete extensions[AUTH_MODE_EXTENSION];
      if (mode === 'public') {
        operation.security = [];
        continue;
      }
      operation.security =
        mode === 'optional' ? [{}, { [BEARER_SCHEME]: [] }] : [{ [BEARER_SCHEME]: [] }];
      const responses = operation.responses as Record<string, ResponseObject>;
      for (const [status, problem] of Object.entries(authProblems(path))) {
        addProblem(responses, status, problem);
      }
    }
  }
}
