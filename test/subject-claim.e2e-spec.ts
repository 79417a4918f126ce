import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { expectRefused, tokenSecrets } from './support/auth-assertions';
import { JWKS_AUDIENCE, JWKS_ISSUER, jwksAppEnv } from './support/jwks-app';
import { claims, JwksServer, TestSigningKey } from './support/jwks-server';
import { startTestApp, TestApp } from './support/test-app';
import { testDatabaseUrl } from './support/test-env';

/**
 * The `sub` claim becomes the owner id of stored todos. A token signed by the trusted key (here
 * a key served by a local JWKS) whose `sub` PostgreSQL cannot store, or would store as another
 * string, must be refused with 401 before any database work: never a 500, never a row.
 */

describe('the sub claim', () => {
  const key = TestSigningKey.generate();
  let server: JwksServer;
  let api: TestApp;
  let db: Client;

  const tokenFor = (sub: string) => key.sign(claims(JWKS_ISSUER, JWKS_AUDIENCE, sub));

  beforeAll(async () => {
    server = await JwksServer.start();
    server.setKeys([key.jwk()]);
    api = await startTestApp(jwksAppEnv(server));
    db = new Client({ connectionString: testDatabaseUrl() });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await api?.close();
    await server?.close();
  });

  async function rowsTitled(title: string): Promise<number> {
    const result = await db.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM todos WHERE title = $1',
      [title],
    );
    return result.rows[0].count;
  }

  /** 401 with the reason on a read and on a write, nothing stored, nothing logged as a failure. */
  async function expectSubRefused(sub: string, reason: string) {
    const token = tokenFor(sub);
    const secrets = tokenSecrets(token);
    const read = await api.http.get('/api/todos', { token });
    expectRefused(api, read, { reason, secrets, path: '/api/todos' });

    const marker = `sub-${randomUUID()}`;
    const write = await api.http.post('/api/todos', { title: marker }, { token });
    expectRefused(api, write, { reason, secrets, path: '/api/todos' });
    expect(await rowsTitled(marker)).toBe(0);
    expect(api.logs.failures()).toEqual([]);
  }

  it.each<[string, string, string]>([
    ['holds a NUL byte', `user-${randomUUID()}\u0000`, 'control characters in sub claim'],
    ['is nothing but a NUL byte', '\u0000', 'control characters in sub claim'],
    ['holds a line break (log forging)', 'user\r\nlevel=error', 'control characters in sub claim'],
    ['holds a C1 control', 'user\u009b', 'control characters in sub claim'],
    ['is 256 characters long', 'u'.repeat(256), 'sub claim too long'],
    ['is 2,000 characters long', 'u'.repeat(2000), 'sub claim too long'],
    [
      'holds a lone surrogate (stored as U+FFFD, another user)',
      'user\ud800',
      'malformed sub claim',
    ],
  ])(
    'a signed token whose sub %s is 401, not 500, and writes nothing',
    async (_name, sub, reason) => {
      await expectSubRefused(sub, reason);
    },
  );

  it('accepts a sub of exactly 255 characters, astral ones included, and stores it as sent', async () => {
    for (const sub of ['a'.repeat(254) + randomUUID().slice(0, 1), '\u{1F600}'.repeat(254) + 'x']) {
      const token = tokenFor(sub);
      const marker = `sub-${randomUUID()}`;
      const created = await api.http.post('/api/todos', { title: marker }, { token });
      expect(created.status).toBe(201);
      const stored = await db.query<{ user_id: string }>(
        'SELECT user_id FROM todos WHERE title = $1',
        [marker],
      );
      expect(stored.rows).toEqual([{ user_id: sub }]);

      const listed = await api.http.get('/api/todos', { token });
      expect(listed.status).toBe(200);
      const titles = (listed.body as { todos: { title: string }[] }).todos.map((t) => t.title);
      expect(titles).toContain(marker);
    }
    expect(api.logs.failures()).toEqual([]);
  });
});
