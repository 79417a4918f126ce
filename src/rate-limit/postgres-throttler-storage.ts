import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** How often local hits are added to the shared counters. */
export const FLUSH_INTERVAL_MS = 250;

interface Bucket {
  windowStart: number;
  windowEnd: number;
  /** Hits counted here and not yet sent to PostgreSQL. */
  pending: number;
  /** Hits on their way to PostgreSQL (one flush at a time). */
  sending: number;
  /** The shared total for this window as PostgreSQL last reported it (all instances). */
  shared: number;
  blockedUntil: number;
}

interface CounterRow {
  key: string;
  window_start: Date;
  hits: number;
}

/**
 * Rate-limit counters shared by every instance through PostgreSQL, without a
 * database round trip per request: each instance counts locally and adds its hits to the shared
 * fixed-window counters every FLUSH_INTERVAL_MS, reading back the total. The price is a little
 * slack (other instances' hits are seen up to one interval late); the gain is that rate
 * limiting costs a Map lookup on the hot path. When PostgreSQL is down, hits stay pending and
 * each instance still enforces the limit on what it sees itself.
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
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): Promise<ThrottlerStorageRecord> {
    const now = Date.now();
    const windowStart = Math.floor(now / ttl) * ttl;
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.windowStart !== windowStart) {
      const blockedUntil = bucket?.blockedUntil ?? 0;
      bucket = {
        windowStart,
        windowEnd: windowStart + ttl,
        pending: 0,
        sending: 0,
        shared: 0,
        blockedUntil,
      };
      this.buckets.set(key, bucket);
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

  private async sendPending(): Promise<void> {
    const now = Date.now();
    const batch: [string, Bucket][] = [];
    for (const [key, bucket] of this.buckets) {
      if (bucket.pending > 0) {
        bucket.sending = bucket.pending;
        bucket.pending = 0;
        batch.push([key, bucket]);
      } else if (bucket.windowEnd <= now && bucket.blockedUntil <= now) {
        this.buckets.delete(key);
      }
    }
    if (batch.length === 0 || !this.dataSource.isInitialized) {
      for (const [, bucket] of batch) this.restore(bucket);
      return;
    }
    try {
      const rows: CounterRow[] = await this.dataSource.query(
        `INSERT INTO throttle_counters (key, window_start, hits, expires_at)
         SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::int[], $4::timestamptz[])
         ON CONFLICT (key, window_start) DO UPDATE SET hits = throttle_counters.hits + EXCLUDED.hits
         RETURNING key, window_start, hits`,
        [
          batch.map(([key]) => key),
          batch.map(([, b]) => new Date(b.windowStart)),
          batch.map(([, b]) => b.sending),
          batch.map(([, b]) => new Date(b.windowEnd)),
        ],
      );
      const totals = new Map(
        rows.map((row) => [`${row.key}@${row.window_start.getTime()}`, row.hits]),
      );
      for (const [key, bucket] of batch) {
        bucket.shared =
          totals.get(`${key}@${bucket.windowStart}`) ?? bucket.shared + bucket.sending;
        bucket.sending = 0;
      }
      await this.removeExpiredCounters(now);
    } catch (error) {
      for (const [, bucket] of batch) this.restore(bucket);
      if (now - this.lastFailureLogAt > 10_000) {
        this.lastFailureLogAt = now;
        this.logger.warn(
          `Could not share rate-limit counters (${error instanceof Error ? error.message : String(error)}); limiting per instance until PostgreSQL answers`,
        );
      }
    }
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
