import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { AppConfigService } from '../config/app-config.service';
import { RunningEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';

/** Runs the embedded PostgreSQL for the app when no DATABASE_URL is set. */
@Injectable()
export class EmbeddedPostgresService implements OnApplicationShutdown {
  private readonly logger = new Logger(EmbeddedPostgresService.name);
  private running: RunningEmbeddedPostgres | undefined;

  constructor(
    private readonly config: AppConfigService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Starts the server and returns its connection URL. */
  async start(): Promise<string> {
    const startedAt = Date.now();
    this.running = await startEmbeddedPostgres({
      ...this.config.database.embedded,
      onLog: (message) => this.logger.debug(message),
    });
    const { dataDir, port } = this.config.database.embedded;
    this.logger.log(
      `Embedded PostgreSQL ready on port ${port} (${this.running.initialised ? 'new' : 'existing'} data in ${dataDir}, ${Date.now() - startedAt} ms)`,
    );
    return this.running.url;
  }

  /** Closes the connection pool first, so the server stops with no client left mid-query. */
  async onApplicationShutdown(): Promise<void> {
    if (!this.running) return;
    const dataSource = this.moduleRef.get(DataSource, { strict: false });
    if (dataSource.isInitialized) await closePool(dataSource);
    this.logger.log('Connection pool closed; stopping embedded PostgreSQL');
    await this.running.stop();
    this.running = undefined;
    this.logger.log('Embedded PostgreSQL stopped');
  }
}

/** The longest wait for pooled connections to say goodbye before PostgreSQL is stopped anyway. */
const POOL_CLOSE_LIMIT_MS = 2000;

/**
 * Destroys the DataSource and waits until every pooled connection has really closed. pg's
 * Pool.end() resolves as soon as it has asked each connection to end; stopping PostgreSQL right
 * then cut them off mid-goodbye ("FATAL: terminating connection due to administrator command").
 */
async function closePool(dataSource: DataSource): Promise<void> {
  const pool = (dataSource.driver as unknown as { master?: EventEmitter & { totalCount: number } })
    .master;
  let open = pool?.totalCount ?? 0;
  const allClosed = new Promise<void>((resolve) => {
    if (!pool || open === 0) return resolve();
    pool.on('remove', () => {
      if (--open === 0) resolve();
    });
  });
  await dataSource.destroy();
  await Promise.race([allClosed, sleep(POOL_CLOSE_LIMIT_MS, undefined, { ref: false })]);
}
