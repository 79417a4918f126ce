import { CanActivate, ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PerRoute } from '../common/per-route';
import {
  AccessTokenNotAllowedException,
  InsufficientScopeException,
  MissingRoleException,
  MissingTokenException,
  OrganizationAccessException,
} from './auth.errors';
import { AuthenticatedUser, RequestWithUser } from './authenticated-user';
import { ORG_ROLES_KEY } from './decorators/org-roles.decorator';
import { IS_PUBLIC_KEY } from './decorators/public.decorator';
import { ROLES_KEY } from './decorators/roles.decorator';
import { SCOPES_KEY } from './decorators/scopes.decorator';

/** A route's authorization metadata, read once per handler rather than on every request. */
interface RouteRules {
  isPublic: boolean;
  roles: readonly string[] | undefined;
  scopes: readonly string[] | undefined;
  organizationRoles: readonly string[] | undefined;
}

/**
 * The global guard that runs after authentication (registered after the JWT guard) and decides
 * what the verified caller may do on this route:
 * - @Public() routes: nothing to decide.
 * - OAuth access tokens: only on routes with @Scopes(), and only with one of those scopes. A
 *   route without @Scopes() refuses them, so adding a route never hands it to third-party
 *   clients by accident.
 * - Session JWTs: not limited by scopes (the user acts for themself, on their own data).
 * - @Roles() and @OrgRoles(): checked for both kinds; an anonymous caller on an
 *   @OptionalAuth() route has no role, so it gets 401 (send a token) rather than 403.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  private readonly rules = new PerRoute<RouteRules>((context) => {
    const targets = [context.getHandler(), context.getClass()];
    const read = <T>(key: string) => this.reflector.getAllAndOverride<T | undefined>(key, targets);
    return {
      isPublic: read<boolean>(IS_PUBLIC_KEY) === true,
      roles: read<string[]>(ROLES_KEY),
      scopes: read<string[]>(SCOPES_KEY),
      organizationRoles: read<string[]>(ORG_ROLES_KEY),
    };
  });

  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const rules = this.rules.get(context);
    if (rules.isPublic) return true;
    const request = context.switchToHttp().getRequest<RequestWithUser>();
    try {
      check(rules, request.user);
    } catch (error) {
      const status = error instanceof HttpException ? error.getStatus() : 403;
      request.log.warn(
        { reason: (error as { reason?: string }).reason, status },
        'authorization refused',
      );
      throw error;
    }
    return true;
  }
}

function check(rules: RouteRules, user: AuthenticatedUser | undefined): void {
  if (!user) {
    // Only an @OptionalAuth() route lets an anonymous caller this far.
    if (rules.roles || rules.organizationRoles) throw new MissingTokenException();
    return;
  }
  if (user.tokenKind === 'access') {
    if (!rules.scopes) throw new AccessTokenNotAllowedException();
    if (!rules.scopes.some((scope) => user.scopes.includes(scope))) {
      throw new InsufficientScopeException(rules.scopes);
    }
  }
  if (rules.roles && !rules.roles.some((role) => user.roles.includes(role))) {
    throw new MissingRoleException(rules.roles);
  }
  if (rules.organizationRoles) {
    if (!user.organization) throw OrganizationAccessException.noActiveOrganization();
    const memberRoles = user.organization.roles;
    if (!rules.organizationRoles.some((role) => memberRoles.includes(role))) {
      throw OrganizationAccessException.missingRole(rules.organizationRoles);
    }
  }
}
