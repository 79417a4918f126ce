import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AppConfigService } from '../config/app-config.service';
import { MetricsService } from '../metrics/metrics.service';

/**
 * The connection pool's use, read from pg's pool under TypeORM's driver at each scrape (as
 * SqlClient reaches it to run statements): connections open, idle, and queries waiting for one.
 * Waiting above zero for long means the pool, not the code, is what requests wait on.
 */
@Injectable()
export class DatabaseMetrics {
  constructor(
    metrics: MetricsService,
    config: AppConfigService,
    @InjectDataSource() dataSource: DataSource,
  ) {
    const pool = () =>
      dataSource.isInitialized ? ((dataSource.driver as PostgresDriver).master as Pool) : undefined;
    metrics.sampledGauge(
      { name: 'db_pool_connections', help: 'Connections the pool holds open (busy or idle).' },
      () => pool()?.totalCount ?? 0,
    );
    metrics.sampledGauge(
      { name: 'db_pool_idle_connections', help: 'Open connections not running a query.' },
      () => pool()?.idleCount ?? 0,
    );
    metrics.sampledGauge(
      { name: 'db_pool_waiting_queries', help: 'Queries waiting for a free connection.' },
      () => pool()?.waitingCount ?? 0,
    );
    metrics
      .gauge({ name: 'db_pool_max_connections', help: 'Most connections the pool may open.' })
      .set(config.database.poolSize);
  }
}
