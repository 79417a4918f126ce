import { AuthenticatedUser } from './authenticated-user';
import { JwksKey } from './jwks/jwks-key-store';

interface CacheEntry {
  readonly user: AuthenticatedUser;
  readonly key: JwksKey;
  /** Epoch ms from which the token is valid (`nbf`/`iat` less the clock tolerance). */
  readonly validFrom: number;
  /** Epoch ms after which the entry is dropped: the token's `exp` plus tolerance, or the max age. */
  readonly validUntil: number;
}

/** Tokens longer than this are verified every time rather than held in memory. */
const MAX_CACHED_TOKEN_LENGTH = 4096;

/**
 * Remembers tokens that passed every check so a client reusing its token (Better Auth tokens
 * live 15 minutes) skips the signature check. Keyed by the exact token string, so a changed
 * byte is a miss; only fully verified tokens are stored, so the cache cannot admit a token that
 * verification would refuse. Bounded by an LRU limit.
 */
export class VerifiedTokenCache {
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
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    // Time claims and the key's presence in the JWKS are checked again on every hit.
    if (now >= entry.validUntil || now < entry.validFrom || !this.isKeyCurrent(entry.key)) {
      this.entries.delete(token);
      return undefined;
    }
    this.entries.delete(token);
    this.entries.set(token, entry);
    return entry.user;
  }

  set(token: string, user: AuthenticatedUser, key: JwksKey, timing: TokenTiming, now: number) {
    if (this.maxEntries === 0 || this.maxAgeMs === 0 || token.length > MAX_CACHED_TOKEN_LENGTH) {
      return;
    }
    const validUntil = Math.min(timing.expiresAtMs, now + this.maxAgeMs);
    if (validUntil <= now) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(token)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { user, key, validFrom: timing.validFromMs, validUntil });
  }

  clear(): void {
    this.entries.clear();
  }
}

export interface TokenTiming {
  validFromMs: number;
  expiresAtMs: number;
}
