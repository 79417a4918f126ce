import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { createPublicKey, KeyObject } from 'node:crypto';
import { JwksClient, SigningKey } from 'jwks-rsa';
import { JwtAlgorithm } from '../../config/app-config';
import { AppConfigService } from '../../config/app-config.service';
import { AuthMetrics } from '../auth.metrics';
import { fetchJwks, JwksFetchError } from './fetch-jwks';

/** A public signing key from the JWKS, with what is needed to decide which tokens it may verify. */
export interface JwksKey {
  readonly kid: string | undefined;
  /** The JWK's own `alg`; absent on keys from older Better Auth versions. */
  readonly alg: string | undefined;
  readonly key: KeyObject;
}

export type KeyLookup =
  | { readonly status: 'found'; readonly key: JwksKey }
  | { readonly status: 'unknown' }
  | { readonly status: 'unavailable' };

const EC_CURVES: Partial<Record<JwtAlgorithm, string>> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};

/** `EdDSA` and its RFC 9864 name `Ed25519` name the same thing here: Ed25519 keys only. */
function sameAlgorithm(a: string, b: string): boolean {
  const ed = (alg: string) => alg === 'EdDSA' || alg === 'Ed25519';
  return a === b || (ed(a) && ed(b));
}

/** Whether `key` may verify a token signed with `alg`: key type and curve first, then its `alg`. */
export function keyFitsAlgorithm(key: JwksKey, alg: JwtAlgorithm): boolean {
  if (key.alg !== undefined && !sameAlgorithm(key.alg, alg)) return false;
  const type = key.key.asymmetricKeyType;
  switch (alg) {
    case 'EdDSA':
    case 'Ed25519':
      // Ed448 is refused: Better Auth never issues it, so only Ed25519 keys are admitted.
      return type === 'ed25519';
    case 'ES256':
    case 'ES384':
    case 'ES512':
      return type === 'ec' && key.key.asymmetricKeyDetails?.namedCurve === EC_CURVES[alg];
    default:
      return type === 'rsa';
  }
}

/**
 * Holds the issuer's public keys. jwks-rsa fetches (through our bounded fetcher) and parses the
 * JWKS, dropping `use: "enc"` keys and private material; this class owns caching, because the
 * policy this API needs (stale keys kept when a fetch fails, one shared fetch per cooldown for
 * unknown `kid`s, 503 rather than 401 when keys cannot be known) is not what jwks-rsa's cache does.
 */
@Injectable()
export class JwksKeyStore implements OnApplicationBootstrap {
  private readonly logger = new Logger(JwksKeyStore.name);
  private readonly client: JwksClient;
  private keys: readonly JwksKey[] = [];
  private current = new WeakSet<JwksKey>();
  private loadedAt: number | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastUnknownKidFetchAt = Number.NEGATIVE_INFINITY;
  private lastFetchFailed = false;
  private inFlight: Promise<void> | undefined;
  private fetches = 0;

  constructor(
    private readonly config: AppConfigService,
    private readonly metrics: AuthMetrics,
  ) {
    const { jwksUrl, jwksTimeoutMs } = config.auth;
    metrics.observeKeySet(() => ({ keys: this.keys.length, loadedAt: this.loadedAt }));
    this.client = new JwksClient({
      jwksUri: jwksUrl,
      cache: false,
      rateLimit: false,
      timeout: jwksTimeoutMs,
      fetcher: (uri) => fetchJwks(uri, jwksTimeoutMs),
    });
  }

