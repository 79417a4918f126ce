import { AuthenticatedUser } from './authenticated-user';

/**
 * For unit specs: a caller signed in with a session JWT that carries nothing but `sub` (Alice's
 * unless `overrides.id` says otherwise), with `overrides` on top. Left out of the build.
 */
export function sessionUser(overrides: Partial<AuthenticatedUser> = {}): AuthenticatedUser {
  const id = overrides.id ?? 'alice-id';
  return {
    id,
    email: null,
    name: null,
    emailVerified: null,
    image: null,
    tokenKind: 'session',
    scopes: [],
    clientId: null,
    roles: [],
    organization: null,
    claims: { sub: id },
    ...overrides,
  };
}
