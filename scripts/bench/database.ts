import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { freePort } from '../../test/support/free-port';
import { postmasterPid, processTreeCpuMs } from './cpu';

export interface BenchDatabase {
  url: string;
  /** `embedded (…)` or `DATABASE_URL`. */
  description: string;
  /** Whether the benchmark started this database (a fresh embedded PostgreSQL). */
  embedded: boolean;
  /** CPU time PostgreSQL has used so far (embedded only: an external server is not ours to read). */
  cpuMs(): number | undefined;
  stop(): Promise<void>;
}

/** DATABASE_URL when set; otherwise a fresh embedded PostgreSQL in the run's temp dir. */
export async function prepareDatabase(tempRoot: string): Promise<BenchDatabase> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const description = 'DATABASE_URL';
    return { url, description, embedded: false, cpuMs: () => undefined, stop: async () => {} };
  }
  const port = await freePort();
  const dataDir = join(tempRoot, 'postgres');
  const started = Date.now();
  const running = await startEmbeddedPostgres({ dataDir, port });
  const pid = postmasterPid(dataDir);
  return {
    url: running.url,
    description: `embedded PostgreSQL in ${dataDir} (port ${port}, initdb+start ${Date.now() - started} ms)`,
    embedded: true,
    cpuMs: () => processTreeCpuMs(pid),
    stop: () => running.stop(),
  };
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, application_name: 'todo-api-bench' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface ExplainedQuery {
  title: string;
  plan: string;
}

/** The list query as TodosService.list issues it (TypeORM selects every column; one extra row). */
const LIST_SQL = `SELECT * FROM todos WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 21`;
const LIST_AFTER_SQL = `SELECT * FROM todos WHERE user_id = $1 AND (created_at, id) < ($2, $3)
  ORDER BY created_at DESC, id DESC LIMIT 21`;
const BY_ID_SQL = `SELECT * FROM todos WHERE user_id = $1 AND id = $2`;
/** A user with many todos: where an index in the ORDER BY's order matters most. */
const HEAVY_USER_TODOS = 5000;

/**
 * EXPLAIN ANALYZE of the app's read queries: a seeded user's first page, the page after a
 * cursor, one todo by id, and the first page of a user with 5,000 todos. That user's rows are
 * inserted in a transaction that is rolled back, so nothing stays in the database.
 */
export async function explainQueries(url: string, userId: string): Promise<ExplainedQuery[]> {
  return withClient(url, async (client) => {
    const explain = async (title: string, sql: string, params: unknown[]) => {
      const result = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) ${sql}`,
        params,
      );
      plans.push({ title, plan: result.rows.map((row) => row['QUERY PLAN']).join('\n') });
    };
    const plans: ExplainedQuery[] = [];
    await client.query('ANALYZE todos');
    await explain('GET /api/todos, first page (a seeded user)', LIST_SQL, [userId]);
    const page = await client.query<{ created_at: Date; id: string }>(
      `SELECT created_at, id FROM todos WHERE user_id = $1
       ORDER BY created_at DESC, id DESC OFFSET 9 LIMIT 1`,
      [userId],
    );
    const cursor = page.rows[0];
    if (cursor) {
      await explain('GET /api/todos?cursor=… (the page after a cursor)', LIST_AFTER_SQL, [
        userId,
        cursor.created_at,
        cursor.id,
      ]);
      await explain('GET /api/todos/:id', BY_ID_SQL, [userId, cursor.id]);
    }
    await client.query('BEGIN');
    try {
      await client.query(
        `INSERT INTO todos (user_id, title, created_at, updated_at)
         SELECT $1, 'todo ' || n, now() - n * interval '1 minute', now() - n * interval '1 minute'
         FROM generate_series(1, ${HEAVY_USER_TODOS}) AS n`,
        ['bench-explain-heavy-user'],
      );
      await client.query('ANALYZE todos');
      await explain(
        `GET /api/todos, first page (a user with ${HEAVY_USER_TODOS} todos)`,
        LIST_SQL,
        ['bench-explain-heavy-user'],
      );
    } finally {
      await client.query('ROLLBACK');
    }
    return plans;
  });
}

export interface TableScanStats {
  seqScan: number;
  indexScans: Record<string, number>;
}

/**
 * How the app's own queries reached the todos table: sequential scans and scans per index, from
 * PostgreSQL's statistics (read before and after a scenario, the difference is that scenario's).
 */
export async function todosScanStats(url: string): Promise<TableScanStats> {
  return withClient(url, async (client) => {
    // Statistics are flushed by backends at most once a second and cached per transaction.
    await client.query('SELECT pg_stat_clear_snapshot()');
    const table = await client.query<{ seq_scan: string }>(
      "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'todos'",
    );
    const indexes = await client.query<{ indexrelname: string; idx_scan: string }>(
      "SELECT indexrelname, idx_scan FROM pg_stat_user_indexes WHERE relname = 'todos'",
    );
    return {
      seqScan: Number(table.rows[0]?.seq_scan ?? 0),
      indexScans: Object.fromEntries(indexes.rows.map((r) => [r.indexrelname, Number(r.idx_scan)])),
    };
  });
}

export function scanStatsDelta(before: TableScanStats, after: TableScanStats): TableScanStats {
  const indexScans: Record<string, number> = {};
  for (const [name, count] of Object.entries(after.indexScans)) {
    indexScans[name] = count - (before.indexScans[name] ?? 0);
  }
  return { seqScan: after.seqScan - before.seqScan, indexScans };
}
