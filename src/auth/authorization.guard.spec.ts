import { Controller, ExecutionContext, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { FastifyReply, FastifyRequest } from 'fastify';
import {
  AccessTokenNotAllowedException,
  InsufficientScopeException,
  MissingRoleException,
  MissingTokenException,
  OrganizationAccessException,
} from './auth.errors';
import { AuthenticatedUser } from './authenticated-user';
import { sessionUser as user } from './authenticated-user.fixture';
import { AuthorizationGuard } from './authorization.guard';
import { OptionalAuth } from './decorators/optional-auth.decorator';
import { OrgRoles } from './decorators/org-roles.decorator';
import { Public } from './decorators/public.decorator';
import { Roles } from './decorators/roles.decorator';
import { Scopes } from './decorators/scopes.decorator';

const access = (scopes: string[], extra: Partial<AuthenticatedUser> = {}) =>
  user({ tokenKind: 'access', scopes, clientId: 'client-a', ...extra });

@Controller()
class RoutesController {
  @Get('plain')
  plain(): void {}

  @Get('read')
  @Scopes('todos:read')
  read(): void {}

  @Get('profile')
  @Scopes('profile', 'openid')
  profile(): void {}

  @Get('admin')
  @Roles('admin')
  admin(): void {}

  @Get('admin-scoped')
  @Roles('admin')
  @Scopes('todos:read')
  adminScoped(): void {}

  @Get('org')
  @OrgRoles('owner', 'admin')
  org(): void {}

  @Get('public')
  @Public()
  @Roles('admin')
  open(): void {}

  @Get('optional')
  @OptionalAuth()
  @Scopes('todos:read')
  optional(): void {}

  @Get('optional-admin')
  @OptionalAuth()
  @Roles('admin')
  optionalAdmin(): void {}
}

@Controller()
@Roles('admin')
class AdminController {
  @Get()
  handler(): void {}
}

function decide(
  method: string,
  caller: AuthenticatedUser | undefined,
  controller: new () => object = RoutesController,
): unknown {
  const request = { user: caller, log: { warn: jest.fn() } } as unknown as FastifyRequest;
  const handler = (controller.prototype as Record<string, () => void>)[method];
  const context: ExecutionContext = new ExecutionContextHost(
    [request, {} as FastifyReply],
    controller,
    handler,
  );
  try {
    return new AuthorizationGuard(new Reflector()).canActivate(context);
  } catch (error) {
    return error;
  }
}

describe('AuthorizationGuard', () => {
  it('leaves session JWTs at full access on routes without roles, scopes or not', () => {
    for (const method of ['plain', 'read', 'profile', 'optional']) {
      expect(decide(method, user())).toBe(true);
    }
  });

  it('refuses access tokens on routes that declare no scope (deny by default)', () => {
    const error = decide('plain', access(['todos:read', 'todos:write', 'profile']));
    expect(error).toBeInstanceOf(AccessTokenNotAllowedException);
    expect((error as AccessTokenNotAllowedException).getStatus()).toBe(403);
  });

  it('lets an access token in with any one of the scopes the route accepts', () => {
    expect(decide('read', access(['todos:read']))).toBe(true);
    expect(decide('profile', access(['openid']))).toBe(true);
    expect(decide('profile', access(['profile']))).toBe(true);
  });

  it('answers insufficient_scope naming the scopes when the token has none of them', () => {
    const error = decide('profile', access(['todos:read', 'todos:write']));
    expect(error).toBeInstanceOf(InsufficientScopeException);
    expect((error as InsufficientScopeException).headers).toEqual({
      'www-authenticate': 'Bearer realm="api", error="insufficient_scope", scope="profile openid"',
    });
    // Scope names are matched whole: a prefix or another case is another scope.
    expect(decide('read', access(['todos', 'TODOS:READ', 'todos:read:x']))).toBeInstanceOf(
      InsufficientScopeException,
    );
  });

  it('checks roles for both kinds of token, from the method or the class', () => {
    expect(decide('admin', user({ roles: ['user', 'admin'] }))).toBe(true);
    expect(decide('admin', user({ roles: ['user'] }))).toBeInstanceOf(MissingRoleException);
    expect(decide('handler', user({ roles: [] }), AdminController)).toBeInstanceOf(
      MissingRoleException,
    );
    expect(decide('handler', user({ roles: ['admin'] }), AdminController)).toBe(true);
    // An administrator's access token still needs the scope, and a scoped one still the role.
    expect(decide('admin', access(['todos:read'], { roles: ['admin'] }))).toBeInstanceOf(
      AccessTokenNotAllowedException,
    );
    expect(decide('adminScoped', access(['todos:read'], { roles: ['admin'] }))).toBe(true);
    expect(decide('adminScoped', access(['todos:read']))).toBeInstanceOf(MissingRoleException);
  });

  it('checks the role in the active organization', () => {
    const member = (roles: string[]) => user({ organization: { id: 'org-1', roles } });
    expect(decide('org', member(['member', 'admin']))).toBe(true);
    const refusals = [decide('org', member(['member'])), decide('org', user())];
    expect(refusals.map((error) => (error as OrganizationAccessException).reason)).toEqual([
      'missing organization role',
      'no active organization',
    ]);
  });

  it('composes with @Public() and @OptionalAuth()', () => {
    expect(decide('open', undefined)).toBe(true);
    expect(decide('optional', undefined)).toBe(true);
    expect(decide('optional', access(['profile']))).toBeInstanceOf(InsufficientScopeException);
    expect(decide('optionalAdmin', undefined)).toBeInstanceOf(MissingTokenException);
    expect(decide('optionalAdmin', user({ roles: ['admin'] }))).toBe(true);
  });
});
