import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfigService } from '../config/app-config.service';
import { MetricsModule } from '../metrics/metrics.module';
import { DatabaseMetrics } from './database.metrics';
import { buildDataSourceOptions } from './data-source-options';
import { EmbeddedPostgresModule } from './embedded-postgres.module';
import { EmbeddedPostgresService } from './embedded-postgres.service';
import { SqlClient } from './sql-client';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [EmbeddedPostgresModule],
      inject: [AppConfigService, EmbeddedPostgresService],
      useFactory: async (config: AppConfigService, embedded: EmbeddedPostgresService) => {
        const url = config.database.url ?? (await embedded.start());
        return buildDataSourceOptions(url, config.database);
      },
    }),
    MetricsModule,
  ],
  providers: [SqlClient, DatabaseMetrics],
  exports: [SqlClient],
})
export class DatabaseModule {}
