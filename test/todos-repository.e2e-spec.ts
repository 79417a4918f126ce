import { Client, type QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import { SqlClient, SqlQuery, SqlResult } from '../src/database/sql-client';
import { TODOS_LIST_INDEX } from '../src/todos/todo.entity';
import { cursorAfter } from '../src/todos/todo-cursor';
import { TodoRecord } from '../src/todos/todo.record';
import { TodosRepository } from '../src/todos/todos.repository';
import {
  dropScratchDatabases,
  migratedDataSource,
  scratchDatabase,
} from './support/scratch-database';

/**
 * TodosRepository on a real PostgreSQL (a scratch database built by the migrations): every
 * statement binds the owner as $1 and never reaches another user's row, and the list statements
 * are served by the (user_id, created_at DESC, id DESC) index.
 */

interface Sent {
  text: string;
  values: unknown[];
}

/** The real SqlClient, with each statement recorded on its way to PostgreSQL. */
class RecordingSqlClient extends SqlClient {
  readonly sent: Sent[] = [];

  override query<Row extends QueryResultRow>(
    text: string,
    values: unknown[],
  ): Promise<SqlResult<Row>> {
    this.sent.push({ text, values });
    return super.query<Row>(text, values);
  }

  override queryArrays<Row extends unknown[]>(
    text: string,
    values: unknown[],
  ): Promise<SqlResult<Row>> {
    this.sent.push({ text, values });
    return super.queryArrays<Row>(text, values);
  }

  override transaction<T>(work: (sql: SqlQuery) => Promise<T>): Promise<T> {
    return super.transaction((tx) =>
      work({
        query: <Row extends QueryResultRow>(text: string, values: unknown[]) => {
          this.sent.push({ text, values });
          return tx.query<Row>(text, values);
        },
        queryArrays: <Row extends unknown[]>(text: string, values: unknown[]) => {
          this.sent.push({ text, values });
          return tx.queryArrays<Row>(text, values);
        },
      }),
    );
  }
}

/** Far above what any test here inserts. */
const NO_LIMIT = 1_000_000;

const OWNER = 'owner-a-better-auth-id';
const OTHER = 'owner-b-better-auth-id';

let dataSource: DataSource;

beforeAll(async () => {
  const url = await scratchDatabase('todos_repository');
  // Sessions in a zone far from UTC (+13:45 / +12:45): the times read must not depend on it.
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(
    `ALTER DATABASE ${new URL(url).pathname.slice(1)} SET timezone = 'Pacific/Chatham'`,
  );
  await admin.end();
  dataSource = await migratedDataSource(url);
});

afterAll(async () => {
  await dataSource?.destroy();
  await dropScratchDatabases();
});

function repository() {
  const sql = new RecordingSqlClient(dataSource);
  return { todos: new TodosRepository(sql), sent: sql.sent };
}

/** Binds the owner as $1 and restricts (or, for INSERT, writes) user_id to it. */
function expectOwned({ text, values }: Sent, owner: string): void {
  expect(values[0]).toBe(owner);
  const normalised = text.replace(/\s+/g, ' ');
  if (normalised.startsWith('INSERT')) {
    expect(normalised).toMatch(
      /^INSERT INTO todos \(user_id, .*\) SELECT \$1, .* WHERE user_id = \$1\)/,
    );
  } else if (normalised.startsWith('SELECT pg_advisory_xact_lock')) {
    expect(normalised).toMatch(/^SELECT pg_advisory_xact_lock\(\d+, hashtext\(\$1\)\)$/);
  } else {
    expect(normalised).toMatch(/ WHERE user_id = \$1( |$)/);
    expect(normalised).not.toMatch(/ OR /i);
  }
}

async function rowOf(id: string): Promise<Record<string, unknown> | undefined> {
  const rows = await dataSource.query<Record<string, unknown>[]>(
    'SELECT user_id, title, completed, version FROM todos WHERE id = $1',
    [id],
  );
  return rows[0];
}

