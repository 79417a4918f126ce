import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync } from 'node:fs';
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
 * Runs once before the e2e suites:
 * - builds the app, so suites that start it as a child process (as users do) run this code;
 * - provides one real PostgreSQL: DATABASE_URL when given, otherwise an embedded cluster in a
 *   fresh temporary directory (reachable by the `postgres` user when run as root);
 * - runs the real migrations once; test apps then start with MIGRATIONS_RUN=false.
 */
export default async function globalSetup(): Promise<void> {
  buildApp();
  let url = process.env.DATABASE_URL;
  if (!url) {
    const root = mkdtempSync(join(tmpdir(), 'todo-api-test-'));
    chmodSync(root, 0o755);
    globalThis.__TEST_POSTGRES__ = await startEmbeddedPostgres({
      dataDir: join(root, 'postgres'),
      port: await freePort(),
    });
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

/** Type errors are `npm run typecheck`'s job; here the suites only need the emitted code. */
function buildApp(): void {
  const nest = require.resolve('@nestjs/cli/bin/nest.js');
  const result = spawnSync(process.execPath, [nest, 'build'], { encoding: 'utf8' });
  if (!existsSync(join(__dirname, '..', '..', 'dist', 'src', 'main.js'))) {
    throw new Error(`nest build failed:\n${result.stdout}\n${result.stderr}`);
  }
}
