import { oauthProvider } from '@better-auth/oauth-provider';
import { betterAuth, type BetterAuthOptions } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { getAuthTables } from 'better-auth/db';
import { toNodeHandler } from 'better-auth/node';
import { jwt } from 'better-auth/plugins';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

type MemoryDb = Record<string, Record<string, unknown>[]>;

/** A user signed in over HTTP, with the session cookie a browser would hold. */
export interface OAuthUser {
  id: string;
  cookie: string;
}

/** A public OAuth client registered over HTTP (PKCE, no secret). */
export interface OAuthClient {
  clientId: string;
  redirectUri: string;
}

export const OAUTH_SCOPES = ['openid', 'profile', 'email', 'todos:read', 'todos:write'];

/**
 * A real Better Auth server with the jwt() plugin and `@better-auth/oauth-provider`, served over
 * HTTP on a free port, that issues OAuth access tokens through the authorization-code flow with
 * PKCE exactly as a third-party client would drive it: register, authorize, consent, token.
 */
export class OAuthIssuer {
  private constructor(
    readonly url: string,
    private readonly server: Server,
  ) {}

  /** `resources` are the resource identifiers the provider issues JWT access tokens for. */
  static async start(resources: string[]): Promise<OAuthIssuer> {
    const route: { handler?: ReturnType<typeof toNodeHandler> } = {};
    const server = createServer((req, res) => void route.handler?.(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const db: MemoryDb = {};
    const auth = betterAuth({
      baseURL: url,
      secret: randomBytes(32).toString('hex'),
      database: memoryAdapter(db),
      emailAndPassword: { enabled: true, autoSignIn: true },
      trustedOrigins: [url],
      logger: { disabled: true },
      telemetry: { enabled: false },
      plugins: [
        jwt({ jwks: { keyPairConfig: { alg: 'EdDSA' } } }),
        oauthProvider({
          loginPage: '/sign-in',
          consentPage: '/consent',
          scopes: OAUTH_SCOPES,
          resources,
          // Per-client resources are enforced by default; registered clients may target these.
          clientRegistrationDefaultResources: resources,
          allowDynamicClientRegistration: true,
        }),
      ],
    });
    // The memory adapter needs every table up front; take them from Better Auth's own schema.
    for (const table of Object.values(getAuthTables(auth.options as BetterAuthOptions))) {
      db[table.modelName] = [];
    }
    route.handler = toNodeHandler(auth);
    return new OAuthIssuer(url, server);
  }

  /** Where Better Auth signs access tokens from (`iss`), as the README says. */
  get issuer(): string {
    return `${this.url}/api/auth`;
  }

  async createUser(): Promise<OAuthUser> {
    const response = await this.send('/api/auth/sign-up/email', {
      json: {
        email: `user-${randomUUID()}@example.com`,
        name: 'OAuth User',
        password: `pw-${randomUUID()}`,
      },
    });
    const body = (await response.json()) as { user: { id: string } };
    const cookie = response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    return { id: body.user.id, cookie };
  }

  /** GET /api/auth/token with the session cookie: the session JWT a frontend sends. */
  async sessionJwt(user: OAuthUser): Promise<string> {
    const response = await this.send('/api/auth/token', { cookie: user.cookie });
    return ((await response.json()) as { token: string }).token;
  }

  /** Dynamic client registration (RFC 7591) by a signed-in user: a public client using PKCE. */
  async registerClient(user: OAuthUser, scope: string): Promise<OAuthClient> {
    const redirectUri = `https://client.example.test/callback/${randomUUID()}`;
    const response = await this.send('/api/auth/oauth2/register', {
      cookie: user.cookie,
      json: {
        client_name: `client ${scope}`,
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        scope,
      },
    });
    const body = (await response.json()) as { client_id: string };
    return { clientId: body.client_id, redirectUri };
  }

  /**
   * The authorization-code flow with PKCE over HTTP: the user authorizes (redirected to the
   * consent page), consents, and the client exchanges the code. `resource` (RFC 8707) goes on
   * the authorization request and the token exchange; without it Better Auth issues an opaque
   * access token.
   */
  async accessToken(
    user: OAuthUser,
    client: OAuthClient,
    scope: string,
    resource?: string,
  ): Promise<string> {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const state = randomUUID();
    const authorize = new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      scope,
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...(resource ? { resource } : {}),
    });
    // Asked with fetch (not a browser navigation), Better Auth answers the redirect as JSON.
    const toConsent = await this.send(`/api/auth/oauth2/authorize?${authorize.toString()}`, {
      cookie: user.cookie,
    });
    const next = new URL(((await toConsent.json()) as { url: string }).url, this.url);
    // A consent already given for these scopes is remembered: the code comes back at once.
    const callback = next.pathname === '/consent' ? await this.consent(user, next) : next;
    if (callback.searchParams.get('state') !== state) throw new Error('state mismatch');
    const code = callback.searchParams.get('code');
    if (!code) throw new Error(`no code: ${callback.href}`);

    const token = await this.send('/api/auth/oauth2/token', {
      form: {
        grant_type: 'authorization_code',
        code,
        redirect_uri: client.redirectUri,
        client_id: client.clientId,
        code_verifier: verifier,
        ...(resource ? { resource } : {}),
      },
    });
    return ((await token.json()) as { access_token: string }).access_token;
  }

  /** The consent page's POST: the user accepts every scope asked for. */
  private async consent(user: OAuthUser, consentPage: URL): Promise<URL> {
    const consent = await this.send('/api/auth/oauth2/consent', {
      cookie: user.cookie,
      json: { accept: true, oauth_query: consentPage.search.slice(1) },
    });
    const back = (await consent.json()) as { redirect_uri?: string; url?: string };
    return new URL(back.redirect_uri ?? back.url ?? '');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async send(
    path: string,
    options: {
      cookie?: string;
      json?: unknown;
      form?: Record<string, string>;
    },
  ): Promise<Response> {
    const body = options.json
      ? JSON.stringify(options.json)
      : options.form
        ? new URLSearchParams(options.form).toString()
        : undefined;
    const response = await fetch(`${this.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      redirect: 'manual',
      headers: {
        origin: this.url,
        ...(options.json ? { 'content-type': 'application/json' } : {}),
        ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(options.cookie ? { cookie: options.cookie } : {}),
      },
      body,
    });
    if (!response.ok) {
      throw new Error(`${path} failed: ${response.status} ${await response.text()}`);
    }
    return response;
  }
}
