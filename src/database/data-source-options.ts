import { extname, join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { DatabaseConfig } from '../config/app-config';
import { Todo } from '../todos/todo.entity';

/** Every entity of the app; the CLI's migration:generate diffs the database against this list. */
export const ENTITIES = [Todo];

/**
 * `migrations/` sits next to `src/` both in the sources and in `dist/`, so one path relative to
 * this file finds it in both layouts. The extension follows this file's own: TypeScript sources
 * under Jest, compiled JavaScript from `dist/` (never the `.js.map` files beside them; TypeORM
 * also skips `.d.ts`).
 */
export const MIGRATIONS_GLOB = join(
  __dirname,
  '..',
  '..',
  'migrations',
  `*${extname(__filename) === '.ts' ? '.ts' : '.js'}`,
);

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
    entities: ENTITIES,
    migrations: [MIGRATIONS_GLOB],
    migrationsRun: database.migrationsRun,
    migrationsTransactionMode: 'each',
    synchronize: false,
    // Ids come from gen_random_uuid(), built into PostgreSQL 13+: no extension to create, so the
    // app needs no CREATE privilege on the database at startup.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    logging: false,
    applicationName: 'todo-api',
    extra: {
      max: database.poolSize,
      // Fail fast when the database is down so the request can answer 503 quickly.
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      // TCP keep-alive: a pooled connection cut by a network partition is noticed and replaced
      // instead of hanging the next query that picks it.
      keepAlive: true,
    },
  };
}
