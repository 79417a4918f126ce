import { betterAuth, type AuthContext, type BetterAuthOptions } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { getAuthTables } from 'better-auth/db';
import { toNodeHandler } from 'better-auth/node';
import { admin, jwt, organization } from 'better-auth/plugins';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

type MemoryDb = Record<string, Record<string, unknown>[]>;

/** A user signed in over HTTP, with the session cookie a browser would hold. */
export interface AuthzUser {
  id: string;
  email: string;
  cookie: string;
}

/**
 * A real Better Auth server for the authorization tests, served over HTTP on a free port:
 * email and password, the jwt() plugin with the documented `definePayload` (active
 * organization and the member's role), the admin plugin (the `role` claim) and the
 * organization plugin.
 */
export class AuthzIssuer {
  private constructor(
    readonly url: string,
    private readonly server: Server,
    private readonly auth: ReturnType<typeof createAuth>,
    private readonly db: MemoryDb,
  ) {}

  static async start(): Promise<AuthzIssuer> {
    const route: { handler?: ReturnType<typeof toNodeHandler> } = {};
    const server = createServer((req, res) => void route.handler?.(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const db: MemoryDb = {};
    const auth = createAuth(url, db);
    // The memory adapter needs every table up front; take them from Better Auth's own schema.
    for (const table of Object.values(getAuthTables(auth.options as BetterAuthOptions))) {
      db[table.modelName] = [];
    }
    route.handler = toNodeHandler(auth);
    return new AuthzIssuer(url, server, auth, db);
  }

  get jwksUrl(): string {
    return `${this.url}/api/auth/jwks`;
  }

  /** Signs a user up over HTTP, like a frontend; the session cookie comes back. */
  async createUser(name = 'Test User'): Promise<AuthzUser> {
    const email = `user-${randomUUID()}@example.com`;
    const response = await this.post('/api/auth/sign-up/email', {
      email,
      name,
      password: `pw-${randomUUID()}`,
    });
    const body = (await response.json()) as { user: { id: string } };
    const cookie = response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    return { id: body.user.id, email, cookie };
  }

  /**
   * Makes a user an administrator the way an operator would (the admin plugin's `role` field,
   * written in the store; Better Auth's setRole endpoint itself needs an administrator).
   */
  setRole(user: AuthzUser, role: string): void {
    const row = this.db.user.find((candidate) => candidate.id === user.id);
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
    await this.auth.api.addMember({ body: { organizationId, userId: user.id, role } });
  }

  /** POST /api/auth/organization/set-active over HTTP (null clears it). */
  async setActiveOrganization(user: AuthzUser, organizationId: string | null): Promise<void> {
    await this.post('/api/auth/organization/set-active', { organizationId }, user.cookie);
  }

  /** GET /api/auth/token with the session cookie: the session JWT a frontend sends. */
  async sessionJwt(user: AuthzUser): Promise<string> {
    const response = await fetch(`${this.url}/api/auth/token`, {
      headers: { cookie: user.cookie },
    });
    if (!response.ok) throw new Error(`token failed: ${response.status}`);
    return ((await response.json()) as { token: string }).token;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
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

function createAuth(url: string, db: MemoryDb) {
  // definePayload runs per token, after betterAuth() has returned; it reads the store through it.
  const self: { store?: Promise<Pick<AuthContext['adapter'], 'findOne'>> } = {};
  const auth = betterAuth({
    baseURL: url,
    secret: randomBytes(32).toString('hex'),
    database: memoryAdapter(db),
    emailAndPassword: { enabled: true, autoSignIn: true },
    trustedOrigins: [url],
    logger: { disabled: true },
    telemetry: { enabled: false },
    plugins: [
      admin(),
      organization(),
      jwt({
        jwks: { keyPairConfig: { alg: 'EdDSA' } },
        jwt: {
          // The README's recipe: the user's claims as Better Auth sets them (the admin plugin's
          // `role` among them), plus the active organization and the member's role in it, read
          // from the member row so that a removed member loses the claim with the next token.
          definePayload: async ({ user, session }) => {
            const organizationId = session.activeOrganizationId as string | null | undefined;
            if (!organizationId) return { ...user };
            const store = await self.store;
            const member = await store?.findOne<{ role: string }>({
              model: 'member',
              where: [
                { field: 'organizationId', value: organizationId },
                { field: 'userId', value: user.id },
              ],
            });
            if (!member) return { ...user };
            return { ...user, activeOrganizationId: organizationId, organizationRole: member.role };
          },
        },
      }),
    ],
  });
  self.store = auth.$context.then((context) => context.adapter);
  return auth;
}
