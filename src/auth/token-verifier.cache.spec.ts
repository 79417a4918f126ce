import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { exportJWK, SignJWT } from 'jose';
import { AuthConfig } from '../config/app-config';
import { AppConfigService } from '../config/app-config.service';
import { InvalidTokenException } from './auth.errors';
import { JwksKey, JwksKeyStore, KeyLookup } from './jwks/jwks-key-store';
import { TokenVerifier } from './token-verifier.service';

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

function verifier(tokenCache: AuthConfig['tokenCache'] = { maxEntries: 100, maxAgeSeconds: 300 }) {
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
  return { keyStore, verifier: new TokenVerifier(config, keyStore as unknown as JwksKeyStore) };
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
  let served: object[];
  let jwksUrl: string;

  beforeAll(async () => {
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
    served = [jwk];
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => {
    jest.useFakeTimers({
      now: T0,
      doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'setTimeout', 'setInterval'],
    });
  });

  afterEach(() => jest.useRealTimers());

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
    const store = new JwksKeyStore(config);
    await store.onApplicationBootstrap();
    const v = new TokenVerifier(config, store);
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
