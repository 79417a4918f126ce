import { UnauthorizedException } from '@nestjs/common';
import { RetryableUnavailableException } from '../common/retryable-unavailable.exception';

/** RFC 6750 challenge for requests that carry no credentials. */
export const BEARER_CHALLENGE = 'Bearer realm="api"';

/** Seconds a client should wait before retrying when our key server cannot be reached. */
export const KEYS_RETRY_AFTER_SECONDS = 5;

/** The request carried no bearer token at all. */
export class MissingTokenException extends UnauthorizedException {
  readonly challenge = BEARER_CHALLENGE;
  readonly reason = 'no bearer token';

  constructor() {
    super('A bearer token is required: send Authorization: Bearer <jwt>.');
  }
}

/**
 * A token was sent and failed a check. `reason` is a short fixed phrase safe for a header; it
 * names the failed check so a client developer can fix the call, and never echoes token data.
 */
export class InvalidTokenException extends UnauthorizedException {
  readonly challenge: string;

  constructor(
    readonly reason: string,
    detail = `The bearer token was rejected: ${reason}.`,
  ) {
    super(detail);
    this.challenge = `${BEARER_CHALLENGE}, error="invalid_token", error_description="${reason}"`;
  }
}

/** The signing keys cannot be obtained right now; the token may well be valid. */
export class KeysUnavailableException extends RetryableUnavailableException {
  readonly reason = 'signing keys unavailable';

  constructor() {
    super(
      'The signing keys needed to check this token cannot be fetched right now; retry later.',
      KEYS_RETRY_AFTER_SECONDS,
    );
  }
}
