import { RetryableUnavailableException } from '../common/common.errors';
import { ProblemException } from '../common/problem.exception';

/** RFC 6750 challenge for requests that carry no credentials. */
export const BEARER_CHALLENGE = 'Bearer realm="api"';

/** Seconds a client should wait before retrying when our key server cannot be reached. */
export const KEYS_RETRY_AFTER_SECONDS = 5;

/**
 * The request carried no bearer token at all. The challenge (RFC 6750) tells the client which
 * scheme to use.
 */
export class MissingTokenException extends ProblemException {
  readonly challenge = BEARER_CHALLENGE;
  readonly reason = 'no bearer token';

  constructor() {
    super(401, 'A bearer token is required: send Authorization: Bearer <jwt>.', {
      headers: { 'www-authenticate': BEARER_CHALLENGE },
    });
  }
}

/**
 * A token was sent and failed a check. `reason` is a short fixed phrase safe for a header; it
 * names the failed check so a client developer can fix the call, and never echoes token data.
 */
export class InvalidTokenException extends ProblemException {
  readonly challenge: string;

  constructor(
    readonly reason: string,
    detail = `The bearer token was rejected: ${reason}.`,
  ) {
    const challenge = `${BEARER_CHALLENGE}, error="invalid_token", error_description="${reason}"`;
    super(401, detail, { headers: { 'www-authenticate': challenge } });
    this.challenge = challenge;
  }
}

/**
 * A token whose signature verified, from the configured issuer for this audience, but outside
 * its time window (expired, not yet valid, issued in the future). Its holder is a real client
 * that must see this 401 to refresh its token, so it never counts as a failed attempt.
 */
export class TokenOutsideTimeWindowException extends InvalidTokenException {}

/**
 * The signing keys cannot be obtained right now; the token may well be valid, so 503 (retry)
 * rather than 401 (give up). The JWT guard logs the refusal, hence `logged`.
 */
export class KeysUnavailableException extends RetryableUnavailableException {
  readonly reason = 'signing keys unavailable';

  constructor() {
    super(
      'The signing keys needed to check this token cannot be fetched right now; retry later.',
      KEYS_RETRY_AFTER_SECONDS,
      { logged: true },
    );
  }
}

/**
 * The OAuth access token lacks every scope the route accepts (RFC 6750 §3.1): the challenge
 * names the scopes, so the client knows what to ask the user for.
 */
export class InsufficientScopeException extends ProblemException {
  readonly reason = 'insufficient scope';

  constructor(readonly needed: readonly string[]) {
    const scope = needed.join(' ');
    super(403, `The access token lacks the scope this route needs: one of ${needed.join(', ')}.`, {
      headers: {
        'www-authenticate': `${BEARER_CHALLENGE}, error="insufficient_scope", scope="${scope}"`,
      },
    });
  }
}

/**
 * The route declares no scope, so no OAuth access token may call it (deny by default): a route
 * added tomorrow is not opened to third-party clients without anyone deciding so.
 */
export class AccessTokenNotAllowedException extends ProblemException {
  readonly reason = 'access tokens not allowed on this route';

  constructor() {
    super(
      403,
      'This route does not accept OAuth access tokens; call it with a session JWT from GET /api/auth/token.',
      {
        headers: {
          'www-authenticate': `${BEARER_CHALLENGE}, error="insufficient_scope", error_description="access tokens not allowed on this route"`,
        },
      },
    );
  }
}

/** The caller has none of the roles (Better Auth admin plugin `role` claim) the route needs. */
export class MissingRoleException extends ProblemException {
  readonly reason = 'missing role';

  constructor(needed: readonly string[]) {
    super(403, `This route needs one of these roles: ${needed.join(', ')}.`);
  }
}

/** The token names no active organization, or the caller's role in it is not enough. */
export class OrganizationAccessException extends ProblemException {
  constructor(
    readonly reason: 'no active organization' | 'missing organization role',
    detail: string,
  ) {
    super(403, detail);
  }

  static noActiveOrganization(): OrganizationAccessException {
    return new OrganizationAccessException(
      'no active organization',
      'This route needs an active organization: set one in Better Auth (organization.setActive) and send a fresh JWT.',
    );
  }

  static missingRole(needed: readonly string[]): OrganizationAccessException {
    return new OrganizationAccessException(
      'missing organization role',
      `This route needs one of these roles in the active organization: ${needed.join(', ')}.`,
    );
  }
}
