/** Returns a JWT for the signed-in user, or null/undefined when nobody is signed in. */
export type GetToken = () => Promise<string | null | undefined>;

/** Seconds since the epoch at which the JWT expires, read (not verified) from its payload. */
function expiresAt(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Holds the current token and fetches a new one shortly before it expires, so requests rarely
 * meet an expired token. Concurrent callers share one fetch. The `exp` claim is only read to
 * schedule the refresh: the API verifies tokens, the client never needs to.
 */
export class TokenSource {
  private current: { token: string; refreshAt: number } | undefined;
  private pending: Promise<string | undefined> | undefined;

  constructor(
    private readonly getToken: GetToken,
    private readonly refreshBeforeExpiryMs: number,
    private readonly now: () => number,
  ) {}

  /** The cached token while it is fresh, otherwise a new one. */
  get(): Promise<string | undefined> {
    if (this.current && this.now() < this.current.refreshAt) {
      return Promise.resolve(this.current.token);
    }
    return this.fetch();
  }

  /**
   * A token other than `rejected`: the one another request already fetched, or a new one.
   * Undefined when the user is signed out.
   */
  replace(rejected: string | undefined): Promise<string | undefined> {
    if (this.current && this.current.token !== rejected) {
      return Promise.resolve(this.current.token);
    }
    this.current = undefined;
    return this.fetch();
  }

  /** Forgets the token (after signing out). */
  clear(): void {
    this.current = undefined;
  }

  private fetch(): Promise<string | undefined> {
    this.pending ??= this.getToken()
      .then((token) => {
        if (!token) {
          this.current = undefined;
          return undefined;
        }
        const exp = expiresAt(token);
        const refreshAt = exp === undefined ? Infinity : exp * 1000 - this.refreshBeforeExpiryMs;
        this.current = { token, refreshAt };
        return token;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}
