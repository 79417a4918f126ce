import { RetryableUnavailableException } from '../common/common.errors';

/** Seconds a client should wait before retrying while the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * The database cannot be reached right now. A 503 with Retry-After rather than a 500: the
 * request may well succeed once the database is back, and the pool reconnects by itself. The
 * driver's error rides along as the cause, for the log only.
 */
export class DatabaseUnavailableException extends RetryableUnavailableException {
  constructor(cause: unknown) {
    super('The database is unavailable; retry shortly.', DATABASE_RETRY_AFTER_SECONDS, { cause });
  }
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection is not established',
];

/**
 * Whether an error means "the database cannot be reached right now", as opposed to a bug or a
 * bad query, which must stay a 500. Looks through TypeORM's and pg's wrappers to the cause.
 */
export function isDatabaseUnavailableError(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    const { code, message, driverError, cause } = current as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) {
      return true;
    }
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) {
      return true;
    }
    current = driverError ?? cause;
  }
  return false;
}

/**
 * What code calling the database rethrows: a connection failure as DatabaseUnavailableException,
 * any other error unchanged.
 */
export function translateDatabaseError(error: unknown): unknown {
  return isDatabaseUnavailableError(error) ? new DatabaseUnavailableException(error) : error;
}
