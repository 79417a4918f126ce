import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';

/**
 * Which limit answered 429: a signed-in user's, an anonymous client address's, or an address's
 * budget of failed authentications. The bucket kind only, never the user or the address.
 */
export type RateLimitBucket = 'user' | 'anonymous' | 'failed_auth';

const BUCKETS: readonly RateLimitBucket[] = ['user', 'anonymous', 'failed_auth'];

@Injectable()
export class RateLimitMetrics {
  private readonly limited: Counter<'bucket'>;

  constructor(metrics: MetricsService) {
    this.limited = metrics.counter({
      name: 'rate_limited_requests_total',
      help: 'Requests answered 429 by the rate limiter, by the kind of bucket that was full.',
      labelNames: ['bucket'] as const,
    });
    for (const bucket of BUCKETS) this.limited.inc({ bucket }, 0);
  }

  limitedBy(bucket: RateLimitBucket): void {
    this.limited.inc({ bucket });
  }
}
