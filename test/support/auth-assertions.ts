import { RawResponse } from './raw-http';
import { TestApp } from './test-app';

/** RFC 6750 challenge for a request without credentials. */
export const BEARER_CHALLENGE = 'Bearer realm="api"';

/**
 * Environment every auth test app gets on top of its own: rate limits out of the way, since these
 * suites send hundreds of refused requests from one address on purpose.
 */
export const AUTH_TEST_ENV: Record<string, string> = {
  THROTTLE_ANONYMOUS_LIMIT: '1000000',
  THROTTLE_USER_LIMIT: '1000000',
};

export function invalidTokenChallenge(reason: string): string {
  return `${BEARER_CHALLENGE}, error="invalid_token", error_description="${reason}"`;
}

export interface ExpectedRefusal {
  /** 401 (default) or 503 (keys unobtainable). */
  status?: 401 | 503;
  /** The `error_description`; undefined means the request carried no token (plain challenge). */
  reason?: string;
  /** Values that must never reach the logs (the token, its signature). */
  secrets?: string[];
  /** The request path, for the problem's `instance` (default /api/profile). */
  path?: string;
}

/**
 * Asserts the whole refusal contract (SPEC §4, §6): exact status, exact challenge (or
 * Retry-After for 503), an RFC 9457 body, exactly one warn log line for the request that carries
 * the request id and the reason, and no token material in any log line.
 */
export function expectRefused(api: TestApp, response: RawResponse, expected: ExpectedRefusal) {
  const status = expected.status ?? 401;
  const requestId = response.headers['x-request-id'];
  expect({
    status: response.status,
    wwwAuthenticate: response.headers['www-authenticate'],
    retryAfter: response.headers['retry-after'],
    contentType: response.headers['content-type'],
  }).toEqual({
    status,
    wwwAuthenticate:
      status === 503
        ? undefined
        : expected.reason === undefined
          ? BEARER_CHALLENGE
          : invalidTokenChallenge(expected.reason),
    retryAfter: status === 503 ? expect.stringMatching(/^[1-9]\d*$/) : undefined,
    contentType: expect.stringMatching(/^application\/problem\+json/),
  });
  expect(typeof requestId).toBe('string');

  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(body).toMatchObject({
    type: 'about:blank',
    title: status === 503 ? 'Service Unavailable' : 'Unauthorized',
    status,
    detail: expect.any(String),
    instance: expected.path ?? '/api/profile',
  });

  const warnings = api.logs.filter((line) => line.requestId === requestId && line.level === 'warn');
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatchObject({
    msg: 'authentication refused',
    reason: status === 503 ? 'signing keys unavailable' : (expected.reason ?? 'no bearer token'),
  });
  const logs = api.rawLogs();
  for (const secret of expected.secrets ?? []) {
    if (secret.length >= 16) expect(logs.includes(secret)).toBe(false);
  }
  return body;
}

/**
 * Parts of a token that must not reach the logs: the token and its payload and signature
 * segments (the header segment is shared by every token of a key, so it proves nothing).
 */
export function tokenSecrets(token: string): string[] {
  return [token, ...token.split('.').slice(1)];
}

/** The request was let through as `sub`. */
export function expectAccepted(response: RawResponse, sub: string): void {
  const body = safeJson(response.body);
  expect({ status: response.status, body }).toMatchObject({ status: 200, body: { id: sub } });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
