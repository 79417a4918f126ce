import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { HttpClient, Reply, RequestOptions } from './support/http';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';
import { testDatabaseUrl } from './support/test-env';

/**
 * The todos API end to end: the real app (createApp) against the migrated test PostgreSQL, with
 * tokens from a real Better Auth server. Every assertion about storage reads the table itself.
 */

interface TodoRow {
  id: string;
  user_id: string;
  title: string;
  description: string | null;
  completed: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let issuer: BetterAuthIssuer;
let api: TestApp;
let db: Pool;
let alice: IssuedUser;
let bob: IssuedUser;

beforeAll(async () => {
  issuer = await BetterAuthIssuer.start();
  api = await startTestApp({ BETTER_AUTH_URL: issuer.url });
  db = new Pool({ connectionString: testDatabaseUrl(), max: 2 });
  [alice, bob] = await Promise.all([issuer.createUser(), issuer.createUser()]);
});

afterAll(async () => {
  await api?.close();
  await issuer?.close();
  await db?.end();
});

/** The app as this user (anonymous when undefined). */
function asUser(user: IssuedUser | undefined): HttpClient {
  return api.http.as(user?.jwt);
}

async function createTodo(user: IssuedUser, body: Record<string, unknown> = {}) {
  const response = await asUser(user).request('POST', '/api/todos', {
    json: { title: `todo ${randomUUID()}`, ...body },
  });
  expect(response.status).toBe(201);
  return response;
}

async function rowOf(id: string): Promise<TodoRow | undefined> {
  const { rows } = await db.query<TodoRow>('SELECT * FROM todos WHERE id = $1', [id]);
  return rows[0];
}

/** The row exactly as PostgreSQL renders it, for byte-for-byte before/after comparisons. */
async function rowJson(id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ json: string }>(
    'SELECT row_to_json(t)::text AS json FROM todos t WHERE id = $1',
    [id],
  );
  return rows[0]?.json;
}

async function countRows(userId: string): Promise<number> {
  const { rows } = await db.query<{ count: string }>(
    'SELECT count(*) FROM todos WHERE user_id = $1',
    [userId],
  );
  return Number(rows[0].count);
}

