import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppConfigService } from '../config/app-config.service';
import { RunningEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';

/** Runs the embedded PostgreSQL for the app when no DATABASE_URL is set (SPEC §8). */
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
    if (dataSource.isInitialized) await dataSource.destroy();
    await this.running.stop();
    this.running = undefined;
    this.logger.log('Embedded PostgreSQL stopped');
  }
}
