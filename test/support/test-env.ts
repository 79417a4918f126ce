/**
 * Limits no suite reaches: the rate limiter's counters live in the shared test database, so a
 * suite that sends many requests would otherwise be throttled by its own or another suite's
 * traffic. Only the rate-limit suite sets limits of its own.
 */
export const THROTTLE_OFF: Record<string, string> = {
  THROTTLE_ANONYMOUS_LIMIT: '1000000',
  THROTTLE_USER_LIMIT: '1000000',
};

/**
 * Every refusal logged: suites assert one log line per refused request, faster than the
 * production budget of lines per second. The refusal-log suite sets a budget of its own.
 */
export const REFUSAL_LOGS_ALL: Record<string, string> = { LOG_REFUSALS_PER_SECOND: '1000000' };

/**
 * Metrics off unless a suite asks for them: at their default port, suites running in parallel
 * would collide. A suite that scrapes passes a free port of its own.
 */
export const METRICS_OFF: Record<string, string> = { METRICS_PORT: '0' };

/** The environment every in-process test app starts from; a suite's own values go on top. */
export function testAppEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: testDatabaseUrl(),
    MIGRATIONS_RUN: 'false',
    LOG_LEVEL: 'info',
    ...THROTTLE_OFF,
    ...REFUSAL_LOGS_ALL,
    ...METRICS_OFF,
    ...env,
  };
}

/** The PostgreSQL the e2e global setup started and migrated. */
export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: the e2e global setup did not run');
  return url;
}
