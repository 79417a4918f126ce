import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import { testDatabaseUrl } from './test-env';

/**
 * Scratch databases on the e2e PostgreSQL (TEST_DATABASE_URL, started by the global setup), for
 * suites that need a schema or rows of their own. Call dropScratchDatabases() in afterAll.
 */
const created: string[] = [];

/** A new, empty database on the test server; its URL. */
export async function scratchDatabase(prefix = 'scratch'): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  created.push(name);
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropScratchDatabases(): Promise<void> {
  await withAdmin(async (admin) => {
    for (const name of created.splice(0)) await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  });
}

/** A data source on `url` with every migration run, as the app's would be. */
export async function migratedDataSource(url: string, poolSize = 2): Promise<DataSource> {
  const dataSource = new DataSource(
    buildDataSourceOptions(url, { poolSize, migrationsRun: false }),
  );
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}

async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
