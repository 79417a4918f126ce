import { OpenAPIObject } from '@nestjs/swagger';
import type { ResponseObject } from '@nestjs/swagger';
import {
  DEPENDENCY_UNAVAILABLE_DESCRIPTION,
  ProblemHeader,
  ProblemResponse,
  problemResponse,
  retryAfterHeader,
} from '../common/api-problem-response.decorator';
import { TOO_MANY_REQUESTS_DETAIL } from '../common/problem-details.filter';
import { problemExample } from '../common/problem-example';
import { BEARER_SCHEME, OpenApiPostProcessor } from '../common/swagger';
import { AuthConfig } from '../config/app-config';
import {
  AccessTokenNotAllowedException,
  InsufficientScopeException,
  InvalidTokenException,
  KEYS_RETRY_AFTER_SECONDS,
  KeysUnavailableException,
  MissingRoleException,
  MissingTokenException,
  OrganizationAccessException,
} from './auth.errors';
import { ORG_ROLES_EXTENSION } from './decorators/org-roles.decorator';
import { AUTH_MODE_EXTENSION } from './decorators/public.decorator';
import { ROLES_EXTENSION } from './decorators/roles.decorator';
import { SCOPES_EXTENSION } from './decorators/scopes.decorator';

/** The OAuth 2.0 security scheme, declared only when OAUTH_RESOURCE turns access tokens on. */
export const OAUTH2_SCHEME = 'oauth2';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

const RETRY_AFTER = retryAfterHeader(KEYS_RETRY_AFTER_SECONDS);

const WWW_AUTHENTICATE: Record<string, ProblemHeader> = {
  'WWW-Authenticate': {
    description:
      'Bearer realm="api" without a token; with a bad one, also error="invalid_token" and ' +
      'error_description naming the failed check (e.g. "token expired": fetch a new token).',
    schema: { type: 'string', example: new InvalidTokenException('token expired').challenge },
  },
};

/** The answers the guard and the rate limiter give on any operation that takes a token. */
function authProblems(path: string): Record<string, ProblemResponse> {
  return {
    '401': {
      description: 'No bearer token, or one that failed a check (see WWW-Authenticate).',
      headers: WWW_AUTHENTICATE,
      examples: {
        missingToken: problemExample('No Authorization header', new MissingTokenException(), path),
        expiredToken: problemExample(
          'An expired token: get a new one and retry once',
          new InvalidTokenException('token expired'),
          path,
        ),
        invalidToken: problemExample(
          'A token whose signature does not verify',
          new InvalidTokenException('signature verification failed'),
          path,
        ),
      },
    },
    '429': {
      description:
        'Too many requests: per user, or per address for anonymous calls and failed sign-ins.',
      headers: RETRY_AFTER,
      examples: {
        tooManyRequests: problemExample(
          'Over the rate limit',
          { status: 429, detail: TOO_MANY_REQUESTS_DETAIL },
          path,
        ),
      },
    },
    '503': {
      description: DEPENDENCY_UNAVAILABLE_DESCRIPTION,
      headers: RETRY_AFTER,
      examples: {
        keysUnavailable: problemExample(
          'The signing keys cannot be fetched',
          new KeysUnavailableException(),
          path,
        ),
      },
    },
  };
}

/**
 * Adds a documented answer, or merges its examples into the one the operation already documents
 * (a data route's 503 for its database, say), so every reason for a status is shown.
 */
function addProblem(
  responses: Record<string, ResponseObject>,
  status: string,
  problem: ProblemResponse,
): void {
  const existing = responses[status];
  const added = problemResponse(problem);
  if (!existing) {
    responses[status] = added;
    return;
  }
  for (const [type, media] of Object.entries(existing.content ?? {})) {
    const addedMedia = added.content[type as keyof typeof added.content];
    if (addedMedia) media.examples = { ...media.examples, ...addedMedia.examples };
  }
}

/**
 * Every operation requires the bearer token unless @Public() or @OptionalAuth() marked it:
 * the same metadata the guard reads, so the document cannot drift from the guard. Operations
 * that take a token also document their 401, 429 and 503 answers here, once.
 */
export function documentAuthModes(document: OpenAPIObject): void {
  for (const [path, pathItem] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = pathItem[method];
      if (!operation) continue;
      const extensions = operation as unknown as Record<string, unknown>;
      const mode = extensions[AUTH_MODE_EXTENSION];
      delete extensions[AUTH_MODE_EXTENSION];
      if (mode === 'public') {
        operation.security = [];
        continue;
      }
      operation.security =
        mode === 'optional' ? [{}, { [BEARER_SCHEME]: [] }] : [{ [BEARER_SCHEME]: [] }];
      const responses = operation.responses as Record<string, ResponseObject>;
      for (const [status, problem] of Object.entries(authProblems(path))) {
        addProblem(responses, status, problem);
      }
    }
  }
}

