import { ServiceUnavailableException } from '@nestjs/common';

/**
 * A dependency is down for now. Answered as 503 with Retry-After and this exception's own
 * (safe, fixed) message, so clients back off and retry instead of treating it as final.
 */
export class RetryableUnavailableException extends ServiceUnavailableException {
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(message);
  }
}
