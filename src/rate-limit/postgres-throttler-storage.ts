import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';

/** How often local hits are added to the shared counters. */
export const FLUSH_INTERVAL_MS = 250;

interface Bucket {
  /** The key as stored in PostgreSQL (storedKey), computed once per bucket, not per hit. */
  stored: string;
  windowStart: number;
  windowEnd: number;
  /** Hits counted here and not yet sent to PostgreSQL. */
  pending: number;
  /** Hits on their way to PostgreSQL (one flush at a time). */
  sending: number;
  /** The shared total for this window as PostgreSQL last reported it (all instances). */
  shared: number;
  blockedUntil: number;
  /** PostgreSQL refused this key: it is counted here only, so it cannot stop the others. */
  localOnly: boolean;
}

/** A counter whose total is not what this instance expected: another instance added to it. */
interface CounterRow {
  key: string;
  hits: number;
}

/**
 * Adds each key's hits to its window's shared counter and returns only the counters whose new
 * total differs from what this instance expected (its last known total plus what it sends): those
 * another instance added to. With one instance, or keys only it sees, nothing comes back.
 *
 * Times travel as epoch milliseconds: a flush sends every key of the window, and Dates would be
 * formatted on the way out and parsed on the way back, per key, on the app's side.
 */
const UPSERT_COUNTERS = `
  WITH batch AS (
    SELECT * FROM unnest($1::text[], $2::float8[], $3::int[], $4::float8[], $5::int8[])
      AS batch(key, start_ms, hits, end_ms, expected)
  ), counted AS (
    INSERT INTO throttle_counters (key, window_start, hits, expires_at)
    SELECT key, to_timestamp(start_ms / 1000), hits, to_timestamp(end_ms / 1000) FROM batch
    ON CONFLICT (key, window_start) DO UPDATE SET hits = throttle_counters.hits + EXCLUDED.hits
    RETURNING key, hits
  )
  SELECT counted.key, counted.hits FROM counted JOIN batch USING (key)
  WHERE counted.hits <> batch.expected`;

/**
 * The key as stored in PostgreSQL: sha256 in base64url, 43 characters of [A-Za-z0-9_-] whatever
 * the caller put in it (a user id, an address), so no key can be too long for the index or hold
 * a byte PostgreSQL refuses. In memory the buckets are found by the caller's key itself, already
 * bounded (a token's `sub` has at most 255 characters), and hold the hash: a hit costs no hash.
 */
export function storedKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

/**
 * SQLSTATE classes of errors about the data sent (data exception, integrity, program limit
 * such as an index entry too large): one key's fault, so the batch is retried key by key.
 * Anything else (no connection, shutdown, deadlock) is PostgreSQL's state: retried whole later.
 */
const REFUSED_DATA = /^(22|23|54)/;

/**
 * Rate-limit counters shared by every instance through PostgreSQL, without a database round
 * trip per request: each instance counts locally and adds its hits to the shared fixed-window
 * counters every FLUSH_INTERVAL_MS, reading back the total. The price is a little slack (another
 * instance's hits are seen here up to two intervals late: its flush, then this one's); the gain is that rate limiting costs a Map
 * lookup on the hot path. When PostgreSQL is down, hits stay pending and each instance still
 * enforces the limit on what it sees itself; buckets whose window is over are dropped all the
 * same, so memory stays bounded by the keys of one window.
 */
