import { generateKeyPairSync } from 'node:crypto';
import { AuthenticatedUser } from './authenticated-user';
import { sessionUser } from './authenticated-user.fixture';
import { JwksKey } from './jwks/jwks-key-store';
import { TokenTiming, VerifiedTokenCache } from './verified-token-cache';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

const key: JwksKey = {
  kid: 'k1',
  alg: 'EdDSA',
  key: generateKeyPairSync('ed25519').publicKey,
};

function user(id: string): AuthenticatedUser {
  return sessionUser({ id });
}

/** A token valid from T0 - 5 s to T0 + 15 min + 5 s (Better Auth's lifetime, 5 s tolerance). */
const timing: TokenTiming = { validFromMs: T0 - 5000, expiresAtMs: T0 + 15 * MINUTE + 5000 };

function cache(maxEntries = 100, maxAgeMs = 5 * MINUTE, isKeyCurrent = () => true) {
  return new VerifiedTokenCache(maxEntries, maxAgeMs, isKeyCurrent);
}

describe('VerifiedTokenCache', () => {
  it('returns the stored user for the exact token and nothing for any other string', () => {
    const c = cache();
    c.set('a.b.c', user('u1'), key, timing, T0);

    expect(c.get('a.b.c', T0)?.id).toBe('u1');
    expect(c.get('a.b.d', T0)).toBeUndefined();
    expect(c.get('a.b.c ', T0)).toBeUndefined();
  });

  it('misses a token that shares a cached signature but not its header or payload', () => {
    const c = cache();
    c.set('h.p.sig', user('u1'), key, timing, T0);

    expect(c.get('h.P.sig', T0)).toBeUndefined();
    expect(c.get('H.p.sig', T0)).toBeUndefined();
    expect(c.get('.sig', T0)).toBeUndefined();
    expect(c.get('sig', T0)).toBeUndefined();
    // The genuine entry is neither replaced nor dropped by the lookalikes.
    expect(c.get('h.p.sig', T0)?.id).toBe('u1');
    expect(c.size).toBe(1);
  });

  it('replaces the entry when another verified token with the same signature is stored', () => {
    const c = cache(2);
    c.set('h.p1.sig', user('u1'), key, timing, T0);
    c.set('h.p2.sig', user('u2'), key, timing, T0);

    expect(c.get('h.p1.sig', T0)).toBeUndefined();
    expect(c.get('h.p2.sig', T0)?.id).toBe('u2');
    expect(c.size).toBe(1);
  });

  describe('bounded memory', () => {
    it('never holds more than maxEntries tokens', () => {
      const c = cache(50);
      for (let i = 0; i < 1000; i++) c.set(`t${i}`, user(`u${i}`), key, timing, T0);

      expect(c.size).toBe(50);
      expect(c.get('t999', T0)?.id).toBe('u999');
      expect(c.get('t949', T0)).toBeUndefined();
    });

    it('evicts the least recently used token, where a hit counts as a use', () => {
      const c = cache(3);
      c.set('a', user('a'), key, timing, T0);
      c.set('b', user('b'), key, timing, T0);
      c.set('c', user('c'), key, timing, T0);
      c.get('a', T0);

      c.set('d', user('d'), key, timing, T0);

      expect(c.get('b', T0)).toBeUndefined();
      expect(['a', 'c', 'd'].map((t) => c.get(t, T0)?.id)).toEqual(['a', 'c', 'd']);
      expect(c.size).toBe(3);
    });

    it('does not evict anything when a token already held is stored again', () => {
      const c = cache(2);
      c.set('a', user('a'), key, timing, T0);
      c.set('b', user('b'), key, timing, T0);
      c.set('b', user('b'), key, timing, T0);

      expect(c.get('a', T0)?.id).toBe('a');
      expect(c.size).toBe(2);
    });

    it('does not hold tokens longer than 4096 characters', () => {
      const c = cache();
      c.set('x'.repeat(4097), user('u'), key, timing, T0);

      expect(c.size).toBe(0);
    });
  });

  describe('lifetime', () => {
    it('drops an entry once the token expires (exp plus tolerance)', () => {
      const c = cache(100, 60 * MINUTE);
      c.set('t', user('u'), key, timing, T0);

      expect(c.get('t', timing.expiresAtMs - 1)?.id).toBe('u');
      expect(c.get('t', timing.expiresAtMs)).toBeUndefined();
      expect(c.size).toBe(0);
    });

    it('drops an entry after TOKEN_CACHE_MAX_AGE_SECONDS even when the token lives longer', () => {
      const c = cache(100, 5 * MINUTE);
      c.set('t', user('u'), key, timing, T0 + MINUTE);

      expect(c.get('t', T0 + 6 * MINUTE - 1)?.id).toBe('u');
      expect(c.get('t', T0 + 6 * MINUTE)).toBeUndefined();
    });

    it('counts the max age from when the token was stored, not from its last hit', () => {
      const c = cache(100, 5 * MINUTE);
      c.set('t', user('u'), key, timing, T0);
      for (let t = T0; t < T0 + 5 * MINUTE; t += 30_000) expect(c.get('t', t)).toBeDefined();

      expect(c.get('t', T0 + 5 * MINUTE)).toBeUndefined();
    });

    it('does not store a token that has already expired', () => {
      const c = cache();
      c.set('t', user('u'), key, timing, timing.expiresAtMs);

      expect(c.size).toBe(0);
    });

    it('re-checks the time claims on every hit: a clock moved back before nbf/iat misses', () => {
      const c = cache();
      c.set('t', user('u'), key, timing, T0);

      expect(c.get('t', timing.validFromMs - 1)).toBeUndefined();
      expect(c.get('t', T0)).toBeUndefined();
    });
  });

  describe('keys', () => {
    it('asks on every hit whether the signing key is still in the JWKS', () => {
      const isKeyCurrent = jest.fn(() => true);
      const c = cache(100, 5 * MINUTE, isKeyCurrent);
      c.set('t', user('u'), key, timing, T0);
      c.get('t', T0);
      c.get('t', T0 + 1);

      expect(isKeyCurrent).toHaveBeenCalledTimes(2);
      expect(isKeyCurrent).toHaveBeenCalledWith(key);
    });

    it('invalidates the entries of a key that left the JWKS', () => {
      let current = true;
      const c = cache(100, 5 * MINUTE, () => current);
      c.set('t', user('u'), key, timing, T0);
      current = false;

      expect(c.get('t', T0)).toBeUndefined();
      current = true;
      expect(c.get('t', T0)).toBeUndefined();
      expect(c.size).toBe(0);
    });
  });

  describe('disabled', () => {
    it('stores nothing when TOKEN_CACHE_MAX_ENTRIES is 0', () => {
      const c = cache(0);
      c.set('t', user('u'), key, timing, T0);

      expect(c.size).toBe(0);
      expect(c.get('t', T0)).toBeUndefined();
    });

    it('stores nothing when TOKEN_CACHE_MAX_AGE_SECONDS is 0', () => {
      const c = cache(100, 0);
      c.set('t', user('u'), key, timing, T0);

      expect(c.get('t', T0)).toBeUndefined();
    });
  });
});
