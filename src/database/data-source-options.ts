import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { DatabaseConfig } from '../config/app-config';

/**
 * The one place that builds database options, used by the Nest module, the TypeORM CLI data
 * source and the tests. The schema comes from migrations only: `synchronize` is off everywhere.
 */
export function buildDataSourceOptions(
  url: string,
  database: Pick<DatabaseConfig, 'poolSize' | 'migrationsRun'>,
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [],
    migrations: [join(__dirname, '..', '..', 'migrations', '*.{ts,js}')],
    migrationsRun: database.migrationsRun,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName: 'todo-api',
    extra: {
      max: database.poolSize,
      // Fail fast when the database is down so the request can answer 503 quickly.
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
    },
  };
}