@Injectable()
export class PostgresThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger(PostgresThrottlerStorage.name);
  private readonly buckets = new Map<string, Bucket>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  private lastFailureLogAt = 0;
  private lastCleanupAt = Date.now();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.timer = setInterval(() => {
      // Pruning does not wait for the flush: a flush stuck on a database that stopped answering
      // must not keep every bucket ever seen in memory.
      this.prune(Date.now());
      void this.flush();
    }, FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Buckets held in memory (one per key seen in its current window, or still blocked). */
  get size(): number {
    return this.buckets.size;
  }

  increment(
    rawKey: string,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): Promise<ThrottlerStorageRecord> {
    const now = Date.now();
    const windowStart = Math.floor(now / ttl) * ttl;
    let bucket = this.buckets.get(rawKey);
    if (!bucket || bucket.windowStart !== windowStart) {
      bucket = {
        stored: bucket?.stored ?? storedKey(rawKey),
        windowStart,
        windowEnd: windowStart + ttl,
        pending: 0,
        sending: 0,
        shared: 0,
        blockedUntil: bucket?.blockedUntil ?? 0,
        localOnly: bucket?.localOnly ?? false,
      };
      this.buckets.set(rawKey, bucket);
    }
    const timeToExpire = Math.ceil((bucket.windowEnd - now) / 1000);
    if (bucket.blockedUntil > now) {
      return Promise.resolve({
        totalHits: this.total(bucket),
        timeToExpire,
        isBlocked: true,
        timeToBlockExpire: Math.ceil((bucket.blockedUntil - now) / 1000),
      });
    }
    bucket.pending += 1;
    const totalHits = this.total(bucket);
    const isBlocked = totalHits > limit;
    if (isBlocked) bucket.blockedUntil = now + blockDuration;
    return Promise.resolve({
      totalHits,
      timeToExpire,
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.ceil(blockDuration / 1000) : 0,
    });
  }

  /** Sends pending hits and refreshes the shared totals; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.sendPending().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Runs after the HTTP server has closed: no hit can arrive any more. */
  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    if (!this.dataSource.isInitialized) return;
    // The first call may only join a flush already under way; the second sends what came since.
    await this.flush();
    await this.flush();
    this.logger.debug('Rate-limit counters shared before shutdown');
  }

  private total(bucket: Bucket): number {
    return bucket.shared + bucket.sending + bucket.pending;
  }

  /** Drops buckets whose window is over and whose block, if any, has ended. */
  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.windowEnd <= now && bucket.blockedUntil <= now) this.buckets.delete(key);
    }
  }

  private async sendPending(): Promise<void> {
    const now = Date.now();
    this.prune(now);
    const batch: [string, Bucket][] = [];
    for (const bucket of this.buckets.values()) {
      if (bucket.pending > 0 && !bucket.localOnly) {
        bucket.sending = bucket.pending;
        bucket.pending = 0;
        batch.push([bucket.stored, bucket]);
      }
    }
    if (batch.length === 0 || !this.dataSource.isInitialized) {
      for (const [, bucket] of batch) this.restore(bucket);
      return;
    }
    // One order for every instance, so concurrent upserts lock rows in the same order.
    batch.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    try {
      await this.upsert(batch);
    } catch (error) {
      if (!REFUSED_DATA.test(sqlState(error))) {
        for (const [, bucket] of batch) this.restore(bucket);
        this.logFailure(now, error);
        return;
      }
      await this.upsertOneByOne(batch, now);
    }
    try {
      await this.removeExpiredCounters(now);
    } catch (error) {
      this.logFailure(now, error);
    }
  }

  /** Adds the batch's hits to the shared counters and adopts the totals read back. */
  private async upsert(batch: [string, Bucket][]): Promise<void> {
    const keys: string[] = [];
    const starts: number[] = [];
    const hits: number[] = [];
    const ends: number[] = [];
    const expected: number[] = [];
    for (const [key, bucket] of batch) {
      keys.push(key);
      starts.push(bucket.windowStart);
      hits.push(bucket.sending);
      ends.push(bucket.windowEnd);
      expected.push(bucket.shared + bucket.sending);
    }
    const rows: CounterRow[] = await this.dataSource.query(UPSERT_COUNTERS, [
      keys,
      starts,
      hits,
      ends,
      expected,
    ]);
    // A batch holds each key once (one bucket per key), so the key alone names the counter.
    const totals = new Map(rows.map((row) => [row.key, row.hits]));
    for (const [key, bucket] of batch) {
      bucket.shared = totals.get(key) ?? bucket.shared + bucket.sending;
      bucket.sending = 0;
    }
  }

  /**
   * PostgreSQL refused the batch because of something in it: each key is sent on its own, so
   * the keys it accepts are shared; a key it refuses is counted locally from then on.
   */
  private async upsertOneByOne(batch: [string, Bucket][], now: number): Promise<void> {
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i];
      try {
        await this.upsert([entry]);
      } catch (error) {
        if (REFUSED_DATA.test(sqlState(error))) {
          entry[1].localOnly = true;
          this.restore(entry[1]);
          this.logger.warn(
            `PostgreSQL refused a rate-limit key (SQLSTATE ${sqlState(error)}); it is counted on this instance only`,
          );
          continue;
        }
        for (const [, bucket] of batch.slice(i)) this.restore(bucket);
        this.logFailure(now, error);
        return;
      }
    }
  }

  private logFailure(now: number, error: unknown): void {
    if (now - this.lastFailureLogAt <= 10_000) return;
    this.lastFailureLogAt = now;
    this.logger.warn(
      `Could not share rate-limit counters (${error instanceof Error ? error.message : String(error)}); limiting per instance until PostgreSQL answers`,
    );
  }

  private restore(bucket: Bucket): void {
    bucket.pending += bucket.sending;
    bucket.sending = 0;
  }

  private async removeExpiredCounters(now: number): Promise<void> {
    if (now - this.lastCleanupAt < 60_000) return;
    this.lastCleanupAt = now;
    await this.dataSource.query('DELETE FROM throttle_counters WHERE expires_at < now()');
  }
}

/** The SQLSTATE of a driver error (TypeORM's QueryFailedError carries the driver's code). */
function sqlState(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}
