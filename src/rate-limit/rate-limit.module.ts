import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfigService } from '../config/app-config.service';
import { MetricsModule } from '../metrics/metrics.module';
import { FailedAuthLimiter } from './failed-auth-limiter';
import { PostgresThrottlerStorage } from './postgres-throttler-storage';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitMetrics } from './rate-limit.metrics';

@Module({
  providers: [PostgresThrottlerStorage],
  exports: [PostgresThrottlerStorage],
})
class RateLimitStorageModule {}

/** Rate limiting with @nestjs/throttler over counters shared through PostgreSQL. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [RateLimitStorageModule],
      inject: [AppConfigService, PostgresThrottlerStorage],
      useFactory: (config: AppConfigService, storage: PostgresThrottlerStorage) => ({
        throttlers: [
          { ttl: config.throttle.ttlSeconds * 1000, limit: RateLimitGuard.limitFor(config) },
        ],
        storage,
      }),
    }),
    MetricsModule,
  ],
  providers: [RateLimitMetrics, RateLimitGuard, FailedAuthLimiter],
  exports: [RateLimitGuard, FailedAuthLimiter],
})
export class RateLimitModule {}
