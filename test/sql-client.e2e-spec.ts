import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { DatabaseUnavailableException } from '../src/database/database.errors';
import { SqlClient } from '../src/database/sql-client';

/** SqlClient on the real test PostgreSQL: named statements, and what its errors become. */

let dataSource: DataSource;
let sql: SqlClient;

beforeAll(async () => {
  // One connection, so every statement below meets the same server session.
  dataSource = new DataSource(
    buildDataSourceOptions(process.env.TEST_DATABASE_URL!, { poolSize: 1, migrationsRun: false }),
  );
  await dataSource.initialize();
  sql = new SqlClient(dataSource);
});

afterAll(async () => {
  await dataSource?.destroy();
});

describe('SqlClient', () => {
  it('prepares each statement text once per connection, under one stable name', async () => {
    const text = 'SELECT $1::int + 1 AS n';
    await expect(sql.query(text, [1])).resolves.toEqual({ rows: [{ n: 2 }], rowCount: 1 });
    await expect(sql.query(text, [41])).resolves.toEqual({ rows: [{ n: 42 }], rowCount: 1 });

    const { rows } = await sql.query<{ name: string; statement: string }>(
      'SELECT name, statement FROM pg_prepared_statements ORDER BY name',
      [],
    );
    const named = rows.filter((row) => row.statement === text);
    expect(named).toHaveLength(1);
    expect(named[0].name).toMatch(/^sql_[0-9a-f]{32}$/);
    expect(new Set(rows.map((row) => row.name)).size).toBe(rows.length);
  });

  it('returns rows as arrays in column order on request, from the same named statement', async () => {
    const text = "SELECT $1::int AS n, 'x' AS s, NULL::text AS missing";
    await expect(sql.queryArrays(text, [7])).resolves.toEqual({
      rows: [[7, 'x', null]],
      rowCount: 1,
    });
    await expect(sql.query(text, [8])).resolves.toEqual({
      rows: [{ n: 8, s: 'x', missing: null }],
      rowCount: 1,
    });
    await expect(
      sql.transaction((tx) => tx.queryArrays('SELECT 1 AS a, 2 AS b', [])),
    ).resolves.toEqual({ rows: [[1, 2]], rowCount: 1 });
  });

  it('agrees on names with another SqlClient on the same pool', async () => {
    const other = new SqlClient(dataSource);
    await expect(other.query('SELECT $1::int + 2 AS n', [1])).resolves.toEqual({
      rows: [{ n: 3 }],
      rowCount: 1,
    });
    await expect(sql.query('SELECT $1::int + 2 AS n', [2])).resolves.toEqual({
      rows: [{ n: 4 }],
      rowCount: 1,
    });
    await expect(other.query('SELECT $1::int + 1 AS n', [2])).resolves.toEqual({
      rows: [{ n: 3 }],
      rowCount: 1,
    });
  });

  it('turns a lost connection into DatabaseUnavailableException, then reconnects', async () => {
    // The server ends this very session, as a restart or failover would.
    const lost = await sql
      .query('SELECT pg_terminate_backend(pg_backend_pid())', [])
      .catch((error: unknown) => error);
    expect(lost).toBeInstanceOf(DatabaseUnavailableException);
    expect((lost as DatabaseUnavailableException).getStatus()).toBe(503);
    expect((lost as DatabaseUnavailableException).message).not.toMatch(/terminat/);

    await expect(sql.query('SELECT 1 AS one', [])).resolves.toEqual({
      rows: [{ one: 1 }],
      rowCount: 1,
    });
  });

  it('leaves a bad statement as the error it is (a bug, not an outage)', async () => {
    const error = await sql
      .query('SELECT * FROM no_such_table', [])
      .catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(DatabaseUnavailableException);
    expect(error).toMatchObject({ code: '42P01' });
  });
});
