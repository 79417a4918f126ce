import { admin, organization } from 'better-auth/plugins';
import { randomUUID } from 'node:crypto';
import {
  BetterAuthIssuer,
  SessionClaimsInput,
  IssuerStore,
  SignedUpUser,
} from './better-auth-issuer';

/** A user signed in over HTTP, with the session cookie a browser would hold. */
export type AuthzUser = SignedUpUser;

const startIssuer = () =>
  BetterAuthIssuer.start({ plugins: [admin(), organization()], definePayload });

/**
 * A real Better Auth server for the authorization tests: the in-process issuer with the
 * organization plugin, the admin plugin (the `role` claim) and the documented `definePayload`
 * (active organization and the member's role) for the jwt() plugin.
 */
export class AuthzIssuer {
  private constructor(private readonly betterAuth: Awaited<ReturnType<typeof startIssuer>>) {}

  static async start(): Promise<AuthzIssuer> {
    return new AuthzIssuer(await startIssuer());
  }

  get url(): string {
    return this.betterAuth.url;
  }

  get jwksUrl(): string {
    return this.betterAuth.jwksUrl;
  }

  /** Signs a user up over HTTP, like a frontend; the session cookie comes back. */
  createUser(name = 'Test User'): Promise<AuthzUser> {
    return this.betterAuth.signUp({ name });
  }

  /**
   * Makes a user an administrator the way an operator would (the admin plugin's `role` field,
   * written in the store; Better Auth's setRole endpoint itself needs an administrator).
   */
  setRole(user: AuthzUser, role: string): void {
    const row = this.betterAuth.rows('user').find((candidate) => candidate.id === user.id);
    if (!row) throw new Error(`no user ${user.id}`);
    row.role = role;
  }

  /** Creates an organization over HTTP as `owner`; Better Auth makes it their active one. */
  async createOrganization(owner: AuthzUser, name: string): Promise<string> {
    const response = await this.post(
      '/api/auth/organization/create',
      { name, slug: `${name.toLowerCase()}-${randomUUID().slice(0, 8)}` },
      owner.cookie,
    );
    return ((await response.json()) as { id: string }).id;
  }

  /** Adds a member with a role (server-side, as an invitation's acceptance would). */
  async addMember(
    organizationId: string,
    user: AuthzUser,
    role: 'owner' | 'admin' | 'member',
  ): Promise<void> {
    await this.betterAuth.auth.api.addMember({ body: { organizationId, userId: user.id, role } });
  }

  /** POST /api/auth/organization/set-active over HTTP (null clears it). */
  async setActiveOrganization(user: AuthzUser, organizationId: string | null): Promise<void> {
    await this.post('/api/auth/organization/set-active', { organizationId }, user.cookie);
  }

  /** GET /api/auth/token with the session cookie: the session JWT a frontend sends. */
  sessionJwt(user: AuthzUser): Promise<string> {
    return this.betterAuth.tokenFor(user.cookie);
  }

  close(): Promise<void> {
    return this.betterAuth.close();
  }

  private async post(path: string, body: unknown, cookie?: string): Promise<Response> {
    const response = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: this.url,
        ...(cookie ? { cookie } : {}),
      },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      throw new Error(`${path} failed: ${response.status} ${await response.text()}`);
    }
    return response;
  }
}

/**
 * The README's recipe: the user's claims as Better Auth sets them (the admin plugin's `role`
 * among them), plus the active organization and the member's role in it, read from the member
 * row so that a removed member loses the claim with the next token.
 */
async function definePayload(
  { user, session }: SessionClaimsInput,
  store: IssuerStore,
): Promise<Record<string, unknown>> {
  const organizationId = session.activeOrganizationId as string | null | undefined;
  if (!organizationId) return { ...user };
  const member = await store.findOne<{ role: string }>({
    model: 'member',
    where: [
      { field: 'organizationId', value: organizationId },
      { field: 'userId', value: user.id },
    ],
  });
  if (!member) return { ...user };
  return { ...user, activeOrganizationId: organizationId, organizationRole: member.role };
}
