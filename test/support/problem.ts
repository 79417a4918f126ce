import { STATUS_CODES } from 'node:http';
import { Reply } from './http';

/** Text that must never reach a client: SQL, driver errors, stack frames. */
export const LEAKS = /QueryFailedError|SELECT|INSERT|UPDATE|at .*\.js/;

export interface ExpectedProblem {
  status: number;
  /** The exact `detail`; any string when undefined. */
  detail?: string;
  /**
   * The `instance`; the path the request was sent to when undefined; null for none (an error
   * raised before the request line was read has no path).
   */
  instance?: string | null;
  /** The fields of `errors`, exactly and in order, each with a message. */
  errors?: string[];
  /** The WWW-Authenticate value (a string or a matcher), or null for none; unchecked if undefined. */
  wwwAuthenticate?: unknown;
  /** The Retry-After value (a string or a matcher), or null for none; not checked when undefined. */
  retryAfter?: unknown;
}

/**
 * The reply is an RFC 9457 problem: the exact status, `application/problem+json`, the body
 * `{type, title, status, detail, instance}` (plus `errors` when expected), the challenge and
 * Retry-After headers when given, and nothing from the database or a stack trace in it.
 * Returns the parsed body for further checks.
 */
export function expectProblem(reply: Reply, expected: ExpectedProblem): Record<string, unknown> {
  const { status } = expected;
  const seen: Record<string, unknown> = {
    status: reply.status,
    contentType: reply.headers.get('content-type'),
  };
  const wanted: Record<string, unknown> = {
    status,
    contentType: expect.stringMatching(/^application\/problem\+json/),
  };
  if (expected.wwwAuthenticate !== undefined) {
    seen.wwwAuthenticate = reply.headers.get('www-authenticate');
    wanted.wwwAuthenticate = expected.wwwAuthenticate;
  }
  if (expected.retryAfter !== undefined) {
    seen.retryAfter = reply.headers.get('retry-after');
    wanted.retryAfter = expected.retryAfter;
  }
  expect(seen).toEqual(wanted);

  const body = reply.body as Record<string, unknown>;
  expect(body).toMatchObject({
    type: 'about:blank',
    title: STATUS_CODES[status],
    status,
    detail: expected.detail ?? expect.any(String),
    ...(expected.instance === null ? {} : { instance: expected.instance ?? reply.path }),
  });
  if (expected.instance === null) expect(body).not.toHaveProperty('instance');
  if (expected.errors !== undefined) {
    expect(body.errors).toEqual(
      expected.errors.map((field) => ({ field, message: expect.any(String) })),
    );
  }
  expect(reply.text).not.toMatch(LEAKS);
  return body;
}
