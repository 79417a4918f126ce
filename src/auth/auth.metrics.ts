import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';

/** What the key store reports at each scrape. */
export interface KeySetState {
  keys: number;
  /** Epoch ms of the last successful fetch; undefined before the first. */
  loadedAt: number | undefined;
}

/**
 * Refusal reasons are short fixed phrases written in this folder, so the label set is bounded
 * already; this cap keeps it bounded even if a phrase ever carried data by mistake.
 */
const MAX_REASONS = 64;

/**
 * The authentication numbers: refusals by reason, JWKS fetches by outcome, the key set held and
 * the verified-token cache. The key store and the verifier push events and register readers
 * here; this class knows nothing of them, so none of them depends on another for metrics.
 */
@Injectable()
export class AuthMetrics {
  private readonly refusals: Counter<'reason'>;
  private readonly jwksFetches: Counter<'outcome'>;
  private readonly cacheHits: Counter;
  private readonly cacheMisses: Counter;
  private readonly reasonLabels = new Map<string, string>();
  private keySet: () => KeySetState = () => ({ keys: 0, loadedAt: undefined });
  private cacheSize: () => number = () => 0;

  constructor(metrics: MetricsService) {
    this.refusals = metrics.counter({
      name: 'auth_refusals_total',
      help: 'Requests refused by authentication (401, or 503 when keys are unavailable), by reason.',
      labelNames: ['reason'] as const,
    });
    this.jwksFetches = metrics.counter({
      name: 'jwks_fetches_total',
      help: 'JWKS fetches, by outcome (success or failure).',
      labelNames: ['outcome'] as const,
    });
    this.cacheHits = metrics.counter({
      name: 'token_cache_hits_total',
      help: 'Tokens found in the verified-token cache (no signature check needed).',
    });
    this.cacheMisses = metrics.counter({
      name: 'token_cache_misses_total',
      help: 'Tokens not in the verified-token cache, verified in full.',
    });
    metrics.sampledGauge(
      { name: 'token_cache_entries', help: 'Verified tokens currently held in the cache.' },
      () => this.cacheSize(),
    );
    metrics.sampledGauge(
      { name: 'jwks_keys', help: 'Signing keys in the key set currently held.' },
      () => this.keySet().keys,
    );
    metrics.sampledGauge(
      {
        name: 'jwks_key_set_age_seconds',
        help: 'Seconds since the key set was last fetched successfully (NaN before the first).',
      },
      () => {
        const { loadedAt } = this.keySet();
        return loadedAt === undefined ? Number.NaN : (Date.now() - loadedAt) / 1000;
      },
    );
    // Zero-valued series from the start, so a rate over them exists before the first event.
    this.jwksFetches.inc({ outcome: 'success' }, 0);
    this.jwksFetches.inc({ outcome: 'failure' }, 0);
  }

  refused(reason: string): void {
    this.refusals.inc({ reason: this.reasonLabel(reason) });
  }

  jwksFetched(outcome: 'success' | 'failure'): void {
    this.jwksFetches.inc({ outcome });
  }

  tokenCacheHit(): void {
    this.cacheHits.inc();
  }

  tokenCacheMiss(): void {
    this.cacheMisses.inc();
  }

  observeKeySet(read: () => KeySetState): void {
    this.keySet = read;
  }

  observeTokenCache(size: () => number): void {
    this.cacheSize = size;
  }

  /** "not a JWT; send the JWT from …" → `not_a_jwt`: the phrase before any `;`, in snake case. */
  private reasonLabel(reason: string): string {
    let label = this.reasonLabels.get(reason);
    if (label === undefined) {
      if (this.reasonLabels.size >= MAX_REASONS) return 'other';
      label =
        reason
          .split(';', 1)[0]
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '_')
          .replace(/^_+|_+$/g, '') || 'other';
      this.reasonLabels.set(reason, label);
    }
    return label;
  }
}
