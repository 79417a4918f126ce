import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { freePort } from '../../test/support/free-port';
import { postmasterPid, processTreeCpuMs } from './cpu';

export interface BenchDatabase {
  url: string;
  /** `embedded (…)` or `DATABASE_URL`. */
  description: string;
  /** CPU time PostgreSQL has used so far (embedded only: an external server is not ours to read). */
  cpuMs(): number | undefined;
  stop(): Promise<void>;
}

/** DATABASE_URL when set; otherwise a fresh embedded PostgreSQL in the run's temp dir. */
export async function prepareDatabase(tempRoot: string): Promise<BenchDatabase> {
  const url = process.env.DATABASE_URL;
  if (url)
    return { url, description: 'DATABASE_URL', cpuMs: () => undefined, stop: async () => {} };
  const port = await freePort();
  const dataDir = join(tempRoot, 'postgres');
  const started = Date.now();
  const running = await startEmbeddedPostgres({ dataDir, port });
  const pid = postmasterPid(dataDir);
  return {
    url: running.url,
    description: `embedded PostgreSQL in ${dataDir} (port ${port}, initdb+start ${Date.now() - started} ms)`,
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

/**
 * The list query as SPEC §5 defines it (the caller's todos, newest first, keyset pagination,
 * one extra row to know whether there is a next page), for EXPLAIN. The first page and a
 * following page (with a cursor) are both shown.
 */
export async function explainListQuery(url: string, userId: string): Promise<string[]> {
  return withClient(url, async (client) => {
    await client.query('ANALYZE todos');
    const plans: string[] = [];
    const first = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF)
       SELECT * FROM todos
       WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 21`,
      [userId],
    );
    plans.push(first.rows.map((row) => row['QUERY PLAN']).join('\n'));
    const middle = await client.query<{ created_at: Date; id: string }>(
      'SELECT created_at, id FROM todos WHERE user_id = $1 ORDER BY created_at DESC, id DESC OFFSET 9 LIMIT 1',
      [userId],
    );
    if (middle.rows[0]) {
      const next = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF)
         SELECT * FROM todos
         WHERE user_id = $1 AND (created_at, id) < ($2, $3)
         ORDER BY created_at DESC, id DESC LIMIT 21`,
        [userId, middle.rows[0].created_at, middle.rows[0].id],
      );
      plans.push(next.rows.map((row) => row['QUERY PLAN']).join('\n'));
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
