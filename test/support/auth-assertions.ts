import { Reply } from './http';
import { expectProblem } from './problem';
import { TestApp } from './test-app';

/** The message the verifier gives for a bearer value that is not a JWT at all. */
export const NOT_A_JWT = 'not a JWT; send the JWT from GET /api/auth/token';

/** RFC 6750 challenge for a request without credentials. */
export const BEARER_CHALLENGE = 'Bearer realm="api"';

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
 * Asserts the whole refusal contract: exact status, exact challenge (or Retry-After for 503), an
 * RFC 9457 body, exactly one warn log line for the request that carries the request id and the
 * reason, and no token material in any log line.
 */
export function expectRefused(api: TestApp, response: Reply, expected: ExpectedRefusal) {
  const status = expected.status ?? 401;
  const body = expectProblem(response, {
    status,
    wwwAuthenticate:
      status === 503
        ? null
        : expected.reason === undefined
          ? BEARER_CHALLENGE
          : invalidTokenChallenge(expected.reason),
    retryAfter: status === 503 ? expect.stringMatching(/^[1-9]\d*$/) : null,
    instance: expected.path ?? '/api/profile',
  });

  const warnings = api.logs.forRequest(response, { level: 'warn' });
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatchObject({
    msg: 'authentication refused',
    reason: status === 503 ? 'signing keys unavailable' : (expected.reason ?? 'no bearer token'),
  });
  for (const secret of expected.secrets ?? []) {
    if (secret.length >= 16) api.logs.expectNever(secret);
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
export function expectAccepted(response: Reply, sub: string): void {
  const body = safeJson(response.text);
  expect({ status: response.status, body }).toMatchObject({ status: 200, body: { id: sub } });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
