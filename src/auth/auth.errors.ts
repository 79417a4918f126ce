import { RetryableUnavailableException } from '../common/common.errors';
import { ProblemException } from '../common/problem.exception';

/** RFC 6750 challenge for requests that carry no credentials. */
export const BEARER_CHALLENGE = 'Bearer realm="api"';

/** Seconds a client should wait before retrying when our key server cannot be reached. */
export const KEYS_RETRY_AFTER_SECONDS = 5;

/**
 * The request carried no bearer token at all. The challenge (RFC 6750) tells the client which
 * scheme to use.
 */
export class MissingTokenException extends ProblemException {
  readonly challenge = BEARER_CHALLENGE;
  readonly reason = 'no bearer token';

  constructor() {
    super(401, 'A bearer token is required: send Authorization: Bearer <jwt>.', {
      headers: { 'www-authenticate': BEARER_CHALLENGE },
    });
  }
}

/**
 * A token was sent and failed a check. `reason` is a short fixed phrase safe for a header; it
 * names the failed check so a client developer can fix the call, and never echoes token data.
 */
export class InvalidTokenException extends ProblemException {
  readonly challenge: string;

  constructor(
    readonly reason: string,
    detail = `The bearer token was rejected: ${reason}.`,
  ) {
    const challenge = `${BEARER_CHALLENGE}, error="invalid_token", error_description="${reason}"`;
    super(401, detail, { headers: { 'www-authenticate': challenge } });
    this.challenge = challenge;
  }
}

/**
 * A token whose signature verified, from the configured issuer for this audience, but outside
 * its time window (expired, not yet valid, issued in the future). Its holder is a real client
 * that must see this 401 to refresh its token, so it never counts as a failed attempt.
 */
export class TokenOutsideTimeWindowException extends InvalidTokenException {}

/**
 * The signing keys cannot be obtained right now; the token may well be valid, so 503 (retry)
 * rather than 401 (give up). The JWT guard logs the refusal, hence `logged`.
 */
export class KeysUnavailableException extends RetryableUnavailableException {
  readonly reason = 'signing keys unavailable';

  constructor() {
    super(
      'The signing keys needed to check this token cannot be fetched right now; retry later.',
      KEYS_RETRY_AFTER_SECONDS,
      { logged: true },
    );
  }
}
