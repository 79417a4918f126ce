import { Injectable } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { HealthService } from './health.service';
import { ShutdownDelayService } from './shutdown-delay.service';

/**
 * `todo_api_ready`: 1 when the readiness probe would answer 200 (not shutting down, every
 * dependency up). Checked afresh at each scrape (one bounded `SELECT 1`), so the gauge never
 * reports a stale answer between probes.
 */
@Injectable()
export class HealthMetrics {
  constructor(metrics: MetricsService, health: HealthService, shutdown: ShutdownDelayService) {
    metrics.sampledGauge(
      {
        name: 'ready',
        help: 'Whether the instance is ready for traffic (1) or not (0), as GET /api/health/ready says.',
      },
      async () => {
        if (shutdown.isShuttingDown) return 0;
        const checks = Object.values(await health.readiness());
        return checks.every((state) => state === 'up') ? 1 : 0;
      },
    );
  }
}
