import fc from 'fast-check';
import { exportJWK, SignJWT } from 'jose';
import { generateKeyPairSync, KeyObject, sign as cryptoSign } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { AuthConfig } from '../config/app-config';
import { AppConfigService } from '../config/app-config.service';
import { MetricsService } from '../metrics/metrics.service';
import { InvalidTokenException, KeysUnavailableException } from './auth.errors';
import { AuthMetrics } from './auth.metrics';
import { JwksKey, JwksKeyStore, KeyLookup } from './jwks/jwks-key-store';
import { TokenVerifier } from './token-verifier.service';

/** Metrics that count but are served nowhere. */
function authMetrics(): AuthMetrics {
  const config = { metrics: { port: 0, host: '127.0.0.1' } } as unknown as AppConfigService;
  return new AuthMetrics(new MetricsService(config));
}

/**
 * TokenVerifier on its own, with a real Ed25519 key behind a stub key store: each token check
 * one by one, and properties over random input (only the issuer's key can make a token
 * pass; every refusal is an InvalidTokenException whose reason is safe in a header).
 */

const ISSUER = 'https://issuer.example.test';
const KID = 'k1';
const issuerKeys = generateKeyPairSync('ed25519');
const attackerKeys = generateKeyPairSync('ed25519');
const jwksKey: JwksKey = { kid: KID, alg: 'EdDSA', key: issuerKeys.publicKey };

/** RFC 6750 error_description: %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash). */
const HEADER_SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;

function b64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

