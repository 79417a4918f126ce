import { oauthProvider } from '@better-auth/oauth-provider';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { BetterAuthIssuer, SignedUpUser } from './better-auth-issuer';

/** A user signed in over HTTP, with the session cookie a browser would hold. */
export type OAuthUser = SignedUpUser;

/** A public OAuth client registered over HTTP (PKCE, no secret). */
export interface OAuthClient {
  clientId: string;
  redirectUri: string;
}

export const OAUTH_SCOPES = ['openid', 'profile', 'email', 'todos:read', 'todos:write'];

/** The in-process issuer with the OAuth provider beside jwt(). */
const startIssuer = (resources: string[]) =>
  BetterAuthIssuer.start({
    plugins: [
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

/**
 * The in-process Better Auth issuer with `@better-auth/oauth-provider` beside its jwt() plugin,
 * that issues OAuth access tokens through the authorization-code flow with PKCE exactly as a
 * third-party client would drive it: register, authorize, consent, token.
 */
export class OAuthIssuer {
  private constructor(private readonly betterAuth: Awaited<ReturnType<typeof startIssuer>>) {}

  /** `resources` are the resource identifiers the provider issues JWT access tokens for. */
  static async start(resources: string[]): Promise<OAuthIssuer> {
    return new OAuthIssuer(await startIssuer(resources));
  }

  get url(): string {
    return this.betterAuth.url;
  }

  /** Where Better Auth signs access tokens from (`iss`), as the README says. */
  get issuer(): string {
    return `${this.url}/api/auth`;
  }

  createUser(): Promise<OAuthUser> {
    return this.betterAuth.signUp({ name: 'OAuth User' });
  }

  /** GET /api/auth/token with the session cookie: the session JWT a frontend sends. */
  sessionJwt(user: OAuthUser): Promise<string> {
    return this.betterAuth.tokenFor(user.cookie);
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

  close(): Promise<void> {
    return this.betterAuth.close();
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