describe("TodosRepository: every statement is the owner's", () => {
  let othersTodo: TodoRecord;

  beforeAll(async () => {
    othersTodo = (await repository().todos.insertWithinLimit(OTHER, NO_LIMIT, {
      title: "the other user's",
    })) as TodoRecord;
    await repository().todos.insertWithinLimit(OWNER, NO_LIMIT, { title: 'mine', completed: true });
  });

  it('inserts with the owner from the argument and maps the row to a record', async () => {
    const { todos, sent } = repository();
    const todo = (await todos.insertWithinLimit(OWNER, NO_LIMIT, {
      title: 'Buy milk',
      description: 'two litres',
    })) as TodoRecord;
    expect(todo).toMatchObject({
      userId: OWNER,
      title: 'Buy milk',
      description: 'two litres',
      completed: false,
      version: 1,
    });
    expect(todo.createdAt).toBe(new Date(todo.createdAt).toISOString());
    expect(await rowOf(todo.id)).toMatchObject({ user_id: OWNER, title: 'Buy milk' });
    sent.forEach((statement) => expectOwned(statement, OWNER));
  });

  it("never returns or changes another user's todo, whatever the call", async () => {
    const { todos, sent } = repository();
    const before = await rowOf(othersTodo.id);
    const after = { createdAt: new Date(Date.now() + 60_000), id: othersTodo.id };

    for (const query of [{ limit: 100 }, { limit: 100, completed: false }, { limit: 100, after }]) {
      const listed = await todos.list(OWNER, query);
      expect(listed.map((t) => t.userId)).toEqual(listed.map(() => OWNER));
      expect(listed.map((t) => t.id)).not.toContain(othersTodo.id);
    }
    await expect(todos.findById(OWNER, othersTodo.id)).resolves.toBeUndefined();
    await expect(todos.exists(OWNER, othersTodo.id)).resolves.toBe(false);
    await expect(todos.update(OWNER, othersTodo.id, { title: 'taken' })).resolves.toBeUndefined();
    await expect(
      todos.update(OWNER, othersTodo.id, { completed: true }, [othersTodo.version]),
    ).resolves.toBeUndefined();
    await expect(todos.delete(OWNER, othersTodo.id)).resolves.toBe(false);
    await expect(todos.delete(OWNER, othersTodo.id, [othersTodo.version])).resolves.toBe(false);

    expect(await rowOf(othersTodo.id)).toEqual(before);
    expect(sent.length).toBeGreaterThanOrEqual(9);
    sent.forEach((statement) => expectOwned(statement, OWNER));
  });

  it.each([
    ['a whole second', '2026-01-31 10:30:00+01', '2026-01-31T09:30:00.000Z'],
    ['tenths of a second', '2026-01-31 10:30:00.5+01', '2026-01-31T09:30:00.500Z'],
    ['hundredths of a second', '2026-01-31 10:30:00.25+01', '2026-01-31T09:30:00.250Z'],
    ['milliseconds', '2026-01-31 10:30:00.125+01', '2026-01-31T09:30:00.125Z'],
    ['a year before 1000', '0999-01-31 09:30:00.001+00', '0999-01-31T09:30:00.001Z'],
    ['the turn of a year in UTC', '2027-01-01 00:59:59.999+01', '2026-12-31T23:59:59.999Z'],
  ])('returns times as toISOString writes them (%s)', async (_, stored, expected) => {
    const { todos } = repository();
    const todo = (await todos.insertWithinLimit(OWNER, NO_LIMIT, { title: 'when' })) as TodoRecord;
    await dataSource.query('UPDATE todos SET created_at = $2, updated_at = $2 WHERE id = $1', [
      todo.id,
      stored,
    ]);
    const [{ TimeZone }] = await dataSource.query<{ TimeZone: string }[]>('SHOW TimeZone');
    expect(TimeZone).toBe('Pacific/Chatham');
    const read = await todos.findById(OWNER, todo.id);
    expect(read).toMatchObject({ createdAt: expected, updatedAt: expected });
    expect(new Date(expected).toISOString()).toBe(expected);
  });

  it("reaches the owner's own todo through the same statements", async () => {
    const { todos, sent } = repository();
    const mine = (await todos.insertWithinLimit(OWNER, NO_LIMIT, {
      title: 'to change',
    })) as TodoRecord;
    await expect(todos.findById(OWNER, mine.id)).resolves.toEqual(mine);
    await expect(todos.exists(OWNER, mine.id)).resolves.toBe(true);
    await expect(todos.update(OWNER, mine.id, { title: 'x' }, [mine.version + 1])).resolves.toBe(
      undefined,
    );
    const updated = await todos.update(OWNER, mine.id, { description: null, completed: true }, [
      mine.version,
    ]);
    expect(updated).toMatchObject({ title: 'to change', completed: true, version: 2 });
    await expect(todos.delete(OWNER, mine.id, [1])).resolves.toBe(false);
    await expect(todos.delete(OWNER, mine.id, [2])).resolves.toBe(true);
    await expect(todos.exists(OWNER, mine.id)).resolves.toBe(false);
    sent.forEach((statement) => expectOwned(statement, OWNER));
  });

  it('checks the version inside the UPDATE itself and bumps it there', async () => {
    const { todos, sent } = repository();
    await todos.update(OWNER, othersTodo.id, { completed: true }, [3, 4]);
    expect(sent.at(-1)!.text.replace(/\s+/g, ' ')).toBe(
      'UPDATE todos SET completed = $3, version = version + 1, updated_at = now() ' +
        'WHERE user_id = $1 AND id = $2 AND version = ANY($4) ' +
        'RETURNING id, user_id, title, description, completed, version, ' +
        "(created_at AT TIME ZONE 'UTC')::text AS created_at_utc, " +
        "(updated_at AT TIME ZONE 'UTC')::text AS updated_at_utc",
    );
    expect(sent.at(-1)!.values).toEqual([OWNER, othersTodo.id, true, [3, 4]]);
  });
});

