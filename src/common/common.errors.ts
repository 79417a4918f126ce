import { ValidationError } from '@nestjs/common';
import { FieldError, ProblemException } from './problem.exception';

/** What a client waits before retrying a dependency that is down, unless the error says otherwise. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** A request that failed validation; carries one entry per offending field. */
export class RequestValidationException extends ProblemException {
  constructor(fieldErrors: FieldError[]) {
    super(400, `Request validation failed: ${fieldErrors.map((e) => e.field).join(', ')}.`, {
      errors: fieldErrors,
    });
  }

  static fromValidationErrors(errors: ValidationError[]): RequestValidationException {
    return new RequestValidationException(flatten(errors, ''));
  }
}

function flatten(errors: ValidationError[], prefix: string): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * Something needed is down for now. A 503 with Retry-After tells clients to back off and retry
 * instead of treating the failure as final; `detail` must be a fixed, safe sentence.
 */
export class RetryableUnavailableException extends ProblemException {
  constructor(
    detail: string,
    readonly retryAfterSeconds = DEFAULT_RETRY_AFTER_SECONDS,
    options: { logged?: boolean; cause?: unknown } = {},
  ) {
    super(503, detail, { ...options, headers: { 'retry-after': String(retryAfterSeconds) } });
  }
}

/** A body in another charset than UTF-8: read as UTF-8 it would be stored as other text. */
export class UnsupportedCharsetException extends ProblemException {
  constructor() {
    super(415, 'Unsupported charset: send the JSON body in UTF-8.');
  }
}

/**
 * A body with a content coding (gzip, br, …). It is refused rather than decoded: decoding opens
 * the door to decompression bombs past the body limit, and reading it as plain JSON would either
 * fail with a misleading message or store bytes the client did not mean.
 */
export class UnsupportedContentEncodingException extends ProblemException {
  constructor() {
    // RFC 9110 §15.5.16: a 415 caused by a content coding says which codings are accepted.
    super(415, 'Unsupported Content-Encoding: send the body without a content coding.', {
      headers: { 'accept-encoding': 'identity' },
    });
  }
}
