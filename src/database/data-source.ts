import 'reflect-metadata';
import { DataSource, DataSourceOptions } from 'typeorm';
import { loadAppConfig } from '../config/load-config';
import { buildDataSourceOptions } from './data-source-options';
import { RunningEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';

/**
 * The data source of the TypeORM CLI (`npm run migration:*`, which pass `-d` pointing at the
 * compiled `dist/src/database/data-source.js`). Only the CLI imports this file: importing it
 * connects nowhere yet, but may start the embedded PostgreSQL.
 *
 * It reads the same configuration as the app (environment, then `.env`). With DATABASE_URL it
 * uses that database. Without it, it starts the same embedded PostgreSQL that `npm start` uses
 * (same data directory and port), so the migration commands act on the database the app will
 * use with no extra set-up, and stops it again when the command destroys the data source. Two
 * processes cannot run one data directory: while `npm start` is running, point the CLI at that
 * server with DATABASE_URL=postgres://postgres:postgres@127.0.0.1:54329/todos.
 */
class CliDataSource extends DataSource {
  constructor(
    options: DataSourceOptions,
    private readonly embedded?: RunningEmbeddedPostgres,
  ) {
    super(options);
  }

  override async destroy(): Promise<void> {
    try {
      if (this.isInitialized) await super.destroy();
    } finally {
      await this.embedded?.stop();
    }
  }
}

async function createCliDataSource(): Promise<DataSource> {
  const { database } = loadAppConfig();
  // The CLI decides itself when to migrate; the connection never migrates on its own.
  const settings = { poolSize: 2, migrationsRun: false };
  if (database.url) return new CliDataSource(buildDataSourceOptions(database.url, settings));
  const embedded = await startEmbeddedPostgres(database.embedded);
  return new CliDataSource(buildDataSourceOptions(embedded.url, settings), embedded);
}

export const dataSource = createCliDataSource();
