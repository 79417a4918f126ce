import { AuthenticatedUser } from './authenticated-user';
import { JwksKey } from './jwks/jwks-key-store';

interface CacheEntry {
  /** The whole token: a hit needs this exact string, not only the same signature. */
  readonly token: string;
  readonly user: AuthenticatedUser;
  readonly key: JwksKey;
  /** Epoch ms from which the token is valid (`nbf`/`iat` less the clock tolerance). */
  readonly validFrom: number;
  /** Epoch ms after which the entry is dropped: the token's `exp` plus tolerance, or the max age. */
  readonly validUntil: number;
  /** Hit since the entry was stored or last spared by an eviction (see `evictOne`). */
  used: boolean;
}

/** Tokens longer than this are verified every time rather than held in memory. */
const MAX_CACHED_TOKEN_LENGTH = 4096;

/**
 * Remembers tokens that passed every check so a client reusing its token (Better Auth tokens
 * live 15 minutes) skips the signature check. A hit needs the exact token string, so a changed
 * byte is a miss; only fully verified tokens are stored, so the cache cannot admit a token that
 * verification would refuse. Bounded by a least-recently-used limit, kept the CLOCK way (a hit
 * marks its entry; eviction moves marked entries to the young end instead of dropping them), so
 * a hit writes one field rather than moving its entry in the map.
 *
 * The map is keyed by the signature segment and the entry holds the whole token, which a hit
 * must equal. Hashing a ~90-character signature instead of the ~700-character token is most of
 * what a hit costs (the token string is new on every request, so its hash is never cached).
 */
export class VerifiedTokenCache {
  /** Signature segment → entry; Map order is insertion order, the oldest first. */
  private readonly entries = new Map<string, CacheEntry>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
    private readonly isKeyCurrent: (key: JwksKey) => boolean,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(token: string, now: number): AuthenticatedUser | undefined {
    const slot = signatureOf(token);
    const entry = this.entries.get(slot);
    // Same signature, other header or payload: a miss, and the genuine entry stays.
    if (entry === undefined || entry.token !== token) return undefined;
    // Time claims and the key's presence in the JWKS are checked again on every hit.
    if (now >= entry.validUntil || now < entry.validFrom || !this.isKeyCurrent(entry.key)) {
      this.entries.delete(slot);
      return undefined;
    }
    entry.used = true;
    return entry.user;
  }

  set(token: string, user: AuthenticatedUser, key: JwksKey, timing: TokenTiming, now: number) {
    if (this.maxEntries === 0 || this.maxAgeMs === 0 || token.length > MAX_CACHED_TOKEN_LENGTH) {
      return;
    }
    const validUntil = Math.min(timing.expiresAtMs, now + this.maxAgeMs);
    if (validUntil <= now) return;
    const slot = signatureOf(token);
    if (!this.entries.delete(slot) && this.entries.size >= this.maxEntries) this.evictOne();
    this.entries.set(slot, {
      token,
      user,
      key,
      validFrom: timing.validFromMs,
      validUntil,
      used: false,
    });
  }

  /**
   * Drops the oldest entry not hit since it was stored or last spared; the hit ones met on the way
   * are spared once (unmarked and moved to the young end). Every entry is visited at most twice.
   */
  private evictOne(): void {
    for (const [slot, entry] of this.entries) {
      this.entries.delete(slot);
      if (!entry.used) return;
      entry.used = false;
      this.entries.set(slot, entry);
    }
  }
}

/** The signature segment (everything after the last dot): only the lookup key, never trusted. */
function signatureOf(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}

export interface TokenTiming {
  validFromMs: number;
  expiresAtMs: number;
}
