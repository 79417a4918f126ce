import { Repository } from 'typeorm';
import { Todo } from './todo.entity';
import { TodoNotFoundException, TodoVersionMismatchException } from './todos.errors';
import { TodosService } from './todos.service';

interface Statement {
  sql: string;
  params: unknown[];
}

const OWNER = 'owner-32-characters-better-auth-id';
const ID = '0b9f4a53-2f6c-4c55-9a43-7d3e5f7c1a20';
const ROW = {
  id: ID,
  user_id: OWNER,
  title: 'Buy milk',
  description: null,
  completed: false,
  version: 1,
  created_at: new Date('2026-01-31T09:30:00.000Z'),
  updated_at: new Date('2026-01-31T09:30:00.000Z'),
};

/**
 * The service against a stand-in for the one thing it calls: the pool of the repository's data
 * source, which runs named statements. Each statement's answer is scripted; every statement is
 * recorded.
 */
function serviceAnswering(...answers: { records: unknown[]; affected?: number }[]) {
  const statements: Statement[] = [];
  const pool = {
    query: ({ text, values }: { name: string; text: string; values: unknown[] }) => {
      statements.push({ sql: text, params: values });
      const answer = answers.shift() ?? { records: [], affected: 0 };
      return Promise.resolve({ rows: answer.records, rowCount: answer.affected ?? 0 });
    },
  };
  const repository = {
    manager: { connection: { driver: { master: pool } } },
  } as unknown as Repository<Todo>;
  return { service: new TodosService(repository), statements };
}

/** Binds the owner as $1 and restricts (or, for INSERT, writes) user_id to it. */
function expectOwned({ sql, params }: Statement): void {
  expect(params[0]).toBe(OWNER);
  const normalised = sql.replace(/\s+/g, ' ');
  if (normalised.startsWith('INSERT')) {
    expect(normalised).toMatch(/^INSERT INTO todos \(user_id, .*\) VALUES \(\$1, /);
  } else {
    expect(normalised).toMatch(/ WHERE user_id = \$1( |$)/);
    expect(normalised).not.toMatch(/ OR /i);
  }
}

describe("TodosService: every statement is the caller's", () => {
  const calls: [string, (service: TodosService) => Promise<unknown>][] = [
    ['list', (s) => s.list(OWNER, { limit: 20 })],
    [
      'list with filter and cursor',
      (s) => s.list(OWNER, { limit: 5, completed: true, after: { createdAt: new Date(), id: ID } }),
    ],
    ['create', (s) => s.create(OWNER, { title: 'x' })],
    ['findOne', (s) => s.findOne(OWNER, ID)],
    ['update', (s) => s.update(OWNER, ID, { title: 'x', description: null })],
    [
      'update with If-Match',
      (s) => s.update(OWNER, ID, { completed: true }, { kind: 'versions', versions: [3] }),
    ],
    ['update with If-Match: *', (s) => s.update(OWNER, ID, { completed: true }, { kind: 'any' })],
    ['remove', (s) => s.remove(OWNER, ID)],
    ['remove with If-Match', (s) => s.remove(OWNER, ID, { kind: 'versions', versions: [3] })],
  ];

  it.each(calls)('%s, on success and on every failure path', async (_, call) => {
    for (const answers of [
      [{ records: [ROW], affected: 1 }],
      // Nothing matched, then the existence probe: found (412) or not (404).
      [{ records: [], affected: 0 }, { records: [{ '?column?': 1 }] }],
      [{ records: [], affected: 0 }, { records: [] }],
    ]) {
      const { service, statements } = serviceAnswering(...answers);
      await call(service).catch(() => undefined);
      expect(statements.length).toBeGreaterThan(0);
      statements.forEach(expectOwned);
    }
  });
});

describe('TodosService outcomes', () => {
  it('maps the returned row to a Todo', async () => {
    const { service } = serviceAnswering({ records: [ROW] });
    await expect(service.findOne(OWNER, ID)).resolves.toEqual(
      Object.assign(new Todo(), {
        id: ID,
        userId: OWNER,
        title: 'Buy milk',
        description: null,
        completed: false,
        version: 1,
        createdAt: ROW.created_at,
        updatedAt: ROW.updated_at,
      }),
    );
  });

  it('is not found when no row of the caller has the id', async () => {
    const { service } = serviceAnswering({ records: [] });
    await expect(service.findOne(OWNER, ID)).rejects.toBeInstanceOf(TodoNotFoundException);
  });

  it('checks the version inside the UPDATE itself and bumps it there', async () => {
    const { service, statements } = serviceAnswering({ records: [ROW], affected: 1 });
    await service.update(OWNER, ID, { completed: true }, { kind: 'versions', versions: [3, 4] });
    expect(statements).toHaveLength(1);
    expect(statements[0].sql.replace(/\s+/g, ' ')).toBe(
      'UPDATE todos SET completed = $3, version = version + 1, updated_at = now() ' +
        'WHERE user_id = $1 AND id = $2 AND version = ANY($4) ' +
        'RETURNING id, user_id, title, description, completed, version, created_at, updated_at',
    );
    expect(statements[0].params).toEqual([OWNER, ID, true, [3, 4]]);
  });

  it("answers 412 when the caller's todo exists at another version, 404 when it does not", async () => {
    const stale = serviceAnswering({ records: [], affected: 0 }, { records: [{}] });
    await expect(
      stale.service.remove(OWNER, ID, { kind: 'versions', versions: [1] }),
    ).rejects.toBeInstanceOf(TodoVersionMismatchException);

    const missing = serviceAnswering({ records: [], affected: 0 }, { records: [] });
    await expect(
      missing.service.remove(OWNER, ID, { kind: 'versions', versions: [1] }),
    ).rejects.toBeInstanceOf(TodoNotFoundException);
  });

  it('writes nothing when If-Match names no version this API could have issued', async () => {
    const { service, statements } = serviceAnswering({ records: [{}] });
    await expect(
      service.update(OWNER, ID, { title: 'x' }, { kind: 'versions', versions: [] }),
    ).rejects.toBeInstanceOf(TodoVersionMismatchException);
    expect(statements.map((s) => s.sql.split(' ')[0])).toEqual(['SELECT']);
  });

  it('reads one row more than the page to know whether another page follows', async () => {
    const rows = [1, 2, 3].map((n) => ({ ...ROW, id: `${ID.slice(0, -1)}${n}` }));
    const { service, statements } = serviceAnswering({ records: rows });
    const page = await service.list(OWNER, { limit: 2 });
    expect(statements[0].params).toEqual([OWNER, 3]);
    expect(page.todos.map((t) => t.id)).toEqual([rows[0].id, rows[1].id]);
    expect(page.next).toEqual({ createdAt: ROW.created_at, id: rows[1].id });
  });
});