/** What an operation needs beyond a valid token, read off the authorization decorators. */
interface OperationNeeds {
  roles?: string[];
  organizationRoles?: string[];
  scopes?: string[];
}

/** The 403 answers an operation can give, each with the example the guard would send. */
function forbiddenProblem(path: string, needs: OperationNeeds, oauth: boolean): ProblemResponse {
  const examples: ProblemResponse['examples'] = {};
  if (needs.roles) {
    examples.missingRole = problemExample(
      'The token has none of the roles',
      new MissingRoleException(needs.roles),
      path,
    );
  }
  if (needs.organizationRoles) {
    examples.noActiveOrganization = problemExample(
      'No active organization in the token',
      OrganizationAccessException.noActiveOrganization(),
      path,
    );
    examples.missingOrganizationRole = problemExample(
      'Not enough of a role in the active organization',
      OrganizationAccessException.missingRole(needs.organizationRoles),
      path,
    );
  }
  if (oauth && needs.scopes) {
    examples.insufficientScope = problemExample(
      'An OAuth access token without the scope',
      new InsufficientScopeException(needs.scopes),
      path,
    );
  } else if (oauth) {
    examples.accessTokenNotAllowed = problemExample(
      'An OAuth access token on a route for session JWTs only',
      new AccessTokenNotAllowedException(),
      path,
    );
  }
  return {
    description: 'The token lacks a role, organization role or scope this operation needs.',
    headers: {
      'WWW-Authenticate': {
        description:
          'For OAuth access tokens: Bearer realm="api", error="insufficient_scope", scope="<needed>".',
        schema: { type: 'string' },
      },
    },
    examples,
  };
}

/**
 * Says on each operation which roles, organization roles and OAuth scopes it needs (read off
 * the same decorators the authorization guard reads) and documents the 403 that follows. With
 * OAUTH_RESOURCE set, it also declares the OAuth 2.0 scheme (authorization code with PKCE
 * against Better Auth's OAuth provider) and names each operation's scopes under it; without it
 * the document has the bearer scheme only.
 */
export function documentAuthorization(auth: AuthConfig): OpenApiPostProcessor {
  return (document) => {
    const oauth = auth.oauth;
    const scopeUsers = new Map<string, string[]>();
    for (const [path, pathItem] of Object.entries(document.paths)) {
      for (const method of METHODS) {
        const operation = pathItem[method];
        if (!operation || operation.security?.length === 0) continue;
        const extensions = operation as unknown as Record<string, unknown>;
        const needs: OperationNeeds = {
          roles: extensions[ROLES_EXTENSION] as string[] | undefined,
          organizationRoles: extensions[ORG_ROLES_EXTENSION] as string[] | undefined,
          scopes: extensions[SCOPES_EXTENSION] as string[] | undefined,
        };
        const lines: string[] = [];
        if (needs.roles) lines.push(`role ${needs.roles.join(' or ')}`);
        if (needs.organizationRoles) {
          lines.push(`organization role ${needs.organizationRoles.join(' or ')}`);
        }
        if (oauth) {
          lines.push(
            needs.scopes
              ? `for OAuth access tokens, scope ${needs.scopes.join(' or ')}`
              : 'no OAuth access tokens (session JWTs only)',
          );
        }
        if (lines.length === 0) continue;
        const line = `Needs: ${lines.join('; ')}.`;
        operation.description = operation.description
          ? `${operation.description}\n\n${line}`
          : line;
        const responses = operation.responses as Record<string, ResponseObject>;
        addProblem(responses, '403', forbiddenProblem(path, needs, oauth !== undefined));
        if (oauth && needs.scopes) {
          operation.security = [...(operation.security ?? []), { [OAUTH2_SCHEME]: needs.scopes }];
          for (const scope of needs.scopes) {
            const users = scopeUsers.get(scope) ?? [];
            users.push(`${method.toUpperCase()} ${path}`);
            scopeUsers.set(scope, users);
          }
        }
      }
    }
    if (!oauth) return;
    const authServer = `${auth.betterAuthUrl}/api/auth`;
    document.components ??= {};
    document.components.securitySchemes ??= {};
    document.components.securitySchemes[OAUTH2_SCHEME] = {
      type: 'oauth2',
      description:
        "Access tokens from Better Auth's OAuth provider, requested with " +
        `resource=${oauth.resource} (authorization code with PKCE).`,
      flows: {
        authorizationCode: {
          authorizationUrl: `${authServer}/oauth2/authorize`,
          tokenUrl: `${authServer}/oauth2/token`,
          scopes: Object.fromEntries(
            [...scopeUsers.entries()]
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([scope, users]) => [scope, `Allows ${users.join(', ')}.`]),
          ),
        },
      },
    };
  };
}
