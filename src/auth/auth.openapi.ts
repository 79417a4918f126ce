import { OpenAPIObject } from '@nestjs/swagger';
import { problemContent } from '../common/api-problem-response.decorator';
import { BEARER_SCHEME, OpenApiPostProcessor } from '../common/swagger';
import { AuthConfig } from '../config/app-config';
import { ORG_ROLES_EXTENSION } from './decorators/org-roles.decorator';
import { AUTH_MODE_EXTENSION } from './decorators/public.decorator';
import { ROLES_EXTENSION } from './decorators/roles.decorator';
import { SCOPES_EXTENSION } from './decorators/scopes.decorator';

/** The OAuth 2.0 security scheme, declared only when OAUTH_RESOURCE turns access tokens on. */
export const OAUTH2_SCHEME = 'oauth2';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
};

/**
 * Every operation requires the bearer token unless @Public() or @OptionalAuth() marked it:
 * the same metadata the guard reads, so the document cannot drift from the guard. Protected
 * operations also document their 401, 429 and 503 answers here, once.
 */
export function documentAuthModes(document: OpenAPIObject): void {
  for (const pathItem of Object.values(document.paths)) {
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
      const problem = problemContent();
      operation.responses['401'] ??= {
        description: 'Missing or invalid bearer token (see the WWW-Authenticate header).',
        headers: {
          'WWW-Authenticate': {
            description: 'Bearer realm="api", with error and error_description for a bad token.',
            schema: { type: 'string' },
          },
        },
        content: problem,
      };
      operation.responses['429'] ??= {
        description: 'Too many requests (per user, or per address for failed authentication).',
        headers: RETRY_AFTER,
        content: problem,
      };
      operation.responses['503'] ??= {
        description: 'Signing keys or the database are unavailable; retry after Retry-After.',
        headers: RETRY_AFTER,
        content: problem,
      };
    }
  }
}

/**
 * Says on each operation which roles, organization roles and OAuth scopes it needs (read off
 * the same decorators the authorization guard reads) and documents the 403 that follows. With
 * OAUTH_RESOURCE set, it also declares the OAuth 2.0 scheme (authorization code with PKCE
 * against Better Auth's OAuth provider) and names each operation's scopes under it; without it
 * the document has the bearer scheme only, as before.
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
        const roles = extensions[ROLES_EXTENSION] as string[] | undefined;
        const orgRoles = extensions[ORG_ROLES_EXTENSION] as string[] | undefined;
        const scopes = extensions[SCOPES_EXTENSION] as string[] | undefined;
        const needs: string[] = [];
        if (roles) needs.push(`role ${roles.join(' or ')}`);
        if (orgRoles) needs.push(`organization role ${orgRoles.join(' or ')}`);
        if (oauth) {
          needs.push(
            scopes
              ? `for OAuth access tokens, scope ${scopes.join(' or ')}`
              : 'no OAuth access tokens (session JWTs only)',
          );
        }
        if (needs.length > 0) {
          const line = `Needs: ${needs.join('; ')}.`;
          operation.description = operation.description
            ? `${operation.description}\n\n${line}`
            : line;
          operation.responses['403'] ??= {
            description: 'The token lacks a role, organization role or scope this operation needs.',
            headers: {
              'WWW-Authenticate': {
                description:
                  'For OAuth access tokens: Bearer realm="api", error="insufficient_scope", scope="<needed>".',
                schema: { type: 'string' },
              },
            },
            content: problemContent(),
          };
        }
        if (oauth && scopes) {
          operation.security = [...(operation.security ?? []), { [OAUTH2_SCHEME]: scopes }];
          for (const scope of scopes) {
            scopeUsers.set(scope, [
              ...(scopeUsers.get(scope) ?? []),
              `${method.toUpperCase()} ${path}`,
            ]);
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
            [...scopeUsers.keys()]
              .sort()
              .map((scope) => [scope, `Allows ${scopeUsers.get(scope)?.join(', ')}.`]),
          ),
        },
      },
    };
  };
}
