import { DataSource } from 'typeorm';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { HttpClient } from './support/http';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';
import { testDatabaseUrl } from './support/test-env';

/**
 * TODOS_MAX_PER_USER from the outside: a user at the limit gets a 409 that names it and nothing
 * is stored; a burst of concurrent creates at the limit lets exactly the allowed number through;
 * other users are not affected.
 */

const LIMIT = 5;
const DETAIL = `You have reached the limit of ${LIMIT} todos; delete some before creating more.`;

describe('TODOS_MAX_PER_USER', () => {
  let issuer: BetterAuthIssuer;
  let api: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    api = await startTestApp({ BETTER_AUTH_URL: issuer.url, TODOS_MAX_PER_USER: String(LIMIT) });
    db = new DataSource({ type: 'postgres', url: testDatabaseUrl() });
    await db.initialize();
  });

  afterAll(async () => {
    await db?.destroy();
    await api?.close();
    await issuer?.close();
  });

  async function titlesOf(user: IssuedUser): Promise<string[]> {
    const rows = await db.query<{ title: string }[]>(
      'SELECT title FROM todos WHERE user_id = $1 ORDER BY title',
      [user.id],
    );
    return rows.map((row) => row.title);
  }

  async function fill(http: HttpClient, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const reply = await http.post('/api/todos', { title: `kept ${i}` });
      expect(reply.status).toBe(201);
      ids.push(reply.body.id as string);
    }
    return ids;
  }

  it('refuses a create past the limit with a 409 naming it, storing nothing', async () => {
    const user = await issuer.createUser();
    const http = api.http.as(user.jwt);
    await fill(http, LIMIT);
    const before = await titlesOf(user);

    const reply = await http.post('/api/todos', { title: 'one too many' });
    expectProblem(reply, { status: 409, detail: DETAIL });
    expect(reply.headers.get('location')).toBeNull();
    expect(await titlesOf(user)).toEqual(before);
    expect((await http.get('/api/todos?limit=100')).body.todos).toHaveLength(LIMIT);

    // Another user is not affected by this one being full.
    const other = await issuer.createUser();
    expect((await api.http.as(other.jwt).post('/api/todos', { title: 'mine' })).status).toBe(201);
  });

  it('lets exactly the allowed number of concurrent creates through at the limit', async () => {
    const user = await issuer.createUser();
    const http = api.http.as(user.jwt);
    const ids = await fill(http, LIMIT);
    // One slot free, twenty creates at once: one may take it.
    expect((await http.delete(`/api/todos/${ids[0]}`)).status).toBe(204);

    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => http.post('/api/todos', { title: `racer ${i}` })),
    );
    const created = replies.filter((reply) => reply.status === 201);
    const refused = replies.filter((reply) => reply.status !== 201);
    expect(created).toHaveLength(1);
    for (const reply of refused) expectProblem(reply, { status: 409, detail: DETAIL });
    const titles = await titlesOf(user);
    expect(titles).toHaveLength(LIMIT);
    expect(titles).toContain(created[0].body.title);
  });

  it('frees a slot when a todo is deleted', async () => {
    const user = await issuer.createUser();
    const http = api.http.as(user.jwt);
    const ids = await fill(http, LIMIT);
    expectProblem(await http.post('/api/todos', { title: 'blocked' }), {
      status: 409,
      detail: DETAIL,
    });
    expect((await http.delete(`/api/todos/${ids[1]}`)).status).toBe(204);
    expect((await http.post('/api/todos', { title: 'after a delete' })).status).toBe(201);
    expect(await titlesOf(user)).toHaveLength(LIMIT);
  });
});