describe('TodosRepository.insertWithinLimit', () => {
  async function countOf(owner: string): Promise<number> {
    const [{ count }] = await dataSource.query<{ count: number }[]>(
      'SELECT count(*)::int AS count FROM todos WHERE user_id = $1',
      [owner],
    );
    return count;
  }

  it('inserts below the limit and refuses at it, changing nothing', async () => {
    const owner = `limit-${Date.now()}`;
    const { todos, sent } = repository();
    for (let i = 0; i < 3; i++) {
      expect(await todos.insertWithinLimit(owner, 3, { title: `t${i}` })).toMatchObject({
        title: `t${i}`,
      });
    }
    expect(await todos.insertWithinLimit(owner, 3, { title: 'one too many' })).toBeUndefined();
    expect(await countOf(owner)).toBe(3);
    sent.forEach((statement) => expectOwned(statement, owner));
  });

  it('lets exactly `limit` of many concurrent inserts through, and never blocks another owner', async () => {
    const owner = `race-${Date.now()}`;
    const other = `race-other-${Date.now()}`;
    const LIMIT = 5;
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) =>
        repository().todos.insertWithinLimit(owner, LIMIT, { title: `race ${i}` }),
      ),
      repository().todos.insertWithinLimit(other, 1, { title: 'elsewhere' }),
    ]);
    const mine = results.slice(0, 20);
    expect(mine.filter((todo) => todo !== undefined)).toHaveLength(LIMIT);
    expect(results[20]).toMatchObject({ userId: other, title: 'elsewhere' });
    expect(await countOf(owner)).toBe(LIMIT);
    expect(await countOf(other)).toBe(1);
  });

  it('rolls back and releases the connection when a statement fails', async () => {
    const owner = `rollback-${Date.now()}`;
    const { todos } = repository();
    await expect(todos.insertWithinLimit(owner, 5, { title: 'x'.repeat(201) })).rejects.toThrow();
    expect(await countOf(owner)).toBe(0);
    // The lock ended with the transaction: the next insert for the owner is not kept waiting.
    expect(await todos.insertWithinLimit(owner, 5, { title: 'after' })).toMatchObject({
      title: 'after',
    });
  });
});

describe('the list statements and their index', () => {
  beforeAll(async () => {
    // Enough rows over enough users for the planner to prefer an index on its own merits.
    await dataSource.query(`
      INSERT INTO todos (user_id, title, completed, created_at)
      SELECT 'user-' || (n % 500), 'todo ' || n, n % 3 = 0,
             now() - make_interval(secs => n)
      FROM generate_series(1, 50000) AS n`);
    await dataSource.query('ANALYZE todos');
  });

  async function planOf({ text, values }: Sent): Promise<string> {
    const rows = await dataSource.query<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${text}`, values);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  }

  it.each([
    ['the first page', {}],
    ['a later page', { after: true }],
    ['a filtered page', { completed: false, after: true }],
  ])('serves %s from the index, with no sort', async (_, options) => {
    const { todos, sent } = repository();
    const first = await todos.list('user-7', { limit: 21 });
    expect(first).toHaveLength(21);

    const page = await todos.list('user-7', {
      limit: 21,
      completed: 'completed' in options ? options.completed : undefined,
      after: 'after' in options ? cursorAfter(first.at(-1)!) : undefined,
    });
    expect(page.length).toBeGreaterThan(0);
    const plan = await planOf(sent.at(-1)!);

    expect(plan).toContain(`Index Scan using "${TODOS_LIST_INDEX}" on todos`);
    expect(plan).not.toMatch(/Sort|Seq Scan/);
  });

  it('returns the newest first, continuing strictly after the cursor', async () => {
    const { todos } = repository();
    const first = await todos.list('user-7', { limit: 5 });
    const next = await todos.list('user-7', { limit: 5, after: cursorAfter(first.at(-1)!) });
    const all = await todos.list('user-7', { limit: 10 });
    expect([...first, ...next].map((t) => t.id)).toEqual(all.map((t) => t.id));
    const times = all.map((t) => Date.parse(t.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });
});