describe('POST /api/todos', () => {
  it('creates a todo owned by the caller: 201, Location, ETag, and the row matches', async () => {
    const response = await asUser(alice).request('POST', '/api/todos', {
      json: { title: '  Buy milk  ', description: 'Semi-skimmed' },
    });

    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toEqual({
      id: expect.stringMatching(UUID),
      title: 'Buy milk',
      description: 'Semi-skimmed',
      completed: false,
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
    expect(response.headers.get('location')).toBe(`/api/todos/${response.body.id}`);
    expect(response.headers.get('etag')).toBe('"1"');

    const row = await rowOf(response.body.id);
    expect(row).toEqual({
      id: response.body.id,
      user_id: alice.id,
      title: 'Buy milk',
      description: 'Semi-skimmed',
      completed: false,
      version: 1,
      created_at: new Date(response.body.createdAt),
      updated_at: new Date(response.body.updatedAt),
    });
  });

  it('defaults description to null and completed to false, and accepts both explicitly', async () => {
    const defaults = await createTodo(alice);
    expect(defaults.body).toMatchObject({ description: null, completed: false });

    const explicit = await createTodo(alice, { description: null, completed: true });
    expect(explicit.body).toMatchObject({ description: null, completed: true });
    expect(await rowOf(explicit.body.id)).toMatchObject({ description: null, completed: true });
  });

  it.each([
    ['missing', {}],
    ['null', { title: null }],
    ['a number', { title: 42 }],
    ['empty', { title: '' }],
    ['only whitespace', { title: ' \t\n ' }],
    ['201 characters', { title: 'x'.repeat(201) }],
    ['containing NUL', { title: 'a\u0000b' }],
    ['a lone surrogate', { title: 'a\ud800b' }],
  ])('refuses a title that is %s with 400 naming title, writing nothing', async (_, body) => {
    const before = await countRows(alice.id);
    const response = await asUser(alice).request('POST', '/api/todos', { json: body });
    expectProblem(response, { status: 400, errors: ['title'] });
    expect(await countRows(alice.id)).toBe(before);
  });

  it.each([
    ['2001 characters', { description: 'd'.repeat(2001) }],
    ['a number', { description: 7 }],
    ['containing NUL', { description: 'a\u0000' }],
  ])('refuses a description that is %s with 400 naming description', async (_, extra) => {
    const response = await asUser(alice).request('POST', '/api/todos', {
      json: { title: 'ok', ...extra },
    });
    expectProblem(response, { status: 400, errors: ['description'] });
  });

  it('accepts a description of exactly 2000 characters', async () => {
    const response = await createTodo(alice, { description: '\u{1F600}'.repeat(2000) });
    expect(response.body.description).toBe('\u{1F600}'.repeat(2000));
  });

  it.each([['yes'], [null], [1]])(
    'refuses completed=%p with 400 naming completed',
    async (value) => {
      const response = await asUser(alice).request('POST', '/api/todos', {
        json: { title: 'ok', completed: value },
      });
      expectProblem(response, { status: 400, errors: ['completed'] });
    },
  );
});

describe('titles are counted in code points, as PostgreSQL counts them', () => {
  // validator.js (class-validator's @Length) counts "❤️" as 1, String#length counts "😀" as 2;
  // PostgreSQL counts code points. Any disagreement would turn into a CHECK violation: a 500.
  const cases: [string, string][] = [
    ['emoji (astral plane)', '\u{1F600}'],
    ['emoji with variation selector', '\u2764\ufe0f'],
    ['letters with combining marks', 'e\u0301'],
    ['ZWJ family emoji', '\u{1F468}\u200d\u{1F469}\u200d\u{1F467}'],
    ['CJK', '\u6f22'],
  ];

  it.each(cases)('%s: exactly 200 code points is accepted and stored whole', async (_, unit) => {
    const units = [...unit].length;
    const title = unit.repeat(200 / units) + 'x'.repeat(200 % units);
    expect([...title]).toHaveLength(200);

    const response = await asUser(alice).request('POST', '/api/todos', { json: { title } });

    expect(response.status).toBe(201);
    expect(response.body.title).toBe(title);
    const { rows } = await db.query<{ length: number }>(
      'SELECT char_length(title) AS length FROM todos WHERE id = $1',
      [response.body.id],
    );
    expect(rows[0].length).toBe(200);
  });

  it.each(cases)('%s: 201 code points is a 400 naming title, never a 500', async (_, unit) => {
    const units = [...unit].length;
    const title = unit.repeat(200 / units) + 'x'.repeat((200 % units) + 1);
    expect([...title]).toHaveLength(201);

    const response = await asUser(alice).request('POST', '/api/todos', { json: { title } });

    expectProblem(response, { status: 400, errors: ['title'] });
  });

  it('the same rule applies to PATCH', async () => {
    const { body: todo } = await createTodo(alice);
    const ok = await asUser(alice).request('PATCH', `/api/todos/${todo.id}`, {
      json: { title: '\u2764\ufe0f'.repeat(100) },
    });
    expect(ok.status).toBe(200);
    const tooLong = await asUser(alice).request('PATCH', `/api/todos/${todo.id}`, {
      json: { title: '\u2764\ufe0f'.repeat(100) + 'x' },
    });
    expectProblem(tooLong, { status: 400, errors: ['title'] });
  });
});

describe('server-owned and unknown fields (mass assignment)', () => {
  const forbidden: [string, unknown][] = [
    ['id', randomUUID()],
    ['userId', 'someone-else'],
    ['user_id', 'someone-else'],
    ['createdAt', '2000-01-01T00:00:00.000Z'],
    ['updatedAt', '2000-01-01T00:00:00.000Z'],
    ['version', 99],
    ['priority', 'high'],
  ];

  it.each(forbidden)(
    'POST with %s is a 400 naming it, and no row is written',
    async (field, value) => {
      const before = await countRows(alice.id);
      const beforeOther = await countRows('someone-else');

      const response = await asUser(alice).request('POST', '/api/todos', {
        json: { title: 'mass assignment', [field]: value },
      });

      expectProblem(response, { status: 400, errors: [field] });
      expect(await countRows(alice.id)).toBe(before);
      expect(await countRows('someone-else')).toBe(beforeOther);
    },
  );

  it.each(forbidden)(
    'PATCH with %s is a 400 naming it, and the row is unchanged',
    async (field, value) => {
      const { body: todo } = await createTodo(alice);
      const before = await rowJson(todo.id);

      const response = await asUser(alice).request('PATCH', `/api/todos/${todo.id}`, {
        json: { title: 'changed', [field]: value },
      });

      expectProblem(response, { status: 400, errors: [field] });
      expect(await rowJson(todo.id)).toBe(before);
    },
  );
});

describe('request bodies', () => {
  it('refuses a non-JSON body with 415', async () => {
    const plain = await asUser(alice).request('POST', '/api/todos', {
      body: 'title=Buy milk',
      headers: { 'content-type': 'text/plain' },
    });
    expectProblem(plain, { status: 415 });
    const form = await asUser(alice).request('POST', '/api/todos', {
      body: 'title=Buy+milk',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectProblem(form, { status: 415 });
  });

  it('refuses a body over 64 KiB with 413, writing nothing', async () => {
    const before = await countRows(alice.id);
    const response = await asUser(alice).request('POST', '/api/todos', {
      json: { title: 'big', description: 'x'.repeat(64 * 1024) },
    });
    expectProblem(response, { status: 413 });
    expect(await countRows(alice.id)).toBe(before);
  });

  it.each([
    ['malformed JSON', '{"title": '],
    ['a JSON array', '[{"title":"a"}]'],
    ['JSON null', 'null'],
    ['a JSON string', '"Buy milk"'],
    ['a JSON number', '42'],
  ])('answers %s with a 400 problem, never a 500', async (_, rawBody) => {
    const response = await asUser(alice).request('POST', '/api/todos', {
      body: rawBody,
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(response, { status: 400 });
  });
});

describe('GET, PATCH and DELETE /api/todos/:id', () => {
  it('round-trips create, read, update, delete through HTTP, and the table follows', async () => {
    const created = await createTodo(alice, { title: 'Write report' });
    const id = created.body.id as string;

    const read = await asUser(alice).request('GET', `/api/todos/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    expect(read.headers.get('etag')).toBe('"1"');

    const updated = await asUser(alice).request('PATCH', `/api/todos/${id}`, {
      json: { title: ' Write the report ', description: 'By Friday', completed: true },
    });
    expect(updated.status).toBe(200);
    expect(updated.headers.get('etag')).toBe('"2"');
    expect(updated.body).toEqual({
      ...created.body,
      title: 'Write the report',
      description: 'By Friday',
      completed: true,
      updatedAt: expect.stringMatching(ISO),
    });
    expect(Date.parse(updated.body.updatedAt)).toBeGreaterThanOrEqual(
      Date.parse(created.body.updatedAt),
    );
    expect(await rowOf(id)).toEqual({
      id,
      user_id: alice.id,
      title: 'Write the report',
      description: 'By Friday',
      completed: true,
      version: 2,
      created_at: new Date(created.body.createdAt),
      updated_at: new Date(updated.body.updatedAt),
    });

    const reread = await asUser(alice).request('GET', `/api/todos/${id}`);
    expect(reread.body).toEqual(updated.body);
    expect(reread.headers.get('etag')).toBe('"2"');

    const deleted = await asUser(alice).request('DELETE', `/api/todos/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect(await rowOf(id)).toBeUndefined();
    expectProblem(await asUser(alice).request('GET', `/api/todos/${id}`), { status: 404 });
    expectProblem(await asUser(alice).request('DELETE', `/api/todos/${id}`), { status: 404 });
  });

  it('PATCH changes only the fields sent; description null clears it', async () => {
    const { body: todo } = await createTodo(alice, { description: 'keep me?' });

    const completed = await asUser(alice).request('PATCH', `/api/todos/${todo.id}`, {
      json: { completed: true },
    });
    expect(completed.body).toMatchObject({
      title: todo.title,
      description: 'keep me?',
      completed: true,
    });

    const cleared = await asUser(alice).request('PATCH', `/api/todos/${todo.id}`, {
      json: { description: null },
    });
    expect(cleared.body).toMatchObject({ title: todo.title, description: null, completed: true });
    expect(await rowOf(todo.id)).toMatchObject({ description: null, version: 3 });
  });

  it.each([
    ['an empty body', {}],
    ['title null', { title: null }],
    ['completed null', { completed: null }],
    ['a blank title', { title: '   ' }],
  ])('PATCH with %s is a 400 and changes nothing', async (_, body) => {
    const { body: todo } = await createTodo(alice);
    const before = await rowJson(todo.id);

    const response = await asUser(alice).request('PATCH', `/api/todos/${todo.id}`, { json: body });

    expectProblem(response, { status: 400 });
    expect(response.body.errors).toHaveLength(1);
    expect(await rowJson(todo.id)).toBe(before);
  });

  it.each([
    ['GET', undefined],
    ['PATCH', { title: 'x' }],
    ['DELETE', undefined],
  ])('%s with an :id that is not a UUID is a 400 naming id', async (method, body) => {
    for (const id of ['not-a-uuid', '123', `${randomUUID()}x`, "1' OR '1'='1"]) {
      const response = await asUser(alice).request(method, `/api/todos/${encodeURIComponent(id)}`, {
        json: body,
      });
      expectProblem(response, { status: 400, errors: ['id'] });
    }
  });

  it('answers 304 to If-None-Match with the current ETag, 200 with a stale one', async () => {
    const { body: todo } = await createTodo(alice);
    const fresh = await asUser(alice).request('GET', `/api/todos/${todo.id}`, {
      headers: { 'if-none-match': '"1"' },
    });
    expect(fresh.status).toBe(304);
    expect(fresh.text).toBe('');
    expect(fresh.headers.get('etag')).toBe('"1"');

    await asUser(alice).request('PATCH', `/api/todos/${todo.id}`, { json: { completed: true } });
    const stale = await asUser(alice).request('GET', `/api/todos/${todo.id}`, {
      headers: { 'if-none-match': '"1"' },
    });
    expect(stale.status).toBe(200);
    expect(stale.headers.get('etag')).toBe('"2"');
  });

  it('requires a token on every todos route', async () => {
    const id = randomUUID();
    for (const [method, path] of [
      ['GET', '/api/todos'],
      ['POST', '/api/todos'],
      ['GET', `/api/todos/${id}`],
      ['PATCH', `/api/todos/${id}`],
      ['DELETE', `/api/todos/${id}`],
    ]) {
      expectProblem(await api.http.request(method, path), {
        status: 401,
        wwwAuthenticate: expect.stringMatching(/^Bearer realm="api"/),
      });
    }
  });
});

describe("isolation: one user never sees or touches another's todos", () => {
  /** A 404 body without what legitimately differs between two requests. */
  const comparable = (response: Reply) => {
    const { requestId, instance, ...rest } = response.body as Record<string, unknown>;
    expect(requestId).toEqual(expect.any(String));
    expect(instance).toEqual(expect.stringMatching(/^\/api\/todos\/[0-9a-f-]{36}$/));
    return { status: response.status, type: response.headers.get('content-type'), body: rest };
  };

  it("gives Bob the same 404 for Alice's todo as for a missing one, on every method", async () => {
    const { body: todo } = await createTodo(alice, { description: 'private' });
    const before = await rowJson(todo.id);
    const missing = randomUUID();

    const attempts: [string, RequestOptions][] = [
      ['GET', {}],
      ['PATCH', { json: { title: 'hijacked', completed: true } }],
      ['PATCH', { json: { title: 'hijacked' }, headers: { 'if-match': '"1"' } }],
      ['PATCH', { json: { title: 'hijacked' }, headers: { 'if-match': '"7"' } }],
      ['PATCH', { json: { title: 'hijacked' }, headers: { 'if-match': '*' } }],
      ['DELETE', {}],
      ['DELETE', { headers: { 'if-match': '"1"' } }],
      ['DELETE', { headers: { 'if-match': '"7"' } }],
    ];
    for (const [method, options] of attempts) {
      const theirs = await asUser(bob).request(method, `/api/todos/${todo.id}`, options);
      const nobodys = await asUser(bob).request(method, `/api/todos/${missing}`, options);
      expectProblem(theirs, { status: 404 });
      expect(comparable(theirs)).toEqual(comparable(nobodys));
      expect(theirs.body.detail).toBe('Todo not found.');
    }

    expect(await rowJson(todo.id)).toBe(before);
    const own = await asUser(alice).request('GET', `/api/todos/${todo.id}`);
    expect(own.body).toEqual(todo);
  });

  it("never lists Alice's todos to Bob, with or without filters", async () => {
    const carol = await issuer.createUser();
    const dave = await issuer.createUser();
    const carols = await Promise.all([
      createTodo(carol, { completed: true }),
      createTodo(carol, { completed: false }),
    ]);
    const daves = [(await createTodo(dave)).body.id];

    for (const query of ['', '?completed=true', '?completed=false', '?limit=100']) {
      const page = await asUser(dave).request('GET', `/api/todos${query}`);
      expect(page.status).toBe(200);
      const ids = (page.body.todos as { id: string }[]).map((t) => t.id);
      for (const { body } of carols) expect(ids).not.toContain(body.id);
      if (query !== '?completed=true') expect(ids).toEqual(daves);
    }
  });
});

describe('GET /api/todos: keyset pagination', () => {
  /** The user's todo ids in list order, straight from the table. */
  async function idsInOrder(userId: string, completed?: boolean): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM todos WHERE user_id = $1 AND ($2::boolean IS NULL OR completed = $2)
       ORDER BY created_at DESC, id DESC`,
      [userId, completed ?? null],
    );
    return rows.map((row) => row.id);
  }

  async function walk(user: IssuedUser, query: string, between?: () => Promise<void>) {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const suffix: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await asUser(user).request('GET', `/api/todos?${query}${suffix}`);
      expect(page.status).toBe(200);
      expect(Object.keys(page.body).sort()).toEqual(['nextCursor', 'todos']);
      seen.push(...(page.body.todos as { id: string }[]).map((t) => t.id));
      cursor = page.body.nextCursor as string | null;
      pages++;
      // A cursor that never runs out would loop forever; no walk here needs this many pages.
      expect(pages).toBeLessThanOrEqual(100);
      if (between) await between();
    } while (cursor !== null);
    return { seen, pages };
  }

  it('returns newest first, 20 by default, with a nextCursor while more remain', async () => {
    const user = await issuer.createUser();
    for (let i = 0; i < 23; i++) await createTodo(user, { title: `#${i}` });

    const first = await asUser(user).request('GET', '/api/todos');

    expect(first.status).toBe(200);
    expect(first.body.todos).toHaveLength(20);
    expect(first.body.todos[0].title).toBe('#22');
    expect((first.body.todos as { id: string }[]).map((t) => t.id)).toEqual(
      (await idsInOrder(user.id)).slice(0, 20),
    );
    expect(first.body.nextCursor).toEqual(expect.any(String));

    const rest = await asUser(user).request('GET', `/api/todos?cursor=${first.body.nextCursor}`);
    expect((rest.body.todos as { title: string }[]).map((t) => t.title)).toEqual([
      '#2',
      '#1',
      '#0',
    ]);
    expect(rest.body.nextCursor).toBeNull();
  });

  it('walks every todo exactly once, in order, even when many share a timestamp', async () => {
    const user = await issuer.createUser();
    for (let batch = 0; batch < 4; batch++) {
      await Promise.all(Array.from({ length: 12 }, () => createTodo(user)));
    }
    // Creates queue behind the per-user lock, so they rarely share a millisecond on their own:
    // each batch of 12 is given one timestamp, and only the id can order them.
    await db.query(
      `UPDATE todos SET created_at = date_trunc('second', now()) - (ordinal / 12) * interval '1 second'
       FROM (SELECT id AS todo_id, row_number() OVER (ORDER BY created_at, id) - 1 AS ordinal
             FROM todos WHERE user_id = $1) AS numbered
       WHERE todos.id = numbered.todo_id`,
      [user.id],
    );
    const expected = await idsInOrder(user.id);
    const { rows } = await db.query<{ ties: string }>(
      `SELECT count(*) - count(DISTINCT created_at) AS ties FROM todos WHERE user_id = $1`,
      [user.id],
    );
    expect(Number(rows[0].ties)).toBeGreaterThan(0);

    for (const limit of [1, 7, 48, 100]) {
      const { seen, pages } = await walk(user, `limit=${limit}`);
      expect(seen).toEqual(expected);
      // limit + 1 rows are read, so a full last page already knows it is the last.
      expect(pages).toBe(Math.ceil(48 / limit));
    }
  });

  it('walks every todo exactly once while new todos are inserted between pages', async () => {
    const user = await issuer.createUser();
    for (let i = 0; i < 25; i++) await createTodo(user);
    const expected = await idsInOrder(user.id);
    const inserted: string[] = [];

    const { seen } = await walk(user, 'limit=6', async () => {
      inserted.push((await createTodo(user)).body.id);
    });

    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of inserted) expect(seen).not.toContain(id);
  });

  it('keeps the remaining todos in order when some are deleted between pages', async () => {
    const user = await issuer.createUser();
    for (let i = 0; i < 12; i++) await createTodo(user);
    const expected = await idsInOrder(user.id);
    const deleted = [expected[7], expected[11]];

    let page = 0;
    const { seen } = await walk(user, 'limit=5', async () => {
      if (page++ === 0) {
        for (const id of deleted) await asUser(user).request('DELETE', `/api/todos/${id}`);
      }
    });

    expect(seen).toEqual(expected.filter((id) => !deleted.includes(id)));
  });

  it('filters by completed, across pages too', async () => {
    const user = await issuer.createUser();
    for (let i = 0; i < 9; i++) await createTodo(user, { completed: i % 3 === 0 });

    const done = await walk(user, 'limit=2&completed=true');
    expect(done.seen).toEqual(await idsInOrder(user.id, true));
    expect(done.seen).toHaveLength(3);

    const open = await walk(user, 'limit=2&completed=false');
    expect(open.seen).toEqual(await idsInOrder(user.id, false));
    expect(open.seen).toHaveLength(6);
  });

  it('answers an empty list with no cursor for a user without todos', async () => {
    const user = await issuer.createUser();
    const page = await asUser(user).request('GET', '/api/todos');
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ todos: [], nextCursor: null });
  });

  it.each([['0'], ['-1'], ['101'], ['abc'], ['1.5'], [''], ['1e2'], ['0x10']])(
    'refuses limit=%s with 400 naming limit',
    async (limit) => {
      const response = await asUser(alice).request('GET', `/api/todos?limit=${limit}`);
      expectProblem(response, { status: 400, errors: ['limit'] });
      expect(response.body.errors).toHaveLength(1);
    },
  );

  it('refuses a repeated limit with 400 naming limit', async () => {
    expectProblem(await asUser(alice).request('GET', '/api/todos?limit=1&limit=2'), {
      status: 400,
      errors: ['limit'],
    });
  });

  it('accepts limit=1 and limit=100', async () => {
    expect((await asUser(alice).request('GET', '/api/todos?limit=1')).body.todos).toHaveLength(1);
    expect((await asUser(alice).request('GET', '/api/todos?limit=100')).status).toBe(200);
  });

  it.each([
    ['garbage', 'not a cursor'],
    ['empty', ''],
    ['base64 of something else', Buffer.from('{"offset":20}').toString('base64url')],
    ['a forged id', Buffer.from('v1.1700000000000.not-a-uuid').toString('base64url')],
    [
      'a time out of range',
      Buffer.from(`v1.999999999999999.${randomUUID()}`).toString('base64url'),
    ],
    ['too long', 'A'.repeat(500)],
  ])('refuses a cursor that is %s with 400 naming cursor', async (_, cursor) => {
    const response = await asUser(alice).request(
      'GET',
      `/api/todos?cursor=${encodeURIComponent(cursor)}`,
    );
    expectProblem(response, { status: 400, errors: ['cursor'] });
  });

  it.each([['yes'], ['1'], ['TRUE'], ['']])(
    'refuses completed=%s with 400 naming completed',
    async (value) => {
      expectProblem(await asUser(alice).request('GET', `/api/todos?completed=${value}`), {
        status: 400,
        errors: ['completed'],
      });
    },
  );

  it('refuses unknown query parameters with 400 naming them', async () => {
    expectProblem(await asUser(alice).request('GET', '/api/todos?offset=20'), {
      status: 400,
      errors: ['offset'],
    });
  });
});

describe('concurrency: ETag and If-Match', () => {
  it('lets exactly one of two concurrent PATCHes with the same If-Match win', async () => {
    const { body: todo } = await createTodo(alice);
    const rounds = 8;
    for (let round = 0; round < rounds; round++) {
      const etag = `"${round + 1}"`;
      const responses = await Promise.all(
        ['first', 'second'].map((who) =>
          asUser(alice).request('PATCH', `/api/todos/${todo.id}`, {
            json: { title: `${who} writer, round ${round}` },
            headers: { 'if-match': etag },
          }),
        ),
      );
      expect(responses.map((r) => r.status).sort()).toEqual([200, 412]);
      const winner = responses.find((r) => r.status === 200)!;
      const loser = responses.find((r) => r.status === 412)!;
      expect(winner.headers.get('etag')).toBe(`"${round + 2}"`);
      expectProblem(loser, { status: 412 });
      expect((await rowOf(todo.id))!.title).toBe(winner.body.title);
    }
    expect((await rowOf(todo.id))!.version).toBe(rounds + 1);
  });

  it('PATCH with a stale If-Match is a 412 and changes nothing', async () => {
    const { body: todo } = await createTodo(alice);
    await asUser(alice).request('PATCH', `/api/todos/${todo.id}`, { json: { completed: true } });
    const before = await rowJson(todo.id);

    const response = await asUser(alice).request('PATCH', `/api/todos/${todo.id}`, {
      json: { title: 'lost update' },
      headers: { 'if-match': '"1"' },
    });

    expectProblem(response, { status: 412 });
    expect(await rowJson(todo.id)).toBe(before);
  });

  it('DELETE with a stale If-Match is a 412 and keeps the row; the current one deletes', async () => {
    const { body: todo } = await createTodo(alice);
    await asUser(alice).request('PATCH', `/api/todos/${todo.id}`, { json: { completed: true } });
    const before = await rowJson(todo.id);

    const stale = await asUser(alice).request('DELETE', `/api/todos/${todo.id}`, {
      headers: { 'if-match': '"1"' },
    });
    expectProblem(stale, { status: 412 });
    expect(await rowJson(todo.id)).toBe(before);

    const current = await asUser(alice).request('DELETE', `/api/todos/${todo.id}`, {
      headers: { 'if-match': '"2"' },
    });
    expect(current.status).toBe(204);
    expect(await rowOf(todo.id)).toBeUndefined();
  });

  it.each([
    ['*', 200],
    ['"1"', 200],
    ['"9", "1"', 200],
    ['W/"1"', 412],
    ['"01"', 412],
    ['"abc"', 412],
  ])('If-Match: %s on a todo at version 1 gives %i', async (ifMatch, status) => {
    const { body: todo } = await createTodo(alice);
    const response = await asUser(alice).request('PATCH', `/api/todos/${todo.id}`, {
      json: { completed: true },
      headers: { 'if-match': ifMatch },
    });
    expect(response.status).toBe(status);
  });

  it('refuses a malformed If-Match with 400 naming If-Match', async () => {
    const { body: todo } = await createTodo(alice);
    for (const ifMatch of ['1', '"1', 'W/1', '"1" "2"']) {
      const response = await asUser(alice).request('PATCH', `/api/todos/${todo.id}`, {
        json: { completed: true },
        headers: { 'if-match': ifMatch },
      });
      expectProblem(response, { status: 400, errors: ['If-Match'] });
    }
    expect((await rowOf(todo.id))!.version).toBe(1);
  });
});

describe('OpenAPI document', () => {
  it('describes every todos operation with its bodies, headers and problem answers', async () => {
    const doc = (await api.http.request('GET', '/docs/json')).body;
    const collection = doc.paths['/api/todos'];
    const item = doc.paths['/api/todos/{id}'];

    expect(Object.keys(collection).sort()).toEqual(['get', 'post']);
    expect(Object.keys(item).sort()).toEqual(['delete', 'get', 'patch']);
    expect((collection.get.parameters as { name: string }[]).map((p) => p.name).sort()).toEqual([
      'completed',
      'cursor',
      'limit',
    ]);
    expect(collection.post.responses['201'].headers).toHaveProperty('Location');
    expect(collection.post.responses['201'].headers).toHaveProperty('ETag');
    for (const operation of [item.patch, item.delete]) {
      expect(operation.parameters).toContainEqual(expect.objectContaining({ name: 'If-Match' }));
      expect(operation.responses).toHaveProperty('412');
    }
    for (const operation of [item.get, item.patch, item.delete]) {
      expect(operation.parameters).toContainEqual(
        expect.objectContaining({ name: 'id', in: 'path' }),
      );
      expect(operation.responses['404'].content).toHaveProperty('application/problem+json');
      expect(operation.security).toEqual([{ bearer: [] }]);
    }
    expect(doc.components.schemas.CreateTodo.properties).not.toHaveProperty('userId');
    expect(Object.keys(doc.components.schemas.Todo.properties).sort()).toEqual([
      'completed',
      'createdAt',
      'description',
      'id',
      'title',
      'updatedAt',
    ]);
  });
});
