import type { FastifyRequest } from 'fastify';
import { JWTPayload } from 'jose';

/**
 * How the caller authenticated, told apart by the token's `typ` header: a Better Auth session
 * JWT (no `typ`, or `JWT`) acts for the user with full access to their own data; an OAuth
 * access token (`at+jwt`) acts for a client the user delegated some scopes to.
 */
export type TokenKind = 'session' | 'access';

/** The caller's active organization, from the claims a Better Auth `definePayload` adds. */
export interface ActiveOrganization {
  readonly id: string;
  /** The member's roles in it (Better Auth stores several as a comma-separated list). */
  readonly roles: readonly string[];
}

/** The caller, as the verified token describes them. Only `id` (the `sub` claim) is guaranteed. */
export interface AuthenticatedUser {
  readonly id: string;
  readonly email: string | null;
  readonly name: string | null;
  readonly emailVerified: boolean | null;
  readonly image: string | null;
  readonly tokenKind: TokenKind;
  /** Scopes granted to the OAuth client; empty for session JWTs (scopes do not limit them). */
  readonly scopes: readonly string[];
  /** The OAuth client (`azp` or `client_id`) for access tokens; null for session JWTs. */
  readonly clientId: string | null;
  /** Roles from Better Auth's admin plugin (`role` claim, comma-separated); empty when absent. */
  readonly roles: readonly string[];
  readonly organization: ActiveOrganization | null;
  /** Every claim of the verified token, for claims an app adds with `definePayload`. */
  readonly claims: Readonly<JWTPayload>;
}

/** A request once the global JWT guard has run: `user` is the verified caller, if there is one. */
export type RequestWithUser = FastifyRequest & { user?: AuthenticatedUser };
