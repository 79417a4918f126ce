import { Logger } from '@nestjs/common';
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { JwtAlgorithm, SUPPORTED_JWT_ALGORITHMS } from '../../config/app-config';
import { AppConfigService } from '../../config/app-config.service';
import { MetricsService } from '../../metrics/metrics.service';
import { AuthMetrics } from '../auth.metrics';
import { JwksKey, JwksKeyStore, keyFitsAlgorithm } from './jwks-key-store';

/** Metrics that count but are served nowhere. */
function authMetrics(): AuthMetrics {
  const config = { metrics: { port: 0, host: '127.0.0.1' } } as unknown as AppConfigService;
  return new AuthMetrics(new MetricsService(config));
}

type KeyKind = 'ed25519' | 'ed448' | 'P-256' | 'P-384' | 'P-521' | 'secp256k1' | 'rsa';

function publicKey(kind: KeyKind): KeyObject {
  switch (kind) {
    case 'ed25519':
      return generateKeyPairSync('ed25519').publicKey;
    case 'ed448':
      return generateKeyPairSync('ed448').publicKey;
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    default:
      return generateKeyPairSync('ec', { namedCurve: kind }).publicKey;
  }
}

const KINDS: KeyKind[] = ['ed25519', 'ed448', 'P-256', 'P-384', 'P-521', 'secp256k1', 'rsa'];
const KEYS = Object.fromEntries(KINDS.map((kind) => [kind, publicKey(kind)])) as Record<
  KeyKind,
  KeyObject
>;

/** Which key type serves which alg, written out rather than derived so the code cannot check itself. */
const FITS: Record<KeyKind, JwtAlgorithm[]> = {
  ed25519: ['EdDSA', 'Ed25519'],
  ed448: [],
  'P-256': ['ES256'],
  'P-384': ['ES384'],
  'P-521': ['ES512'],
  secp256k1: [],
  rsa: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
};

const ALGORITHMS = [...SUPPORTED_JWT_ALGORITHMS];

describe('keyFitsAlgorithm', () => {
  const cases = KINDS.flatMap((kind) =>
    ALGORITHMS.map((alg) => [kind, alg, FITS[kind].includes(alg)] as const),
  );

  it.each(cases)('a %s key without its own alg, for %s: %s', (kind, alg, fits) => {
    expect(keyFitsAlgorithm({ kid: 'k', alg: undefined, key: KEYS[kind] }, alg)).toBe(fits);
  });

  it.each(cases)('a %s key whose alg is the token alg %s: %s', (kind, alg, fits) => {
    expect(keyFitsAlgorithm({ kid: 'k', alg, key: KEYS[kind] }, alg)).toBe(fits);
  });

  it('never fits when the key names another alg, even of the same family', () => {
    for (const kind of KINDS) {
      for (const keyAlg of ALGORITHMS) {
        for (const alg of ALGORITHMS) {
          const aliases =
            ['EdDSA', 'Ed25519'].includes(keyAlg) && ['EdDSA', 'Ed25519'].includes(alg);
          if (keyAlg === alg || aliases) continue;
          expect(keyFitsAlgorithm({ kid: 'k', alg: keyAlg, key: KEYS[kind] }, alg)).toBe(false);
        }
      }
    }
  });

  it('treats EdDSA and Ed25519 as one name, on Ed25519 keys only', () => {
    const ed: JwksKey = { kid: 'k', alg: 'Ed25519', key: KEYS.ed25519 };
    expect(keyFitsAlgorithm(ed, 'EdDSA')).toBe(true);
    expect(keyFitsAlgorithm({ ...ed, alg: 'EdDSA' }, 'Ed25519')).toBe(true);
    expect(keyFitsAlgorithm({ ...ed, key: KEYS.ed448, alg: 'EdDSA' }, 'EdDSA')).toBe(false);
  });

  it('refuses keys whose alg is not a signature algorithm', () => {
    for (const keyAlg of ['none', 'HS256', 'RSA-OAEP', 'ECDH-ES', '']) {
      expect(keyFitsAlgorithm({ kid: 'k', alg: keyAlg, key: KEYS.rsa }, 'RS256')).toBe(false);
    }
  });
});

