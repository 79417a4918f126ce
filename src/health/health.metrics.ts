import { Injectable } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { HealthService } from './health.service';

/**
 * `todo_api_ready`: 1 when the readiness probe would answer 200. Checked afresh at each scrape
 * (one bounded `SELECT 1`), so the gauge never reports a stale answer between probes.
 */
@Injectable()
export class HealthMetrics {
  constructor(metrics: MetricsService, health: HealthService) {
    metrics.sampledGauge(
      {
        name: 'ready',
        help: 'Whether the instance is ready for traffic (1) or not (0), as GET /api/health/ready says.',
      },
      async () =>
        Object.values(await health.readiness()).every((state) => state === 'up') ? 1 : 0,
    );
  }
}
