import { QueryFailedError } from 'typeorm';
import {
  DATABASE_RETRY_AFTER_SECONDS,
  DatabaseUnavailableException,
  translateDatabaseError,
} from './database.errors';

const SECRET_TEXT = 'relation "todos" violates SELECT * FROM users WHERE password = $1';

describe('translateDatabaseError', () => {
  it.each([
    [
      'ECONNREFUSED from the driver',
      Object.assign(new Error(SECRET_TEXT), { code: 'ECONNREFUSED' }),
    ],
    [
      'a QueryFailedError for admin_shutdown (57P01)',
      new QueryFailedError(
        'SELECT 1',
        [],
        Object.assign(new Error('terminating connection due to administrator command'), {
          code: '57P01',
        }),
      ),
    ],
    ['a pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a connection class 08 error', Object.assign(new Error(SECRET_TEXT), { code: '08006' })],
    [
      'a terminated connection wrapped as a cause',
      new Error('query failed', { cause: new Error('Connection terminated unexpectedly') }),
    ],
  ])('turns %s into a 503 with Retry-After and no driver text', (_, error) => {
    const translated = translateDatabaseError(error);
    expect(translated).toBeInstanceOf(DatabaseUnavailableException);
    const problem = translated as DatabaseUnavailableException;
    expect(problem.getStatus()).toBe(503);
    expect(problem.headers).toEqual({ 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) });
    expect(problem.message).toBe('The database is unavailable; retry shortly.');
    expect(problem.message).not.toMatch(/SELECT|password|terminat|timeout|57P01/);
    // The driver's error stays on the exception for the log, and only there.
    expect(problem.cause).toBe(error);
    // Not logged where it was thrown: the filter logs it, once.
    expect(problem.logged).toBe(false);
  });

  it.each([
    [
      'a bad query (a unique violation)',
      new QueryFailedError('INSERT', [], Object.assign(new Error(SECRET_TEXT), { code: '23505' })),
    ],
    ['a bug', new TypeError(SECRET_TEXT)],
    ['a thrown string', SECRET_TEXT],
  ])('leaves %s as it is (a 500, not an outage)', (_, error) => {
    expect(translateDatabaseError(error)).toBe(error);
  });
});