function token(
  header: unknown,
  payload: unknown,
  key = issuerKeys.privateKey,
  encode: (value: unknown) => string = (value) => b64url(JSON.stringify(value)),
): string {
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${b64url(cryptoSign(null, Buffer.from(input), key))}`;
}

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { sub: 'user-1', iss: ISSUER, aud: ISSUER, iat: now, exp: now + 900, ...extra };
}

const RESOURCE = 'https://api.example.test';
const OAUTH_ISSUER = `${ISSUER}/api/auth`;

function makeVerifier(oauth?: AuthConfig['oauth']): TokenVerifier {
  const keyStore = {
    findKey: (alg: string, kid: string | undefined): Promise<KeyLookup> =>
      Promise.resolve(
        (kid === KID || kid === undefined) && (alg === 'EdDSA' || alg === 'Ed25519')
          ? { status: 'found', key: jwksKey }
          : { status: 'unknown' },
      ),
    isCurrent: () => true,
    refreshIfStale: () => undefined,
  };
  const config = {
    auth: {
      algorithms: ['EdDSA'],
      issuer: ISSUER,
      audiences: [ISSUER],
      clockToleranceSeconds: 5,
      // No cache: every call runs every check.
      tokenCache: { maxEntries: 0, maxAgeSeconds: 0 },
      oauth,
    },
  } as unknown as AppConfigService;
  return new TokenVerifier(config, keyStore as unknown as JwksKeyStore, authMetrics());
}

async function refusal(verifier: TokenVerifier, value: string): Promise<InvalidTokenException> {
  try {
    await verifier.verify(value);
  } catch (error) {
    if (error instanceof InvalidTokenException) return error;
    throw error;
  }
  throw new Error(`accepted: ${value}`);
}

describe('TokenVerifier', () => {
  const verifier = makeVerifier();
  const header = { alg: 'EdDSA', kid: KID };

  it('accepts a token signed by the issuer key and maps the user from its claims', async () => {
    const user = await verifier.verify(
      token(header, claims({ email: 'ada@example.com', name: 'Ada', emailVerified: true })),
    );
    expect(user).toMatchObject({
      id: 'user-1',
      email: 'ada@example.com',
      name: 'Ada',
      emailVerified: true,
      image: null,
    });
  });

  it.each([
    ['255 characters', 'u'.repeat(255)],
    ['255 astral characters', '\u{1F600}'.repeat(255)],
    ['non-ASCII letters and spaces', 'Zoë O\u2019Brien 用户'],
  ])('accepts a sub of %s', async (_name, sub) => {
    expect((await verifier.verify(token(header, claims({ sub })))).id).toBe(sub);
  });

  it.each<[string, () => string, string]>([
    [
      'a session token',
      () => 'zyGFDmtYA8Wb6N5zio6rmuFx1td4Skbx',
      'not a JWT; send the JWT from GET /api/auth/token',
    ],
    ['two parts', () => 'abc.def', 'not a JWT; send the JWT from GET /api/auth/token'],
    ['five base64url parts', () => 'a.b.c.d.e', 'encrypted tokens (JWE) are not accepted'],
    [
      'an empty signature',
      () => token(header, claims()).replace(/\.[^.]+$/, '.'),
      'missing signature',
    ],
    [
      'an empty signature under alg none',
      () => `${b64url('{"alg":"none"}')}.${b64url(JSON.stringify(claims()))}.`,
      'algorithm not allowed',
    ],
    [
      'non-zero pad bits in the signature',
      () => respellLastChar(token(header, claims())),
      'malformed token',
    ],
    [
      'b64: false',
      () => token({ ...header, b64: false }, claims()),
      'unencoded payload (b64) not accepted',
    ],
    [
      'crit',
      () => token({ ...header, crit: ['b64'], b64: false }, claims()),
      'unsupported critical header',
    ],
    [
      'typ logout+jwt',
      () => token({ ...header, typ: 'logout+jwt' }, claims()),
      'unexpected token type',
    ],
    ['a numeric sub', () => token(header, claims({ sub: 7 })), 'invalid sub claim'],
    ['an empty sub', () => token(header, claims({ sub: '' })), 'missing or empty sub claim'],
    [
      'a sub of 256 characters',
      () => token(header, claims({ sub: 'u'.repeat(256) })),
      'sub claim too long',
    ],
    [
      'a sub of 256 astral characters',
      () => token(header, claims({ sub: '\u{1F600}'.repeat(256) })),
      'sub claim too long',
    ],
    [
      'a sub with NUL',
      () => token(header, claims({ sub: 'user\u00001' })),
      'control characters in sub claim',
    ],
    [
      'a sub with a newline',
      () => token(header, claims({ sub: 'user\n1' })),
      'control characters in sub claim',
    ],
    [
      'a sub with DEL',
      () => token(header, claims({ sub: 'user\u007f' })),
      'control characters in sub claim',
    ],
    [
      'a sub with a C1 control',
      () => token(header, claims({ sub: 'user\u0085' })),
      'control characters in sub claim',
    ],
    [
      'a sub with a lone surrogate',
      () => token(header, claims({ sub: 'user\ud800' })),
      'malformed sub claim',
    ],
    [
      'exp 1e400',
      () =>
        token(header, claims(), issuerKeys.privateKey, (value) =>
          b64url(JSON.stringify(value).replace(/"exp":\d+/, '"exp":1e400')),
        ),
      'invalid exp claim',
    ],
    [
      'iat in the future',
      () => token(header, claims({ iat: Math.floor(Date.now() / 1000) + 60 })),
      'token issued in the future',
    ],
    [
      'the attacker key',
      () => token(header, claims(), attackerKeys.privateKey),
      'signature verification failed',
    ],
  ])('refuses %s', async (_name, make, reason) => {
    expect((await refusal(verifier, make())).reason).toBe(reason);
  });

  describe('properties', () => {
    const anyHeader = fc.oneof(
      fc.record(
        {
          alg: fc.oneof(
            fc.constantFrom('EdDSA', 'Ed25519', 'none', 'HS256', 'ES256'),
            fc.jsonValue(),
          ),
          kid: fc.oneof(fc.constant(KID), fc.jsonValue()),
          typ: fc.jsonValue(),
          crit: fc.jsonValue(),
          b64: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );
    const anyPayload = fc.oneof(
      fc.record(
        {
          sub: fc.oneof(fc.constant('user-1'), fc.jsonValue()),
          iss: fc.oneof(fc.constant(ISSUER), fc.jsonValue()),
          aud: fc.oneof(fc.constant(ISSUER), fc.jsonValue()),
          exp: fc.oneof(
            fc.constant(Math.floor(Date.now() / 1000) + 900),
            fc.double(),
            fc.jsonValue(),
          ),
          nbf: fc.oneof(fc.integer(), fc.jsonValue()),
          iat: fc.oneof(fc.integer(), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );

    const expectSafeRefusal = async (value: string) => {
      const error = await refusal(verifier, value);
      expect(error.reason).toMatch(HEADER_SAFE);
      expect(error.getStatus()).toBe(401);
    };

    it('refuses any string with a header-safe reason', async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 400 }), expectSafeRefusal),
        { numRuns: 500 },
      );
    });

    it('refuses any header and payload signed with random bytes', async () => {
      await fc.assert(
        fc.asyncProperty(
          anyHeader,
          anyPayload,
          fc.uint8Array({ maxLength: 128 }),
          async (h, p, s) => {
            await expectSafeRefusal(
              `${b64url(JSON.stringify(h))}.${b64url(JSON.stringify(p))}.${b64url(s)}`,
            );
          },
        ),
        { numRuns: 500 },
      );
    });

    it('refuses any header and payload signed by another Ed25519 key', async () => {
      await fc.assert(
        fc.asyncProperty(anyHeader, anyPayload, async (h, p) => {
          await expectSafeRefusal(token(h, p, attackerKeys.privateKey));
        }),
        { numRuns: 300 },
      );
    });

    it('accepts any issuer-signed token whose claims hold, whatever else it carries, with id = sub', async () => {
      const extra = fc.dictionary(
        fc
          .string({ minLength: 1, maxLength: 8 })
          .filter((k) => !['sub', 'iss', 'aud', 'exp', 'nbf', 'iat'].includes(k)),
        fc.jsonValue(),
        { maxKeys: 5 },
      );
      await fc.assert(
        fc.asyncProperty(fc.string({ minLength: 1, maxLength: 64 }), extra, async (sub, rest) => {
          const user = await verifier.verify(token(header, { ...rest, ...claims({ sub }) }));
          expect(user.id).toBe(sub);
        }),
        { numRuns: 200 },
      );
    });

    it('refuses every one-character change of a genuine token', async () => {
      const genuine = token(header, claims());
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=';
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: genuine.length - 1 }),
          fc.constantFrom(...alphabet.split('')),
          async (index, char) => {
            fc.pre(genuine[index] !== char);
            await expectSafeRefusal(`${genuine.slice(0, index)}${char}${genuine.slice(index + 1)}`);
          },
        ),
        { numRuns: 500 },
      );
    });
  });
});

describe('TokenVerifier: OAuth access tokens', () => {
  const header = { alg: 'EdDSA', kid: KID };
  const accessHeader = { ...header, typ: 'at+jwt' };
  const accessClaims = (extra: Record<string, unknown> = {}) =>
    claims({
      iss: OAUTH_ISSUER,
      aud: RESOURCE,
      azp: 'client-a',
      scope: 'openid todos:read',
      ...extra,
    });
  const verifier = makeVerifier({ resource: RESOURCE, issuer: OAUTH_ISSUER });

  it('accepts an at+jwt for the resource with its client and scopes', async () => {
    const user = await verifier.verify(token(accessHeader, accessClaims()));
    expect(user).toMatchObject({
      id: 'user-1',
      tokenKind: 'access',
      clientId: 'client-a',
      scopes: ['openid', 'todos:read'],
    });
  });

  it.each(['at+jwt', 'AT+JWT', 'At+Jwt', 'application/at+jwt', 'Application/AT+JWT'])(
    'reads typ %s as an access token',
    async (typ) => {
      const user = await verifier.verify(token({ ...header, typ }, accessClaims()));
      expect(user.tokenKind).toBe('access');
    },
  );

  it.each([undefined, 'JWT', 'jwt', 'application/JWT'])(
    'reads typ %s as a session JWT, held to the session issuer and audience',
    async (typ) => {
      const sessionHeader = typ === undefined ? header : { ...header, typ };
      const user = await verifier.verify(token(sessionHeader, claims({ scope: 'todos:read' })));
      expect(user).toMatchObject({ tokenKind: 'session', scopes: [], clientId: null });
      // The access token's issuer and audience do not make a session JWT.
      const refused = await refusal(verifier, token(sessionHeader, accessClaims()));
      expect(refused.reason).toBe('wrong issuer');
    },
  );

  it('takes client_id when there is no azp, and splits scope on spaces only', async () => {
    const user = await verifier.verify(
      token(
        accessHeader,
        accessClaims({ azp: undefined, client_id: 'client-b', scope: ' a  b,c ' }),
      ),
    );
    expect(user).toMatchObject({ clientId: 'client-b', scopes: ['a', 'b,c'] });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['another resource', { aud: 'https://other.example.test' }, 'wrong audience'],
    ['the session audience', { aud: ISSUER }, 'wrong audience'],
    ['the session issuer', { iss: ISSUER }, 'wrong issuer'],
    ['scope as an array', { scope: ['todos:read'] }, 'invalid scope claim'],
    ['a numeric scope', { scope: 1 }, 'invalid scope claim'],
    ['no scope', { scope: undefined }, 'invalid scope claim'],
    ['no client', { azp: undefined }, 'missing azp or client_id claim'],
    ['an empty azp', { azp: '' }, 'missing azp or client_id claim'],
    ['no sub (a client credentials token)', { sub: undefined }, 'missing or empty sub claim'],
    [
      'sub = the client (a client credentials token)',
      { sub: 'client-a' },
      'client credentials tokens (no user) are not accepted',
    ],
  ])('refuses an access token with %s', async (_name, extra, reason) => {
    expect((await refusal(verifier, token(accessHeader, accessClaims(extra)))).reason).toBe(reason);
  });

  it.each(['at+jwt ', 'at-jwt', 'token+jwt', 'logout+jwt', 'application/at+jwt+x'])(
    'refuses typ %j',
    async (typ) => {
      const refused = await refusal(verifier, token({ ...header, typ }, accessClaims()));
      expect(refused.reason).toBe('unexpected token type');
    },
  );

  it('refuses access tokens when OAUTH_RESOURCE is unset', async () => {
    const refused = await refusal(makeVerifier(), token(accessHeader, accessClaims()));
    expect(refused.reason).toBe('OAuth access tokens are not accepted by this API');
  });

  it('tells the sender of an opaque token to request it with resource', async () => {
    const refused = await refusal(verifier, 'zyGFDmtYA8Wb6N5zio6rmuFx1td4Skbx');
    expect(refused.reason).toBe(
      'not a JWT; send the JWT from GET /api/auth/token, or request the OAuth access token with resource',
    );
    expect(refused.message).toContain(`resource=${RESOURCE}`);
  });

  it('reads roles and the active organization from comma-separated claims', async () => {
    const user = await verifier.verify(
      token(
        header,
        claims({
          role: 'user, admin,',
          activeOrganizationId: 'org-1',
          organizationRole: 'member,admin',
        }),
      ),
    );
    expect(user).toMatchObject({
      roles: ['user', 'admin'],
      organization: { id: 'org-1', roles: ['member', 'admin'] },
    });
    const plain = await verifier.verify(
      token(header, claims({ role: ['admin'], organizationRole: 'owner' })),
    );
    expect(plain).toMatchObject({ roles: [], organization: null });
  });
});

/** The same signature bytes with another spelling: flip an unused low bit of the last char. */
function respellLastChar(value: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = value.at(-1) as string;
  return `${value.slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ 1]}`;
}

// The verified-token cache, seen through the verifier (its own clock, keys and JWKS server).
describe('TokenVerifier: the verified-token cache', () => {
  /** How TokenVerifier uses its verified-token cache, with real Ed25519 signatures. */

  const ISSUER = 'http://127.0.0.1:3000';
  const T0 = Date.UTC(2026, 0, 1, 12);
  const TOLERANCE_S = 5;

  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwksKey: JwksKey = { kid: 'k1', alg: 'EdDSA', key: publicKey };

  /** Only what TokenVerifier calls; `findKey` is what a verification (a cache miss) costs. */
  class FakeKeyStore {
    current = true;
    lookup: KeyLookup = { status: 'found', key: jwksKey };
    readonly findKey = jest.fn(() => Promise.resolve(this.lookup));
    readonly isCurrent = jest.fn(() => this.current);
    readonly refreshIfStale = jest.fn();
  }

  function verifier(
    tokenCache: AuthConfig['tokenCache'] = { maxEntries: 100, maxAgeSeconds: 300 },
  ) {
    const keyStore = new FakeKeyStore();
    const config = {
      auth: {
        algorithms: ['EdDSA'],
        issuer: ISSUER,
        audiences: [ISSUER],
        clockToleranceSeconds: TOLERANCE_S,
        tokenCache,
      },
    } as unknown as AppConfigService;
    return {
      keyStore,
      verifier: new TokenVerifier(config, keyStore as unknown as JwksKeyStore, authMetrics()),
    };
  }

  /** A Better Auth-shaped token: iat now, exp in 15 minutes unless overridden. */
  function sign(
    claims: Record<string, unknown> = {},
    key: KeyObject = privateKey,
    now = Date.now(),
  ): Promise<string> {
    const iat = Math.floor(now / 1000);
    return new SignJWT({
      sub: 'u1',
      iss: ISSUER,
      aud: ISSUER,
      iat,
      exp: iat + 900,
      email: 'ada@example.com',
      name: 'Ada',
      emailVerified: true,
      ...claims,
    })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .sign(key);
  }

  /** Replaces one character of a token segment with another base64url character. */
  function changeOneByte(token: string, segment: number): string {
    const parts = token.split('.');
    const s = parts[segment];
    const i = Math.floor(s.length / 2);
    parts[segment] = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    return parts.join('.');
  }

  async function reason(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof InvalidTokenException) return error.reason;
      throw error;
    }
    throw new Error('expected the token to be refused');
  }

  describe('TokenVerifier with its verified-token cache', () => {
    beforeEach(() => {
      // Only the clock is faked: jose and WebCrypto still need real ticks and microtasks.
      jest.useFakeTimers({
        now: T0,
        doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'setTimeout', 'setInterval'],
      });
    });

    afterEach(() => jest.useRealTimers());

    it('verifies a token once and serves repeats from the cache', async () => {
      const { verifier: v, keyStore } = verifier();
      const token = await sign();

      const first = await v.verify(token);
      const second = await v.verify(token);

      expect(second).toBe(first);
      expect(first.id).toBe('u1');
      expect(keyStore.findKey).toHaveBeenCalledTimes(1);
    });

    it('never caches a refused token: each attempt is verified afresh and refused', async () => {
      const { verifier: v, keyStore } = verifier();
      const token = await sign({ aud: 'https://someone-else.example' });

      expect(await reason(v.verify(token))).toBe('wrong audience');
      expect(await reason(v.verify(token))).toBe('wrong audience');
      expect(keyStore.findKey).toHaveBeenCalledTimes(2);
    });

    it('never caches a token with a bad signature', async () => {
      const { verifier: v, keyStore } = verifier();
      const forged = await sign({}, generateKeyPairSync('ed25519').privateKey);

      expect(await reason(v.verify(forged))).toBe('signature verification failed');
      expect(await reason(v.verify(forged))).toBe('signature verification failed');
      expect(keyStore.findKey).toHaveBeenCalledTimes(2);
    });

    it.each([
      // A changed header is refused by the header checks, before any key lookup.
      ['header', 0, 0],
      ['payload', 1, 1],
      ['signature', 2, 1],
    ])(
      'treats a cached token with one changed %s byte as a miss and refuses it',
      async (_part, segment, verifications) => {
        const { verifier: v, keyStore } = verifier();
        const token = await sign();
        await v.verify(token);
        keyStore.findKey.mockClear();

        await expect(v.verify(changeOneByte(token, segment))).rejects.toBeInstanceOf(
          InvalidTokenException,
        );
        expect(keyStore.findKey).toHaveBeenCalledTimes(verifications);
        // The original is still a hit.
        await v.verify(token);
        expect(keyStore.findKey).toHaveBeenCalledTimes(verifications);
      },
    );

    it('refuses a cached token once it expires (exp + tolerance), like an uncached one', async () => {
      const { verifier: v, keyStore } = verifier({ maxEntries: 100, maxAgeSeconds: 3600 });
      const token = await sign();
      await v.verify(token);

      jest.setSystemTime(T0 + (900 + TOLERANCE_S) * 1000 - 1000);
      await expect(v.verify(token)).resolves.toMatchObject({ id: 'u1' });
      expect(keyStore.findKey).toHaveBeenCalledTimes(1);

      jest.setSystemTime(T0 + (900 + TOLERANCE_S) * 1000 + 1000);
      expect(await reason(v.verify(token))).toBe('token expired');
      expect(keyStore.findKey).toHaveBeenCalledTimes(2);
    });

    it('verifies again after TOKEN_CACHE_MAX_AGE_SECONDS, even for a token still valid', async () => {
      const { verifier: v, keyStore } = verifier({ maxEntries: 100, maxAgeSeconds: 60 });
      const token = await sign();
      await v.verify(token);

      jest.setSystemTime(T0 + 59_000);
      await v.verify(token);
      expect(keyStore.findKey).toHaveBeenCalledTimes(1);

      jest.setSystemTime(T0 + 60_000);
      await v.verify(token);
      expect(keyStore.findKey).toHaveBeenCalledTimes(2);
    });

    it('re-checks time claims on a hit: a clock moved back before iat refuses the token', async () => {
      const { verifier: v } = verifier();
      const token = await sign();
      await v.verify(token);

      jest.setSystemTime(T0 - (TOLERANCE_S + 60) * 1000);
      expect(await reason(v.verify(token))).toBe('token issued in the future');
    });

    it('drops cached tokens of a key that left the JWKS and refuses them', async () => {
      const { verifier: v, keyStore } = verifier();
      const token = await sign();
      await v.verify(token);

      keyStore.current = false;
      keyStore.lookup = { status: 'unknown' };

      expect(await reason(v.verify(token))).toBe('signing key not found in the JWKS');
      expect(keyStore.isCurrent).toHaveBeenCalledWith(jwksKey);
      expect(keyStore.findKey).toHaveBeenCalledTimes(2);
    });

    it('keeps separate entries for two tokens of the same user', async () => {
      const { verifier: v, keyStore } = verifier();
      const a = await sign({ name: 'Ada' });
      const b = await sign({ name: 'Ada Lovelace' });

      expect((await v.verify(a)).name).toBe('Ada');
      expect((await v.verify(b)).name).toBe('Ada Lovelace');
      expect((await v.verify(a)).name).toBe('Ada');
      expect(keyStore.findKey).toHaveBeenCalledTimes(2);
    });

    it('verifies every time when TOKEN_CACHE_MAX_ENTRIES is 0', async () => {
      const { verifier: v, keyStore } = verifier({ maxEntries: 0, maxAgeSeconds: 300 });
      const token = await sign();

      for (let i = 0; i < 3; i++) await v.verify(token);

      expect(keyStore.findKey).toHaveBeenCalledTimes(3);
    });

    it('holds at most TOKEN_CACHE_MAX_ENTRIES tokens, evicting the least recently used', async () => {
      const { verifier: v, keyStore } = verifier({ maxEntries: 2, maxAgeSeconds: 300 });
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => sign({ name: n })));
      await v.verify(a);
      await v.verify(b);
      await v.verify(a);
      await v.verify(c); // evicts b, the least recently used
      expect(keyStore.findKey).toHaveBeenCalledTimes(3);

      await v.verify(a);
      await v.verify(c);
      expect(keyStore.findKey).toHaveBeenCalledTimes(3);
      await v.verify(b);
      expect(keyStore.findKey).toHaveBeenCalledTimes(4);
    });
  });

  describe('TokenVerifier cache with the real JwksKeyStore', () => {
    const TTL_S = 60;
    let server: Server;
    let jwk: object;
    let served: object[];
    let status: number;
    let jwksUrl: string;

    beforeAll(async () => {
      jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
      server = createServer((_req, res) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: served }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    });

    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    beforeEach(() => {
      served = [jwk];
      status = 200;
      jest.useFakeTimers({
        now: T0,
        doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'setTimeout', 'setInterval'],
      });
    });

    afterEach(() => jest.useRealTimers());

    async function realStore(maxStaleSeconds = 86_400) {
      const config = {
        auth: {
          algorithms: ['EdDSA'],
          issuer: ISSUER,
          audiences: [ISSUER],
          clockToleranceSeconds: TOLERANCE_S,
          tokenCache: { maxEntries: 100, maxAgeSeconds: 3600 },
          jwksUrl,
          jwksTimeoutMs: 2000,
          jwksCacheTtlSeconds: TTL_S,
          jwksCooldownSeconds: 0,
          jwksMaxStaleSeconds: maxStaleSeconds,
        },
      } as unknown as AppConfigService;
      const store = new JwksKeyStore(config, authMetrics());
      await store.onApplicationBootstrap();
      return { store, verifier: new TokenVerifier(config, store, authMetrics()) };
    }

    /** Moves the clock to `at`, lets one verification start the background refresh, awaits it. */
    async function refreshAt(store: JwksKeyStore, v: TokenVerifier, token: string, at: number) {
      const before = store.fetchCount;
      jest.setSystemTime(at);
      await v.verify(token).catch(() => undefined);
      for (let i = 0; i < 100 && store.fetchCount === before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(store.fetchCount).toBe(before + 1);
    }

    it('keeps answering a cached token from the cache when a refresh finds the same key', async () => {
      const { store, verifier: v } = await realStore();
      const token = await sign();
      await v.verify(token);
      const before = await store.findKey('EdDSA', 'k1');

      // A new JSON document, new objects: only kid, alg and material are the same.
      served = [JSON.parse(JSON.stringify(jwk)) as object];
      await refreshAt(store, v, token, T0 + TTL_S * 1000 + 1000);
      const findKey = jest.spyOn(store, 'findKey');
      await expect(v.verify(token)).resolves.toMatchObject({ id: 'u1' });
      expect(findKey).not.toHaveBeenCalled();
      findKey.mockRestore();
      const after = await store.findKey('EdDSA', 'k1');
      expect(
        after.status === 'found' && before.status === 'found' && after.key === before.key,
      ).toBe(true);
    });

    it('ends a cached token when a refresh finds other material under the same kid', async () => {
      const { store, verifier: v } = await realStore();
      const token = await sign();
      await v.verify(token);

      const other = generateKeyPairSync('ed25519').publicKey;
      served = [{ ...(await exportJWK(other)), kid: 'k1', alg: 'EdDSA', use: 'sig' }];
      await refreshAt(store, v, token, T0 + TTL_S * 1000 + 1000);
      expect(await reason(v.verify(token))).toBe('signature verification failed');
    });

    it('ends a cached token when a refresh finds the same material under another alg', async () => {
      const { store, verifier: v } = await realStore();
      const token = await sign();
      await v.verify(token);

      served = [{ ...jwk, alg: 'Ed25519' }];
      await refreshAt(store, v, token, T0 + TTL_S * 1000 + 1000);
      const findKey = jest.spyOn(store, 'findKey');
      await expect(v.verify(token)).resolves.toMatchObject({ id: 'u1' });
      expect(findKey).toHaveBeenCalledTimes(1);
    });

    it('stops verifying with keys kept through failing fetches after JWKS_MAX_STALE_SECONDS, cached tokens included', async () => {
      const MAX_STALE_S = 3 * TTL_S;
      const { store, verifier: v } = await realStore(MAX_STALE_S);
      const token = await sign({ exp: Math.floor(T0 / 1000) + 3600 });
      await v.verify(token);

      status = 500;
      await refreshAt(store, v, token, T0 + TTL_S * 1000 + 1000);
      // Within the limit the known key keeps working, from the cache and for a new token.
      await expect(v.verify(token)).resolves.toMatchObject({ id: 'u1' });
      const fresh = await sign({ name: 'fresh', exp: Math.floor(T0 / 1000) + 3600 });
      await expect(v.verify(fresh)).resolves.toMatchObject({ name: 'fresh' });
      expect(store.isLoaded).toBe(true);

      jest.setSystemTime(T0 + MAX_STALE_S * 1000);
      await expect(v.verify(token)).rejects.toBeInstanceOf(KeysUnavailableException);
      await expect(v.verify(fresh)).rejects.toBeInstanceOf(KeysUnavailableException);
      expect(store.isLoaded).toBe(false);

      // The key server answers again: once the retry pace (1 s at least) allows another fetch,
      // the same tokens verify, without a restart.
      status = 200;
      jest.setSystemTime(T0 + MAX_STALE_S * 1000 + 1000);
      await expect(v.verify(token)).resolves.toMatchObject({ id: 'u1' });
      expect(store.isLoaded).toBe(true);
    });

    it('stops serving a cached token once a refresh drops its key from the JWKS', async () => {
      const config = {
        auth: {
          algorithms: ['EdDSA'],
          issuer: ISSUER,
          audiences: [ISSUER],
          clockToleranceSeconds: TOLERANCE_S,
          tokenCache: { maxEntries: 100, maxAgeSeconds: 300 },
          jwksUrl,
          jwksTimeoutMs: 2000,
          jwksCacheTtlSeconds: TTL_S,
          jwksCooldownSeconds: 30,
        },
      } as unknown as AppConfigService;
      const store = new JwksKeyStore(config, authMetrics());
      await store.onApplicationBootstrap();
      const v = new TokenVerifier(config, store, authMetrics());
      const token = await sign();
      await expect(v.verify(token)).resolves.toMatchObject({ id: 'u1' });

      // The issuer withdraws the key; once the key set is older than its TTL the store refetches.
      served = [];
      jest.setSystemTime(T0 + TTL_S * 1000 + 1000);
      await v.verify(token).catch(() => undefined);
      for (let i = 0; i < 100 && store.fetchCount < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(store.fetchCount).toBeGreaterThanOrEqual(2);

      expect(await reason(v.verify(token))).toBe('signing key not found in the JWKS');
    });
  });
});
