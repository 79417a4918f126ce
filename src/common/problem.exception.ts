import { HttpException } from '@nestjs/common';

/** One entry of a validation problem's `errors` array. */
export interface FieldError {
  field: string;
  message: string;
}

export interface ProblemOptions {
  /** Response headers that belong to the answer (`WWW-Authenticate`, `Retry-After`, …). */
  headers?: Record<string, string>;
  /** Per-field validation messages, answered as the problem's `errors` member. */
  errors?: FieldError[];
  /** The code that threw it has already logged the event; the filter must not log it again. */
  logged?: boolean;
  /** The underlying failure: logged by the filter, never sent to the client. */
  cause?: unknown;
}

/**
 * The one base for every error a feature answers with. A feature declares its own subclasses in
 * its folder (`<feature>.errors.ts`); the global filter turns any of them into an RFC 9457
 * problem+json body without knowing the feature, so adding a feature never edits `common/`.
 * `detail` is sent to the client as is: it must be a fixed, safe sentence, never a library or
 * driver message.
 */
export class ProblemException extends HttpException {
  readonly headers: Readonly<Record<string, string>>;
  readonly fieldErrors: readonly FieldError[] | undefined;
  readonly logged: boolean;

  constructor(status: number, detail: string, options: ProblemOptions = {}) {
    super(detail, status, options.cause === undefined ? undefined : { cause: options.cause });
    this.headers = options.headers ?? {};
    this.fieldErrors = options.errors;
    this.logged = options.logged ?? false;
  }
}
