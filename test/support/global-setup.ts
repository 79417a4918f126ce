import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import {
  RunningEmbeddedPostgres,
  startEmbeddedPostgres,
} from '../../src/database/embedded-postgres';
import { freePort } from './free-port';

declare global {
  var __TEST_POSTGRES__: RunningEmbeddedPostgres | undefined;
}

/**
 * One real PostgreSQL for the whole e2e run: DATABASE_URL when given, otherwise an embedded
 * cluster in a fresh temporary directory (reachable by the `postgres` user when run as root).
 * The real migrations run once here; test apps start with MIGRATIONS_RUN=false.
 */
export default async function globalSetup(): Promise<void> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    const root = mkdtempSync(join(tmpdir(), 'todo-api-test-'));
    chmodSync(root, 0o755);
    const dataDir = join(root, 'postgres');
    globalThis.__TEST_POSTGRES__ = await startEmbeddedPostgres({ dataDir, port: await freePort() });
    url = globalThis.__TEST_POSTGRES__.url;
  }
  process.env.TEST_DATABASE_URL = url;
  const dataSource = new DataSource(
    buildDataSourceOptions(url, { poolSize: 2, migrationsRun: false }),
  );
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}
