import {
  betterAuth,
  type AuthContext,
  type BetterAuthOptions,
  type BetterAuthPlugin,
} from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { getAuthTables } from 'better-auth/db';
import { toNodeHandler } from 'better-auth/node';
import { jwt, type JwtOptions } from 'better-auth/plugins';
import { importJWK, JWTPayload, SignJWT, type JWK } from 'jose';
import { createPrivateKey, KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { compact, signInput } from './jws';

/** The algorithms Better Auth's jwt() plugin can sign with. */
export type BetterAuthAlgorithm = 'EdDSA' | 'ES256' | 'ES512' | 'RS256' | 'PS256';

/** What jwt()'s `definePayload` is given: the signed-in user and their session. */
export type SessionClaimsInput = Parameters<
  NonNullable<NonNullable<JwtOptions['jwt']>['definePayload']>
>[0];

/** Reads Better Auth's own store, as a deployment's `definePayload` would through its adapter. */
export type IssuerStore = Pick<AuthContext['adapter'], 'findOne'>;

export interface IssuerOptions<Plugins extends BetterAuthPlugin[] = []> {
  /** `jwks.keyPairConfig.alg`; Better Auth's default is EdDSA. */
  alg?: BetterAuthAlgorithm;
  /** `jwt.audience`; Better Auth's default is its base URL. */
  audience?: string;
  /** Fixed port (the `npm run issuer` script uses 3000); tests use a free one. */
  port?: number;
  host?: string;
  /** Sees every HTTP request before Better Auth does (the benchmark counts JWKS fetches with it). */
  onRequest?: (request: IncomingMessage) => void;
  /**
   * Browser origins (a frontend) Better Auth trusts and CORS lets call it with credentials, as a
   * real deployment configures for its web app.
   */
  trustedOrigins?: string[];
  /** More Better Auth plugins beside jwt(): admin, organization, an OAuth provider… */
  plugins?: Plugins;
  /** The session JWT's claims, in place of the user's (jwt()'s `definePayload`). */
  definePayload?: (
    input: SessionClaimsInput,
    store: IssuerStore,
  ) => Promise<Record<string, unknown>>;
}

/** For `signRaw`: build the token by hand, to put what a JWT library would refuse into it. */
export interface RawSignOptions {
  /** A ready-made header segment (base64url) used instead of the header argument. */
  encodedHeader?: string;
  /** A ready-made payload segment (base64url) used instead of the payload argument. */
  encodedPayload?: string;
  /** Computes the signature (default: the key's own algorithm over the signing input). */
  sign?: (signingInput: string, privateKey: KeyObject, keyAlg: string) => Uint8Array | string;
}

/** A user signed up over HTTP, with the session a browser would hold. */
export interface SignedUpUser {
  id: string;
  email: string;
  name: string;
  /** Better Auth's opaque session token (what the session cookie holds). Not a JWT. */
  sessionToken: string;
  /** The session cookie, as a browser would send it. */
  cookie: string;
}

export interface IssuedUser extends SignedUpUser {
  /** A JWT from GET /api/auth/token. */
  jwt: string;
}

interface StoredJwk {
  id: string;
  publicKey: string;
  privateKey: string;
  alg?: string;
  createdAt: Date;
  expiresAt?: Date;
}

type MemoryDb = Record<string, Record<string, unknown>[]>;

type IssuerAuth<Plugins extends BetterAuthPlugin[]> = ReturnType<typeof createAuth<Plugins>>;

/**
 * A real Better Auth server (the `better-auth` package: memory adapter, email and password,
 * the jwt() plugin, and any plugins the options add) served over HTTP on a local port, for
 * tests and `npm run issuer`. The one way the tests start an in-process Better Auth.
 */
export class BetterAuthIssuer<Plugins extends BetterAuthPlugin[] = []> {
  private constructor(
    readonly url: string,
    private readonly server: Server,
    /** Better Auth itself, for its server-only API (`auth.api.addMember`, …). */
    readonly auth: IssuerAuth<Plugins>,
    private readonly db: MemoryDb,
    readonly alg: BetterAuthAlgorithm,
  ) {}

  static async start<const Plugins extends BetterAuthPlugin[] = []>(
    options: IssuerOptions<Plugins> = {},
  ): Promise<BetterAuthIssuer<Plugins>> {
    const alg = options.alg ?? 'EdDSA';
    const route: { handler?: (req: IncomingMessage, res: ServerResponse) => void } = {};
    const trusted = new Set(options.trustedOrigins ?? []);
    const server = createServer((req, res) => {
      options.onRequest?.(req);
      if (allowCors(req, res, trusted)) return;
      route.handler?.(req, res);
    });
    await new Promise<void>((resolve) =>
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
    );
    const { port } = server.address() as AddressInfo;
    const url = `http://${options.host === 'localhost' ? 'localhost' : '127.0.0.1'}:${port}`;
    const db: MemoryDb = {};
    const auth = createAuth(url, db, alg, options, [...trusted]);
    // The memory adapter needs every table up front; take them from Better Auth's own schema.
    for (const table of Object.values(getAuthTables(auth.options as BetterAuthOptions))) {
      db[table.modelName] = [];
    }
    const nodeHandler = toNodeHandler(auth);
    route.handler = (req, res) => void nodeHandler(req, res);
    return new BetterAuthIssuer(url, server, auth, db, alg);
  }

  get jwksUrl(): string {
    return `${this.url}/api/auth/jwks`;
  }

  /** Signs a user up over HTTP, like a frontend, and fetches their JWT from /api/auth/token. */
  async createUser(overrides: { email?: string; name?: string } = {}): Promise<IssuedUser> {
    const user = await this.signUp(overrides);
    return { ...user, jwt: await this.tokenFor(user.cookie) };
  }

  /** Signs a user up over HTTP, like a frontend; the session cookie comes back. */
  async signUp(overrides: { email?: string; name?: string } = {}): Promise<SignedUpUser> {
    const email = overrides.email ?? `user-${randomUUID()}@example.com`;
    const name = overrides.name ?? 'Test User';
    const response = await fetch(`${this.url}/api/auth/sign-up/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: this.url },
      body: JSON.stringify({ email, name, password: `pw-${randomUUID()}` }),
    });
    if (!response.ok)
      throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { token: string; user: { id: string } };
    const cookie = response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    return { id: body.user.id, email, name, sessionToken: body.token, cookie };
  }

  /** GET /api/auth/token with the session cookie: how a frontend obtains a JWT. */
  async tokenFor(cookie: string): Promise<string> {
    const response = await fetch(`${this.url}/api/auth/token`, { headers: { cookie } });
    if (!response.ok) throw new Error(`token failed: ${response.status}`);
    return ((await response.json()) as { token: string }).token;
  }

  /** Signs an arbitrary payload with Better Auth's own signJWT (its current key, its defaults). */
  async signPayload(payload: JWTPayload): Promise<string> {
    // jwt() is there whatever else the options add; TypeScript cannot see it through the generic.
    const auth = this.auth as unknown as IssuerAuth<[]>;
    const result = await auth.api.signJWT({ body: { payload } });
    return result.token;
  }

  /**
   * Signs with the issuer's real private key but a header and claims the test controls: the
   * attacker-side tests use it to vary one thing at a time around a genuine signature.
   */
  async signRaw(
    header: Record<string, unknown>,
    payload: JWTPayload,
    options?: RawSignOptions,
  ): Promise<string> {
    const current = await this.currentKey();
    const privateJwk = JSON.parse(current.privateKey) as JWK;
    const alg = current.alg ?? this.alg;
    if (options) {
      // Byte by byte, because jose refuses to produce the odd headers these tests need.
      const privateKey = createPrivateKey({ key: privateJwk, format: 'jwk' });
      const sign = options.sign ?? ((input: string) => signInput(alg, privateKey, input));
      return compact(
        options.encodedHeader ?? { alg, kid: current.id, ...header },
        options.encodedPayload ?? payload,
        (input) => sign(input, privateKey, alg),
      );
    }
    const key = await importJWK(privateJwk, alg);
    return new SignJWT(payload).setProtectedHeader({ alg, kid: current.id, ...header }).sign(key);
  }

  /** Standard claims for `signRaw`, as Better Auth would set them for `sub`. */
  claimsFor(sub: string, extra: JWTPayload = {}): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    return { sub, iss: this.url, aud: this.url, iat: now, exp: now + 900, ...extra };
  }

  /** The public JWKS as served. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const response = await fetch(this.jwksUrl);
    return (await response.json()) as { keys: JWK[] };
  }

  /**
   * Rotates the signing key the way Better Auth does when `rotationInterval` elapses: the
   * current key expires (it stays in the JWKS for the grace period) and the next token is
   * signed with a freshly minted key with a new `kid`.
   */
  async rotateKey(): Promise<void> {
    await this.currentKey();
    for (const row of this.db.jwks as unknown as StoredJwk[]) {
      if (!row.expiresAt || row.expiresAt > new Date()) row.expiresAt = new Date(Date.now() - 1);
    }
    await this.signPayload({ sub: 'rotation-probe' });
  }

  /**
   * The rows of one Better Auth table as the memory store holds them, for what an operator
   * would write in the database directly.
   */
  rows(model: string): Record<string, unknown>[] {
    const rows = this.db[model];
    if (!rows) throw new Error(`no table ${model}`);
    return rows;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async currentKey(): Promise<StoredJwk> {
    const live = () =>
      (this.db.jwks as unknown as StoredJwk[])
        .filter((k) => !k.expiresAt || k.expiresAt > new Date())
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    if (!live()) await this.signPayload({ sub: 'key-probe' });
    return live();
  }
}

/**
 * CORS for the trusted browser origins (Better Auth leaves CORS to the server around it): their
 * credentialed calls are allowed; true when this answered a preflight and the request is done.
 */
function allowCors(req: IncomingMessage, res: ServerResponse, trusted: Set<string>): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || !trusted.has(origin)) return false;
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-allow-credentials', 'true');
  res.setHeader('vary', 'Origin');
  if (req.method !== 'OPTIONS') return false;
  res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
  res.setHeader('access-control-allow-headers', 'content-type, authorization');
  res.setHeader('access-control-max-age', '600');
  res.writeHead(204).end();
  return true;
}

function createAuth<Plugins extends BetterAuthPlugin[]>(
  url: string,
  db: MemoryDb,
  alg: BetterAuthAlgorithm,
  options: IssuerOptions<Plugins>,
  trustedOrigins: string[],
) {
  const { audience, definePayload } = options;
  // definePayload runs per token, after betterAuth() has returned; it reads the store through it.
  const self: { store?: Promise<IssuerStore> } = {};
  const auth = betterAuth({
    baseURL: url,
    secret: randomBytes(32).toString('hex'),
    database: memoryAdapter(db),
    emailAndPassword: { enabled: true, autoSignIn: true },
    trustedOrigins: [url, ...trustedOrigins],
    logger: { disabled: true },
    telemetry: { enabled: false },
    plugins: [
      ...((options.plugins ?? []) as Plugins),
      jwt({
        jwks: {
          keyPairConfig:
            alg === 'RS256' || alg === 'PS256' ? { alg, modulusLength: 2048 } : { alg },
          // Stored unencrypted so the attacker-side tests can sign around a genuine key.
          disablePrivateKeyEncryption: true,
        },
        jwt: {
          ...(audience ? { audience } : {}),
          ...(definePayload
            ? { definePayload: async (input) => definePayload(input, await self.store!) }
            : {}),
        },
      }),
    ],
  });
  self.store = auth.$context.then((context) => context.adapter);
  return auth;
}
