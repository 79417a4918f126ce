import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { toNodeHandler } from 'better-auth/node';
import { jwt } from 'better-auth/plugins';
import { importJWK, JWTPayload, SignJWT, type JWK } from 'jose';
import { createPrivateKey, KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { compact, signInput } from './jws';

/** The algorithms Better Auth's jwt() plugin can sign with. */
export type BetterAuthAlgorithm = 'EdDSA' | 'ES256' | 'ES512' | 'RS256' | 'PS256';

export interface IssuerOptions {
  /** `jwks.keyPairConfig.alg`; Better Auth's default is EdDSA. */
  alg?: BetterAuthAlgorithm;
  /** `jwt.audience`; Better Auth's default is its base URL. */
  audience?: string;
  /** Fixed port (the `npm run issuer` script uses 3000); tests use a free one. */
  port?: number;
  host?: string;
  /** Sees every HTTP request before Better Auth does (the benchmark counts JWKS fetches with it). */
  onRequest?: (request: IncomingMessage) => void;
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

export interface IssuedUser {
  id: string;
  email: string;
  name: string;
  /** Better Auth's opaque session token (what the session cookie holds). Not a JWT. */
  sessionToken: string;
  /** The session cookie, as a browser would send it. */
  cookie: string;
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

/**
 * A real Better Auth server (the `better-auth` package: memory adapter, email and password,
 * the jwt() plugin) served over HTTP on a local port, for tests and `npm run issuer`.
 */
export class BetterAuthIssuer {
  private constructor(
    readonly url: string,
    private readonly server: Server,
    private readonly auth: ReturnType<typeof createAuth>,
    private readonly db: MemoryDb,
    readonly alg: BetterAuthAlgorithm,
  ) {}

  static async start(options: IssuerOptions = {}): Promise<BetterAuthIssuer> {
    const alg = options.alg ?? 'EdDSA';
    const route: { handler?: (req: IncomingMessage, res: ServerResponse) => void } = {};
    const server = createServer((req, res) => {
      options.onRequest?.(req);
      route.handler?.(req, res);
    });
    await new Promise<void>((resolve) =>
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
    );
    const { port } = server.address() as AddressInfo;
    const url = `http://${options.host === 'localhost' ? 'localhost' : '127.0.0.1'}:${port}`;
    const db: MemoryDb = { user: [], session: [], account: [], verification: [], jwks: [] };
    const auth = createAuth(url, db, alg, options.audience);
    const nodeHandler = toNodeHandler(auth);
    route.handler = (req, res) => void nodeHandler(req, res);
    return new BetterAuthIssuer(url, server, auth, db, alg);
  }

  get jwksUrl(): string {
    return `${this.url}/api/auth/jwks`;
  }

  /** Signs a user up over HTTP, like a frontend, and fetches their JWT from /api/auth/token. */
  async createUser(overrides: { email?: string; name?: string } = {}): Promise<IssuedUser> {
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
    return {
      id: body.user.id,
      email,
      name,
      sessionToken: body.token,
      cookie,
      jwt: await this.tokenFor(cookie),
    };
  }

  /** GET /api/auth/token with the session cookie: how a frontend obtains a JWT. */
  async tokenFor(cookie: string): Promise<string> {
    const response = await fetch(`${this.url}/api/auth/token`, { headers: { cookie } });
    if (!response.ok) throw new Error(`token failed: ${response.status}`);
    return ((await response.json()) as { token: string }).token;
  }

  /** Signs an arbitrary payload with Better Auth's own signJWT (its current key, its defaults). */
  async signPayload(payload: JWTPayload): Promise<string> {
    const result = await this.auth.api.signJWT({ body: { payload } });
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

function createAuth(url: string, db: MemoryDb, alg: BetterAuthAlgorithm, audience?: string) {
  return betterAuth({
    baseURL: url,
    secret: randomBytes(32).toString('hex'),
    database: memoryAdapter(db),
    emailAndPassword: { enabled: true, autoSignIn: true },
    trustedOrigins: [url],
    logger: { disabled: true },
    telemetry: { enabled: false },
    plugins: [
      jwt({
        jwks: {
          keyPairConfig:
            alg === 'RS256' || alg === 'PS256' ? { alg, modulusLength: 2048 } : { alg },
          // Stored unencrypted so the attacker-side tests can sign around a genuine key.
          disablePrivateKeyEncryption: true,
        },
        ...(audience ? { jwt: { audience } } : {}),
      }),
    ],
  });
}
