import { FastifyRequest } from 'fastify';
import { InvalidTokenException, MissingTokenException } from './auth.errors';

/** `Bearer`, any case, one or more spaces, then exactly one token and nothing else. */
const BEARER_HEADER = /^bearer +([^\s]+)$/i;

/** Whether the request carries an Authorization header at all (even an empty or duplicated one). */
export function hasAuthorizationHeader(request: FastifyRequest): boolean {
  return request.headers.authorization !== undefined;
}

/**
 * Reads the token from the Authorization header and nowhere else: query strings and cookies
 * leak into logs and invite CSRF, so they are never consulted.
 */
export function extractBearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined) throw new MissingTokenException();
  // Node keeps only the first of duplicated Authorization headers; a second one is ambiguous
  // (which credential did the proxy check?), so it is refused instead of silently dropped.
  if (countAuthorizationHeaders(request.raw.rawHeaders) > 1) {
    throw new InvalidTokenException('multiple authorization headers');
  }
  const match = BEARER_HEADER.exec(header);
  if (!match) {
    if (/^bearer\s*$/i.test(header)) throw new InvalidTokenException('empty bearer token');
    throw new InvalidTokenException('authorization header must be Bearer <token>');
  }
  return match[1];
}

function countAuthorizationHeaders(rawHeaders: string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].length === 13 && rawHeaders[i].toLowerCase() === 'authorization') count++;
  }
  return count;
}
