import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { MetricsModule } from '../metrics/metrics.module';
import { HealthController } from './health.controller';
import { HealthMetrics } from './health.metrics';
import { HealthService } from './health.service';
import { ShutdownDelayService } from './shutdown-delay.service';

@Module({
  imports: [AuthModule, MetricsModule],
  controllers: [HealthController],
  providers: [HealthService, ShutdownDelayService, HealthMetrics],
})
export class HealthModule {}