  /** Loads the keys before the app listens; a failure is logged and reported by readiness. */
  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
  }

  /**
   * True while the keys of a successful fetch may verify tokens: fetched at least once, and the
   * last success no older than JWKS_MAX_STALE_SECONDS.
   */
  get isLoaded(): boolean {
    return this.loadedAt !== undefined && !this.keysExpired(Date.now());
  }

  /** How many JWKS fetches this process has started. */
  get fetchCount(): number {
    return this.fetches;
  }

  /**
   * Whether the key is still in the most recently fetched key set, and that set is not past
   * JWKS_MAX_STALE_SECONDS. The verified-token cache asks this on every hit, so a cached token
   * never outlives its key's withdrawal or its key set's staleness limit.
   */
  isCurrent(key: JwksKey): boolean {
    return this.current.has(key) && !this.keysExpired(Date.now());
  }

  /**
   * Keys kept through failing fetches stop verifying JWKS_MAX_STALE_SECONDS after the last good
   * fetch: otherwise a withdrawn key would stay usable for as long as an attacker can keep our
   * key server unreachable.
   */
  private keysExpired(now: number): boolean {
    return (
      this.loadedAt !== undefined &&
      now - this.loadedAt >= this.config.auth.jwksMaxStaleSeconds * 1000
    );
  }

  async findKey(alg: JwtAlgorithm, kid: string | undefined): Promise<KeyLookup> {
    this.refreshIfStale();
    if (this.keysExpired(Date.now())) {
      // The refresh just started (or one already running) may bring the keys back.
      if (this.inFlight) await this.inFlight;
      if (this.keysExpired(Date.now())) return { status: 'unavailable' };
    }
    let key = this.select(alg, kid);
    if (key) return { status: 'found', key };

    if (this.inFlight) {
      await this.inFlight;
    } else if (
      Date.now() - this.lastUnknownKidFetchAt >=
      this.config.auth.jwksCooldownSeconds * 1000
    ) {
      // A token naming a key we do not hold may mean the issuer rotated: look once, and let the
      // cooldown cap how often forged `kid`s can make us hit the issuer.
      this.lastUnknownKidFetchAt = Date.now();
      await this.refresh();
    }
    key = this.select(alg, kid);
    if (key) return { status: 'found', key };
    // Without a reachable JWKS we cannot tell a rotated key from a forged one; 503 tells the
    // client to retry instead of logging its user out.
    return { status: this.lastFetchFailed ? 'unavailable' : 'unknown' };
  }

  private select(alg: JwtAlgorithm, kid: string | undefined): JwksKey | undefined {
    if (kid !== undefined) {
      return this.keys.find((key) => key.kid === kid && keyFitsAlgorithm(key, alg));
    }
    // Without a `kid` the choice is only safe when it is not a choice.
    const fitting = this.keys.filter((key) => keyFitsAlgorithm(key, alg));
    return fitting.length === 1 ? fitting[0] : undefined;
  }

  /**
   * Starts a background refresh once the key set is older than JWKS_CACHE_TTL_SECONDS. Called on
   * every verification, cached tokens included: otherwise a key removed from the JWKS would keep
   * admitting its (cached) tokens for as long as clients keep reusing them.
   */
  refreshIfStale(): void {
    const now = Date.now();
    const { jwksCacheTtlSeconds, jwksCooldownSeconds } = this.config.auth;
    const stale = this.loadedAt === undefined || now - this.loadedAt >= jwksCacheTtlSeconds * 1000;
    // Only a failing key server is retried at the cooldown's pace; a healthy one is asked again
    // as soon as the TTL says, even when the TTL is shorter than the cooldown.
    const retryAfterMs = this.lastFetchFailed ? Math.max(jwksCooldownSeconds, 1) * 1000 : 0;
    if (stale && !this.inFlight && now - this.lastAttemptAt >= retryAfterMs) {
      void this.refresh();
    }
  }

  /** Fetches the key set; concurrent callers share one fetch. Never rejects. */
  private refresh(): Promise<void> {
    this.inFlight ??= this.fetchKeys().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttemptAt = Date.now();
    this.fetches += 1;
    try {
      const keys = this.keepUnchanged(await this.loadSigningKeys());
      this.keys = keys;
      this.current = new WeakSet(keys);
      this.loadedAt = Date.now();
      this.lastFetchFailed = false;
      this.metrics.jwksFetched('success');
      this.logger.log(`Loaded ${keys.length} signing key(s) from ${this.config.auth.jwksUrl}`);
    } catch (error) {
      this.lastFetchFailed = true;
      this.metrics.jwksFetched('failure');
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn(
        `JWKS fetch from ${this.config.auth.jwksUrl} failed (${reason}); keeping ${this.keys.length} known key(s)`,
      );
    }
  }

  /**
   * A fetched key equal to a known one (same `kid`, same `alg`, same material) is replaced by
   * the known object, so the tokens the verified-token cache holds for it stay valid across
   * refreshes; a changed or removed key is a new object (or none), which ends its cached tokens.
   */
  private keepUnchanged(fetched: JwksKey[]): JwksKey[] {
    return fetched.map(
      (key) =>
        this.keys.find(
          (known) => known.kid === key.kid && known.alg === key.alg && known.key.equals(key.key),
        ) ?? key,
    );
  }

  private async loadSigningKeys(): Promise<JwksKey[]> {
    let signingKeys: SigningKey[];
    try {
      signingKeys = await this.client.getSigningKeys();
    } catch (error) {
      // jwks-rsa marks transport failures; anything else means the set held no usable key,
      // which is a valid (empty) answer: the issuer withdrew its keys.
      if (error instanceof JwksFetchError || isEndpointError(error)) throw error;
      return [];
    }
    return signingKeys.map((signingKey) => ({
      kid: signingKey.kid || undefined,
      alg: signingKey.alg,
      key: createPublicKey(signingKey.getPublicKey()),
    }));
  }
}

function isEndpointError(error: unknown): boolean {
  return (error as { isEndpointUnavailable?: boolean } | null)?.isEndpointUnavailable === true;
}
