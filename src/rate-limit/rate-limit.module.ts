import { Logger, Module, OnModuleInit } from '@nestjs/common';
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
export class RateLimitModule implements OnModuleInit {
  private readonly logger = new Logger(RateLimitModule.name);

  constructor(private readonly config: AppConfigService) {}

  onModuleInit(): void {
    const { trustProxy } = this.config.http;
    if (typeof trustProxy === 'number' && trustProxy > 0) {
      // A hop count cannot tell a proxy from a client that connects directly and writes its own
      // X-Forwarded-For; only a list of proxy addresses can.
      this.logger.warn(
        `TRUST_PROXY=${trustProxy} trusts X-Forwarded-For by hop count: a client that can reach the API ` +
          `without going through the proxies chooses the address it is rate-limited under. ` +
          `List the proxies' addresses instead (TRUST_PROXY=10.0.0.0/8, for example).`,
      );
    }
  }
}
