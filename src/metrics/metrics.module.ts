import { Module } from '@nestjs/common';
import { MetricsServer } from './metrics-server';
import { MetricsService } from './metrics.service';

/**
 * Prometheus metrics: one registry per app (MetricsService), which every feature registers its
 * collectors with, served on a port of their own (MetricsServer).
 */
@Module({
  providers: [MetricsService, MetricsServer],
  exports: [MetricsService],
})
export class MetricsModule {}
