import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { HttpClient, parseRawReply, rawExchange, Reply } from './support/http';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';
import { testDatabaseUrl } from './support/test-env';

/**
 * Errors the HTTP server answers by itself (no route, no such method, a path parameter or URL
 * too long, header overflow) and bodies the API cannot read as UTF-8 JSON (another charset, a
 * content coding) are problem+json like every other error, and none of them changes data.
 */

const TOO_LARGE = 'The request line and headers are too large (16 KiB at most).';
const ID_PROBLEM = { status: 400, detail: 'Request validation failed: id.', errors: ['id'] };

describe('errors the HTTP server answers itself', () => {
  let issuer: BetterAuthIssuer;
  let user: IssuedUser;
  let api: TestApp;
  let authed: HttpClient;
  let db: DataSource;
  let todoId: string;

  /** The user's todos as stored, for "nothing changed" checks. */
  async function stored(): Promise<unknown[]> {
    return db.query(
      'SELECT id, title, description, completed, version, updated_at FROM todos WHERE user_id = $1 ORDER BY id',
      [user.id],
    );
  }

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    user = await issuer.createUser();
    api = await startTestApp({ BETTER_AUTH_URL: issuer.url });
    authed = api.http.as(user.jwt);
    db = new DataSource({ type: 'postgres', url: testDatabaseUrl() });
    await db.initialize();
    const created = await authed.post('/api/todos', { title: 'untouched', description: 'as is' });
    expect(created.status).toBe(201);
    todoId = (created.body as { id: string }).id;
  });

  afterAll(async () => {
    await db?.destroy();
    await api?.close();
    await issuer?.close();
  });

  describe('unknown routes and methods', () => {
    it.each([
      ['GET', '/api/nope'],
      ['GET', '/nope'],
      ['GET', '/'],
      ['POST', '/api/todos/x/y'],
      ['GET', `/api/todos/${randomUUID()}/extra`],
    ])('answers %s %s with a problem+json 404, token or not', async (method, path) => {
      for (const client of [api.http, authed]) {
        const reply = await client.request(method, path);
        expectProblem(reply, { status: 404, detail: `Cannot ${method} ${path}`, instance: path });
      }
    });

    it.each([
      ['PUT', '/api/todos'],
      ['PUT', '/api/todos/:id'],
      ['POST', '/api/todos/:id'],
      ['DELETE', '/api/todos'],
      ['PATCH', '/api/profile'],
    ])('answers %s on %s (a method the route lacks) with a problem+json 404', async (m, p) => {
      const before = await stored();
      const path = p.replace(':id', todoId);
      const reply = await authed.request(m, path, { json: { title: 'overwritten' } });
      expectProblem(reply, { status: 404, detail: `Cannot ${m} ${path}` });
      expect(await stored()).toEqual(before);
    });

    it('answers a method Node does not know with a problem+json 400', async () => {
      const raw = await rawExchange(api.url, 'BREW /api/todos HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expectProblem(parseRawReply(raw), { status: 400, instance: null });
    });
  });

  describe('an :id that is not a UUID is 400 whatever its length', () => {
    const lengths = [1, 35, 37, 200, 201, 1000, 8000];

    it.each(lengths)('GET with an id of %i characters: the same 400 naming id', async (n) => {
      const path = `/api/todos/${'a'.repeat(n)}`;
      expectProblem(await authed.get(path), ID_PROBLEM);
    });

    it.each(lengths)(
      'PATCH and DELETE with an id of %i characters: 400, nothing changed',
      async (n) => {
        const before = await stored();
        const path = `/api/todos/${'9'.repeat(n)}`;
        expectProblem(await authed.patch(path, { title: 'overwritten' }), ID_PROBLEM);
        expectProblem(await authed.delete(path), ID_PROBLEM);
        expect(await stored()).toEqual(before);
      },
    );

    it('answers a UUID followed by a long tail with the same 400', async () => {
      const before = await stored();
      const path = `/api/todos/${todoId}${'0'.repeat(500)}`;
      expectProblem(await authed.delete(path), ID_PROBLEM);
      expect(await stored()).toEqual(before);
    });

    it('answers a long id without a token with 401, as any protected route', async () => {
      expectProblem(await api.http.get(`/api/todos/${'a'.repeat(1000)}`), {
        status: 401,
        wwwAuthenticate: 'Bearer realm="api"',
      });
    });

    it('answers a malformed percent-encoding in the path with a problem+json 400', async () => {
      const path = '/api/todos/%E0%A4%A';
      expectProblem(await authed.get(path), { status: 400 });
    });
  });

  describe('URLs and headers over the limits', () => {
    // Node counts the request line in its header limit and answers both with the same 431.
    it.each([
      ['a path', `/api/todos/${'a'.repeat(20_000)}`],
      ['a query string', `/api/todos?limit=1&x=${'a'.repeat(20_000)}`],
    ])('answers %s past the header limit with a problem+json 431', async (_name, path) => {
      const raw = await rawExchange(api.url, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      expectProblem(parseRawReply(raw), { status: 431, detail: TOO_LARGE, instance: null });
    });

    it('answers a header section over the limit with a problem+json 431, nothing created', async () => {
      const before = await stored();
      const body = '{"title":"smuggled"}';
      const raw = await rawExchange(
        api.url,
        `POST /api/todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${user.jwt}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
          `X-Big: ${'a'.repeat(20_000)}\r\n\r\n${body}`,
      );
      expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      expectProblem(parseRawReply(raw), { status: 431, detail: TOO_LARGE, instance: null });
      expect(await stored()).toEqual(before);
    });
  });

  describe('bodies that are not UTF-8 JSON', () => {
    const todoBody = JSON.stringify({ title: 'caf\u00e9' });

    async function send(method: 'POST' | 'PATCH', headers: Record<string, string>, body: Buffer) {
      const path = method === 'POST' ? '/api/todos' : `/api/todos/${todoId}`;
      return authed.request(method, path, { headers, body });
    }

    it.each([
      'application/json; charset=latin1',
      'application/json; charset=ISO-8859-1',
      'application/json; charset="iso-8859-1"',
      'application/json;charset=utf-16',
      'application/json; charset=UTF-16LE',
      'application/json; CHARSET=windows-1252',
      'application/json; charset=us-ascii',
      'application/json; charset=',
      'application/json; charset=utf-8; charset=latin1',
      'application/json; charset="utf-8 "',
    ])(
      'refuses Content-Type %s with 415 before reading the body; nothing changed',
      async (type) => {
        const before = await stored();
        for (const method of ['POST', 'PATCH'] as const) {
          const reply = await send(
            method,
            { 'content-type': type },
            Buffer.from(todoBody, 'latin1'),
          );
          expectProblem(reply, {
            status: 415,
            detail: 'Unsupported charset: send the JSON body in UTF-8.',
          });
        }
        expect(await stored()).toEqual(before);
      },
    );

    it.each([
      'application/json; charset=utf-8',
      'application/json; charset=UTF-8',
      'application/json; charset="utf-8"',
      'application/json; Charset="UTF-8"',
      'application/json;charset=utf8',
      'application/json',
    ])('accepts Content-Type %s', async (type) => {
      const reply = await send('POST', { 'content-type': type }, Buffer.from(todoBody, 'utf8'));
      expect(reply.status).toBe(201);
      expect(reply.body).toMatchObject({ title: 'caf\u00e9' });
      expect((await authed.delete(`/api/todos/${reply.body.id as string}`)).status).toBe(204);
    });

    it.each([
      'gzip',
      'br',
      'deflate',
      'x-unknown',
      'GZIP',
      'identity, gzip',
      'gzip, identity',
      'zstd',
    ])(
      'refuses Content-Encoding: %s with 415, even when the body is plain JSON',
      async (coding) => {
        const before = await stored();
        for (const method of ['POST', 'PATCH'] as const) {
          const reply = await send(
            method,
            { 'content-type': 'application/json', 'content-encoding': coding },
            Buffer.from(todoBody),
          );
          expectProblem(reply, {
            status: 415,
            detail: 'Unsupported Content-Encoding: send the body without a content coding.',
          });
          expect(reply.headers.get('accept-encoding')).toBe('identity');
        }
        expect(await stored()).toEqual(before);
      },
    );

    it('refuses a gzip body with 415, not a misleading "not valid JSON" 400', async () => {
      const { gzipSync } = await import('node:zlib');
      const before = await stored();
      const reply = await send(
        'POST',
        { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        gzipSync(todoBody),
      );
      expectProblem(reply, { status: 415 });
      expect(await stored()).toEqual(before);
    });

    it.each(['identity', 'IDENTITY', ' identity '])(
      'accepts Content-Encoding: %s (no coding at all)',
      async (coding) => {
        const reply = await send(
          'POST',
          { 'content-type': 'application/json', 'content-encoding': coding },
          Buffer.from(todoBody),
        );
        expect(reply.status).toBe(201);
        expect((await authed.delete(`/api/todos/${reply.body.id as string}`)).status).toBe(204);
      },
    );

    it('refuses a content coding on a chunked body too', async () => {
      const before = await stored();
      const reply: Reply = await authed.request('POST', '/api/todos', {
        headers: { 'content-type': 'application/json', 'content-encoding': 'br' },
        body: todoBody,
        chunked: true,
      });
      expectProblem(reply, { status: 415 });
      expect(await stored()).toEqual(before);
    });
  });
});
