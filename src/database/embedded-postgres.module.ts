import { Global, Module } from '@nestjs/common';
import { EmbeddedPostgresService } from './embedded-postgres.service';

/**
 * Global for the order of shutdown hooks, not for injection: Nest runs the hooks of global
 * modules after all others', so every provider that still writes to the database on shutdown
 * (the rate-limit storage flushes its counters) has done so before this module's service closes
 * the pool and stops PostgreSQL. As an ordinary module imported by TypeORM's, its hook ran first
 * and the counters were dropped (test/graceful-shutdown.e2e-spec.ts checks the order).
 */
@Global()
@Module({
  providers: [EmbeddedPostgresService],
  exports: [EmbeddedPostgresService],
})
export class EmbeddedPostgresModule {}