describe('JwksKeyStore', () => {
  const JWKS_URL = 'http://127.0.0.1:9/jwks';
  let fetchMock: jest.SpiedFunction<typeof fetch>;
  let now: number;
  let served: () => Response;

  const jwk = (kind: KeyKind, kid: string | undefined, extra: Record<string, unknown> = {}) => ({
    ...KEYS[kind].export({ format: 'jwk' }),
    ...(kid === undefined ? {} : { kid }),
    ...extra,
  });
  const serve = (keys: unknown[]) => {
    served = () => new Response(JSON.stringify({ keys }), { status: 200 });
  };

  function store(auth: Partial<AppConfigService['auth']> = {}): JwksKeyStore {
    const config = {
      auth: {
        jwksUrl: JWKS_URL,
        jwksTimeoutMs: 1000,
        jwksMaxStaleSeconds: 86_400,
        jwksCacheTtlSeconds: 600,
        jwksCooldownSeconds: 30,
        ...auth,
      },
    } as unknown as AppConfigService;
    return new JwksKeyStore(config, authMetrics());
  }

  beforeEach(() => {
    for (const level of ['log', 'warn'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
    }
    now = Date.UTC(2026, 0, 1);
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    fetchMock = jest.spyOn(globalThis, 'fetch').mockImplementation(() => Promise.resolve(served()));
    serve([]);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it("picks a kid-less token's key only when exactly one key fits its alg", async () => {
    serve([jwk('ed25519', 'ed-1'), jwk('rsa', 'rsa-1', { alg: 'RS256' })]);
    const keys = store({ jwksCooldownSeconds: 0 });
    await keys.onApplicationBootstrap();
    expect(await keys.findKey('EdDSA', undefined)).toMatchObject({
      status: 'found',
      key: { kid: 'ed-1' },
    });
    expect(await keys.findKey('RS256', undefined)).toMatchObject({
      status: 'found',
      key: { kid: 'rsa-1' },
    });
    expect(await keys.findKey('ES256', undefined)).toEqual({ status: 'unknown' });

    serve([jwk('ed25519', 'ed-1'), jwk('ed25519', 'ed-2')]);
    const two = store({ jwksCooldownSeconds: 0 });
    await two.onApplicationBootstrap();
    expect(await two.findKey('EdDSA', undefined)).toEqual({ status: 'unknown' });
    expect(await two.findKey('EdDSA', 'ed-2')).toMatchObject({
      status: 'found',
      key: { kid: 'ed-2' },
    });
  });

  it('never returns a key for a kid it holds under another type or alg', async () => {
    serve([jwk('rsa', 'k', { alg: 'RS256' })]);
    const keys = store({ jwksCooldownSeconds: 0 });
    await keys.onApplicationBootstrap();
    expect(await keys.findKey('PS256', 'k')).toEqual({ status: 'unknown' });
    expect(await keys.findKey('EdDSA', 'k')).toEqual({ status: 'unknown' });
    expect(await keys.findKey('RS256', 'k')).toMatchObject({ status: 'found' });
  });

  it('drops use: enc keys and private keys', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    serve([
      jwk('ed25519', 'enc', { use: 'enc' }),
      { ...privateKey.export({ format: 'jwk' }), kid: 'private' },
    ]);
    const keys = store({ jwksCooldownSeconds: 0 });
    await keys.onApplicationBootstrap();
    expect(await keys.findKey('EdDSA', 'enc')).toEqual({ status: 'unknown' });
    // A key set that leaks private material is a broken issuer: such entries are not used.
    expect(await keys.findKey('EdDSA', 'private')).toEqual({ status: 'unknown' });
  });

  it('refetches for an unknown kid at most once per cooldown, sharing one fetch', async () => {
    serve([jwk('ed25519', 'a')]);
    const keys = store({ jwksCooldownSeconds: 30 });
    await keys.onApplicationBootstrap();
    expect(fetchMock).toHaveBeenCalledTimes(1);

    const lookups = await Promise.all(
      Array.from({ length: 20 }, (_, i) => keys.findKey('EdDSA', `unknown-${i}`)),
    );
    expect(lookups.every((lookup) => lookup.status === 'unknown')).toBe(true);
    expect(fetchMock).toHaveBeenCalledTimes(2);

    now += 29_000;
    await keys.findKey('EdDSA', 'unknown-later');
    expect(fetchMock).toHaveBeenCalledTimes(2);

    serve([jwk('ed25519', 'a'), jwk('ed25519', 'rotated')]);
    now += 1_000;
    expect(await keys.findKey('EdDSA', 'rotated')).toMatchObject({ status: 'found' });
    expect(fetchMock).toHaveBeenCalledTimes(3);
  });

  it('reports unavailable (503) only when the key is unknown and the last fetch failed', async () => {
    serve([jwk('ed25519', 'a')]);
    const keys = store({ jwksCooldownSeconds: 0 });
    await keys.onApplicationBootstrap();
    served = () => new Response('oops', { status: 500 });
    expect(await keys.findKey('EdDSA', 'b')).toEqual({ status: 'unavailable' });
    expect(await keys.findKey('EdDSA', 'a')).toMatchObject({ status: 'found' });
    fetchMock.mockImplementation(() => Promise.reject(new TypeError('fetch failed')));
    expect(await keys.findKey('EdDSA', 'b')).toEqual({ status: 'unavailable' });
    serve([jwk('ed25519', 'a')]);
    fetchMock.mockImplementation(() => Promise.resolve(served()));
    expect(await keys.findKey('EdDSA', 'b')).toEqual({ status: 'unknown' });
  });

  it('treats an empty key set as the issuer withdrawing its keys', async () => {
    serve([jwk('ed25519', 'a')]);
    const keys = store({ jwksCooldownSeconds: 0 });
    await keys.onApplicationBootstrap();
    serve([]);
    expect(await keys.findKey('EdDSA', 'unknown')).toEqual({ status: 'unknown' });
    expect(await keys.findKey('EdDSA', 'a')).toEqual({ status: 'unknown' });
  });

  it.each([
    ['[null]', [null]],
    ['[1]', [1]],
    ['["key"]', ['key']],
    ['[[]]', [[]]],
    ['[true]', [true]],
    ['a good key beside null', 'good+null'],
  ])(
    'treats keys: %s as a failed fetch: known keys keep working, unknown ones are 503',
    async (_name, entries) => {
      serve([jwk('ed25519', 'a')]);
      const keys = store({ jwksCooldownSeconds: 0 });
      await keys.onApplicationBootstrap();
      const known = await keys.findKey('EdDSA', 'a');
      expect(known).toMatchObject({ status: 'found' });
      const served = entries === 'good+null' ? [jwk('ed25519', 'b'), null] : entries;
      serve(served as unknown[]);

      expect(await keys.findKey('EdDSA', 'b')).toEqual({ status: 'unavailable' });
      const after = await keys.findKey('EdDSA', 'a');
      expect(after).toMatchObject({ status: 'found' });
      expect(after.status === 'found' && keys.isCurrent(after.key)).toBe(true);
      expect(fetchMock).toHaveBeenCalledTimes(2);
      expect(Logger.prototype.warn).toHaveBeenCalledWith(
        expect.stringContaining('"keys" holds an entry that is not a JSON object'),
      );
    },
  );

  it('still reads objects that are not usable keys as absent keys, not as a failed fetch', async () => {
    serve([jwk('ed25519', 'a')]);
    const keys = store({ jwksCooldownSeconds: 0 });
    await keys.onApplicationBootstrap();
    serve([{ kty: 'OKP' }, { hello: 'world' }]);
    expect(await keys.findKey('EdDSA', 'unknown')).toEqual({ status: 'unknown' });
    expect(await keys.findKey('EdDSA', 'a')).toEqual({ status: 'unknown' });
  });

  it('keeps the same key object across a refresh that finds the same kid, alg and material', async () => {
    serve([jwk('ed25519', 'a'), jwk('rsa', 'b', { alg: 'RS256' })]);
    const keys = store({ jwksCooldownSeconds: 0 });
    await keys.onApplicationBootstrap();
    const a = await keys.findKey('EdDSA', 'a');
    const b = await keys.findKey('RS256', 'b');

    serve([jwk('rsa', 'b', { alg: 'RS256' }), jwk('ed25519', 'a'), jwk('ed25519', 'c')]);
    expect(await keys.findKey('EdDSA', 'c')).toMatchObject({ status: 'found' });
    expect(fetchMock).toHaveBeenCalledTimes(2);
    const a2 = await keys.findKey('EdDSA', 'a');
    const b2 = await keys.findKey('RS256', 'b');
    expect(a2.status === 'found' && a.status === 'found' && a2.key === a.key).toBe(true);
    expect(b2.status === 'found' && b.status === 'found' && b2.key === b.key).toBe(true);
    expect(a.status === 'found' && keys.isCurrent(a.key)).toBe(true);
  });

  it.each([
    ['other material under the same kid', () => jwk('P-256', 'a')],
    ['the same material under another alg', () => jwk('ed25519', 'a', { alg: 'Ed25519' })],
  ])(
    'replaces a key when a refresh finds %s; the old object is no longer current',
    async (_n, next) => {
      serve([jwk('ed25519', 'a')]);
      const keys = store({ jwksCooldownSeconds: 0 });
      await keys.onApplicationBootstrap();
      const before = await keys.findKey('EdDSA', 'a');
      if (before.status !== 'found') throw new Error('key a not found');

      const replaced = next();
      if (replaced.kty === 'EC') {
        // Same kid, another key: only an ES256 token can use it now.
        serve([{ ...replaced, alg: 'ES256' }]);
      } else {
        serve([replaced]);
      }
      await keys.findKey('EdDSA', 'unknown');
      expect(fetchMock).toHaveBeenCalledTimes(2);
      expect(keys.isCurrent(before.key)).toBe(false);
      const after = await keys.findKey(replaced.kty === 'EC' ? 'ES256' : 'EdDSA', 'a');
      expect(after.status === 'found' && after.key !== before.key).toBe(true);
    },
  );

  it('stops using keys kept through failing fetches JWKS_MAX_STALE_SECONDS after the last good fetch', async () => {
    serve([jwk('ed25519', 'a')]);
    const keys = store({
      jwksCacheTtlSeconds: 60,
      jwksCooldownSeconds: 30,
      jwksMaxStaleSeconds: 300,
    });
    await keys.onApplicationBootstrap();
    const found = await keys.findKey('EdDSA', 'a');
    if (found.status !== 'found') throw new Error('key a not found');
    served = () => new Response('down', { status: 503 });

    now += 299_000;
    expect(await keys.findKey('EdDSA', 'a')).toMatchObject({ status: 'found' });
    expect(keys.isCurrent(found.key)).toBe(true);
    expect(keys.isLoaded).toBe(true);

    now += 1_000;
    expect(await keys.findKey('EdDSA', 'a')).toEqual({ status: 'unavailable' });
    expect(keys.isCurrent(found.key)).toBe(false);
    expect(keys.isLoaded).toBe(false);

    serve([jwk('ed25519', 'a')]);
    now += 30_000;
    const back = await keys.findKey('EdDSA', 'a');
    expect(back.status === 'found' && back.key === found.key).toBe(true);
    expect(keys.isCurrent(found.key)).toBe(true);
    expect(keys.isLoaded).toBe(true);
  });

  it('refreshes a stale key set after the TTL even when the TTL is shorter than the cooldown', async () => {
    serve([jwk('ed25519', 'a')]);
    const keys = store({ jwksCacheTtlSeconds: 1, jwksCooldownSeconds: 30 });
    await keys.onApplicationBootstrap();
    keys.refreshIfStale();
    expect(fetchMock).toHaveBeenCalledTimes(1);
    now += 1_000;
    keys.refreshIfStale();
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it('retries a failing key server no more than once per cooldown', async () => {
    served = () => new Response('down', { status: 503 });
    const keys = store({ jwksCacheTtlSeconds: 1, jwksCooldownSeconds: 10 });
    await keys.onApplicationBootstrap();
    expect(keys.isLoaded).toBe(false);
    now += 5_000;
    keys.refreshIfStale();
    expect(fetchMock).toHaveBeenCalledTimes(1);
    now += 5_000;
    keys.refreshIfStale();
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });
});
