import { DataSource } from 'typeorm';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { HttpClient, openConnection, parseRawReply, rawExchange, Reply } from './support/http';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';
import { testDatabaseUrl } from './support/test-env';

/**
 * The HTTP edge: security headers, CORS, body/header/time limits, and input that
 * must be refused with a 4xx, never a 500.
 */

const ALLOWED_ORIGIN = 'https://app.example.com';
const REQUEST_TIMEOUT_MS = 1000;

describe('HTTP hardening', () => {
  let issuer: BetterAuthIssuer;
  let user: IssuedUser;
  let api: TestApp;
  /** The app as the signed-in test user. */
  let authed: HttpClient;
  let db: DataSource;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    user = await issuer.createUser();
    api = await startTestApp({
      BETTER_AUTH_URL: issuer.url,
      CORS_ORIGINS: `${ALLOWED_ORIGIN},http://localhost:3000`,
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    });
    authed = api.http.as(user.jwt);
    db = new DataSource({ type: 'postgres', url: testDatabaseUrl() });
    await db.initialize();
  });

  afterAll(async () => {
    await db?.destroy();
    await api?.close();
    await issuer?.close();
  });

  describe('security headers (@fastify/helmet)', () => {
    const expectSecurityHeaders = (reply: Reply) => {
      const h = reply.headers;
      expect({
        csp: h.get('content-security-policy'),
        nosniff: h.get('x-content-type-options'),
        frame: h.get('x-frame-options'),
        hsts: h.get('strict-transport-security'),
        referrer: h.get('referrer-policy'),
        coop: h.get('cross-origin-opener-policy'),
        corp: h.get('cross-origin-resource-policy'),
        poweredBy: h.get('x-powered-by'),
      }).toEqual({
        csp: expect.stringContaining("default-src 'self'"),
        nosniff: 'nosniff',
        frame: 'SAMEORIGIN',
        hsts: expect.stringMatching(/max-age=\d+/),
        referrer: 'no-referrer',
        coop: 'same-origin',
        corp: 'same-origin',
        poweredBy: null,
      });
      expect(h.get('content-security-policy')).toContain("script-src 'self'");
      expect(h.get('content-security-policy')).toContain("object-src 'none'");
      expect(h.get('content-security-policy')).toContain("frame-ancestors 'self'");
      // It would send Swagger UI's own assets to https when /docs is opened over plain http from
      // anything but localhost (checked in headless Chromium: a blank page).
      expect(h.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
    };

    it.each([
      ['a public route', '/api/health', 200],
      ['a refused request (401)', '/api/profile', 401],
      ['an unknown route (404)', '/api/nope', 404],
      ['the OpenAPI document', '/docs/json', 200],
      ['Swagger UI', '/docs', 200],
    ])('are on %s', async (_, path, status) => {
      const reply = await api.http.get(path);
      expect(reply.status).toBe(status);
      expectSecurityHeaders(reply);
    });

    it('are on an authenticated API response', async () => {
      const reply = await authed.get('/api/todos');
      expect(reply.status).toBe(200);
      expectSecurityHeaders(reply);
    });
  });

  describe('Swagger UI under the CSP', () => {
    it.each(['/docs', '/docs/'])(
      'serves HTML at %s whose scripts and styles all load from this origin, with no inline script',
      async (path) => {
        const page = await api.http.get(path);
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toMatch(/^text\/html/);
        const scripts = [...page.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
        const styles = [...page.text.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*>/g)];
        expect(scripts.length).toBeGreaterThanOrEqual(2);
        expect(styles.length).toBeGreaterThanOrEqual(1);

        const assets: string[] = [];
        for (const [, attributes, inline] of scripts) {
          // script-src 'self': an inline script would be blocked by the browser.
          expect(inline.trim()).toBe('');
          assets.push(/src="([^"]+)"/.exec(attributes)?.[1] ?? 'missing src');
        }
        for (const [tag] of styles) assets.push(/href="([^"]+)"/.exec(tag)?.[1] ?? 'missing href');

        for (const asset of assets) {
          const url = new URL(asset, `${api.url}${path}`);
          // Same origin, or the CSP ('self') would block it.
          expect(url.origin).toBe(new URL(api.url).origin);
          const reply = await api.http.get(url.pathname);
          expect({ asset, status: reply.status }).toEqual({ asset, status: 200 });
          expect(reply.headers.get('content-type')).toMatch(/javascript|css/);
          expect(reply.text.length).toBeGreaterThan(100);
        }
      },
    );

    it('points the UI at the OpenAPI document it serves', async () => {
      const init = await api.http.get('/docs/swagger-ui-init.js');
      expect(init.status).toBe(200);
      expect(init.text).toContain('"openapi"');
    });
  });

  describe('CORS (CORS_ORIGINS, with credentials)', () => {
    const corsHeaders = (reply: Reply) =>
      [...reply.headers.keys()].filter((name) => name.startsWith('access-control-'));

    it('answers a simple request from an allowed origin with that origin and credentials', async () => {
      const reply = await authed.get('/api/todos', { headers: { origin: ALLOWED_ORIGIN } });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
      expect(reply.headers.get('access-control-allow-credentials')).toBe('true');
      expect(reply.headers.get('vary')).toMatch(/origin/i);
      // The frontend must be able to read these (pagination, concurrency, errors).
      const exposed = reply.headers.get('access-control-expose-headers')?.toLowerCase() ?? '';
      for (const name of ['etag', 'location', 'retry-after', 'www-authenticate', 'x-request-id']) {
        expect(exposed).toContain(name);
      }
    });

    it('puts the CORS headers on errors too, so the frontend can read a 401', async () => {
      const reply = await api.http.get('/api/profile', { headers: { origin: ALLOWED_ORIGIN } });
      expect(reply.status).toBe(401);
      expect(reply.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
      expect(reply.headers.get('access-control-allow-credentials')).toBe('true');
    });

    it.each(['PATCH', 'DELETE', 'POST', 'GET'])(
      'allows a preflight for %s with Authorization, If-Match and Content-Type',
      async (method) => {
        const reply = await api.http.request(
          'OPTIONS',
          '/api/todos/0b9f4a53-2f6c-4c55-9a43-7d3e5f7c1a20',
          {
            headers: {
              origin: ALLOWED_ORIGIN,
              'access-control-request-method': method,
              'access-control-request-headers': 'authorization, if-match, content-type',
            },
          },
        );
        expect(reply.status).toBe(204);
        expect(reply.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
        expect(reply.headers.get('access-control-allow-credentials')).toBe('true');
        expect(reply.headers.get('access-control-allow-methods')).toContain(method);
        const allowed = reply.headers.get('access-control-allow-headers')?.toLowerCase() ?? '';
        for (const name of ['authorization', 'if-match', 'content-type']) {
          expect(allowed).toContain(name);
        }
        expect(Number(reply.headers.get('access-control-max-age'))).toBeGreaterThan(0);
      },
    );

    it.each([
      'https://evil.example.com',
      'https://app.example.com.evil.example.com',
      'http://app.example.com',
      'https://app.example.com:8443',
      'http://localhost:3001',
      'null',
    ])('gives a disallowed origin (%s) no CORS headers at all', async (origin) => {
      const simple = await authed.get('/api/todos', { headers: { origin } });
      expect(simple.status).toBe(200);
      expect(corsHeaders(simple)).toEqual([]);

      const preflight = await api.http.request('OPTIONS', '/api/todos', {
        headers: {
          origin,
          'access-control-request-method': 'DELETE',
          'access-control-request-headers': 'authorization',
        },
      });
      expect(preflight.status).toBeLessThan(500);
      expect(corsHeaders(preflight)).toEqual([]);
    });

    it('adds no CORS headers to a request without Origin (not a browser cross-origin call)', async () => {
      const reply = await authed.get('/api/todos');
      expect(reply.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('body limits and content types', () => {
    it('refuses a JSON body over 64 KiB with 413 problem+json', async () => {
      const body = JSON.stringify({ title: 'big', description: 'x'.repeat(64 * 1024) });
      const reply = await authed.request('POST', '/api/todos', { jsonText: body });
      expect(expectProblem(reply, { status: 413 }).detail).toBe(
        'The request body exceeds the 64 KiB limit.',
      );
    });

    it('refuses an oversized chunked body (no Content-Length) with 413', async () => {
      const body = JSON.stringify({ title: 'big', description: 'x'.repeat(70 * 1024) });
      const response = await authed.request('POST', '/api/todos', {
        jsonText: body,
        chunked: true,
      });
      expectProblem(response, { status: 413 });
    });

    it('judges a body just under 64 KiB on its content (400), not its size', async () => {
      const padding = 64 * 1024 - JSON.stringify({ title: 't', description: '' }).length;
      const body = JSON.stringify({ title: 't', description: 'x'.repeat(padding) });
      expect(Buffer.byteLength(body)).toBe(64 * 1024);
      const reply = await authed.request('POST', '/api/todos', { jsonText: body });
      const problem = expectProblem(reply, { status: 400 });
      expect(problem.errors).toEqual([{ field: 'description', message: expect.any(String) }]);
    });

    it.each([
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'text/json',
      'application/jsonx',
      'application/problem+json',
    ])('refuses Content-Type %s with 415 problem+json', async (contentType) => {
      const reply = await authed.request('POST', '/api/todos', {
        body: '{"title":"x"}',
        headers: { 'content-type': contentType },
      });
      expect(expectProblem(reply, { status: 415 }).detail).toBe(
        'Unsupported Content-Type: send application/json.',
      );
    });

    it('refuses a body without Content-Type with 415', async () => {
      const reply = await rawExchange(
        api.url,
        `POST /api/todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${user.jwt}\r\n` +
          'Content-Length: 13\r\nConnection: close\r\n\r\n{"title":"x"}',
      );
      expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 415 Unsupported Media Type');
      expectProblem(parseRawReply(reply, '/api/todos'), { status: 415 });
    });

    it('refuses a PATCH body that is not JSON with 415', async () => {
      const created = await authed.request('POST', '/api/todos', {
        jsonText: '{"title":"patch me"}',
      });
      const { id } = JSON.parse(created.text) as { id: string };
      const reply = await authed.request('PATCH', `/api/todos/${id}`, {
        body: 'title=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expectProblem(reply, { status: 415 });
    });

    it('accepts application/json with a charset parameter', async () => {
      const reply = await authed.request('POST', '/api/todos', {
        body: '{"title":"charset"}',
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });
      expect(reply.status).toBe(201);
    });
  });

  describe('header and time limits', () => {
    it("answers a header section over Node's limit with 431 problem+json, never 500", async () => {
      const response = await rawExchange(
        api.url,
        `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      expect(response.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      expectProblem(parseRawReply(response), { status: 431, instance: null });
    });

    it('answers many small headers adding up past the limit with 431', async () => {
      const headers = Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'b'.repeat(50)}\r\n`);
      const response = await rawExchange(
        api.url,
        `GET /api/health HTTP/1.1\r\nHost: x\r\n${headers.join('')}\r\n`,
      );
      expect(response.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    });

    it('answers malformed HTTP with 400 problem+json', async () => {
      const response = await rawExchange(api.url, 'GET /api/health HTTP/1.1\r\nHost x\r\n\r\n');
      expect(response.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expectProblem(parseRawReply(response), { status: 400, instance: null });
    });

    it('answers an oversized Authorization header with 431 too', async () => {
      const response = await rawExchange(
        api.url,
        `GET /api/profile HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(17_000)}\r\n\r\n`,
      );
      expect(response.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    });

    it('cuts off a client that trickles its headers and never finishes (requestTimeout)', async () => {
      const outcome = await slowClient(
        'GET /api/health HTTP/1.1\r\nHost: x\r\n',
        () => 'X-Slow: a\r\n',
      );
      expect(outcome.response.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
      expectProblem(parseRawReply(outcome.response), { status: 408, instance: null });
      expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      expect(outcome.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 4000);
    });

    it('cuts off a client that trickles its body and never finishes', async () => {
      const outcome = await slowClient(
        `POST /api/todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${user.jwt}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"title":"',
        () => 'a',
      );
      expect(outcome.response.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
      expect(outcome.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      expect(outcome.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 4000);
    });

    it('cuts off a client that connects and sends nothing', async () => {
      const outcome = await slowClient('', () => '', { trickle: false });
      expect(outcome.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 4000);
    });
  });

  describe('limit on GET /api/todos', () => {
    it.each(['0', '-1', '101', 'abc', '1.5', '', '1e2', '0x10', ' 5', '10abc', '99999999999'])(
      'refuses limit=%j with 400 naming limit',
      async (value) => {
        const reply = await authed.get(`/api/todos?limit=${encodeURIComponent(value)}`);
        const problem = expectProblem(reply, { status: 400 });
        expect(problem.errors).toEqual([{ field: 'limit', message: expect.any(String) }]);
      },
    );

    it.each(['__proto__=1', '__proto__=a&__proto__=b', 'constructor=1', 'toString=x', 'offset=5'])(
      'refuses the unknown query parameter in %s with 400 naming it',
      async (query) => {
        const problem = expectProblem(await authed.get(`/api/todos?${query}`), { status: 400 });
        expect(problem.errors).toEqual([
          { field: query.split('=')[0], message: expect.stringMatching(/should not exist/) },
        ]);
      },
    );

    it('refuses a repeated limit (limit=1&limit=2) with 400 naming limit', async () => {
      const problem = expectProblem(await authed.get('/api/todos?limit=1&limit=2'), {
        status: 400,
      });
      expect(problem.errors).toEqual([{ field: 'limit', message: expect.any(String) }]);
    });

    it.each(['1', '100', '020'])('accepts limit=%s', async (value) => {
      const reply = await authed.get(`/api/todos?limit=${value}`);
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text)).toMatchObject({ todos: expect.any(Array) });
    });
  });

  describe('titles are counted in code points, as PostgreSQL counts them', () => {
    const cases: Array<[string, string]> = [
      ['emoji (astral, 2 UTF-16 units each)', '😀'],
      ['a letter with a combining mark (2 code points)', 'e\u0301'],
      ['a ZWJ family emoji (5 code points)', '👨‍👩‍👧'],
      ['CJK', '漢'],
      ['flags (2 regional indicators each)', '🇫🇷'],
    ];

    it.each(cases)('accepts 200 code points of %s and stores them as sent', async (_, unit) => {
      const units = [...unit].length;
      const title = unit.repeat(Math.floor(200 / units)) + 'x'.repeat(200 % units);
      expect([...title]).toHaveLength(200);
      const reply = await authed.request('POST', '/api/todos', {
        jsonText: JSON.stringify({ title }),
      });
      expect(reply.status).toBe(201);
      const { id, title: stored } = JSON.parse(reply.text) as { id: string; title: string };
      expect(stored).toBe(title);
      const [row] = await db.query<Array<{ n: number }>>(
        'SELECT char_length(title) AS n FROM todos WHERE id = $1',
        [id],
      );
      expect(row.n).toBe(200);
    });

    it.each(cases)('refuses 201 code points of %s with 400, not 500', async (_, unit) => {
      const units = [...unit].length;
      const title = unit.repeat(Math.floor(201 / units)) + 'x'.repeat(201 % units);
      expect([...title]).toHaveLength(201);
      const problem = expectProblem(
        await authed.request('POST', '/api/todos', { jsonText: JSON.stringify({ title }) }),
        { status: 400 },
      );
      expect(problem.errors).toEqual([{ field: 'title', message: expect.any(String) }]);
    });

    it('refuses 201 code points on PATCH too', async () => {
      const created = await authed.request('POST', '/api/todos', { jsonText: '{"title":"short"}' });
      const { id } = JSON.parse(created.text) as { id: string };
      const title = '😀'.repeat(201);
      const reply = await authed.request('PATCH', `/api/todos/${id}`, {
        jsonText: JSON.stringify({ title }),
      });
      expectProblem(reply, { status: 400 });
    });

    it('counts the description the same way (2000 emoji pass, 2001 do not)', async () => {
      const ok = await authed.request('POST', '/api/todos', {
        jsonText: JSON.stringify({ title: 'd', description: '😀'.repeat(2000) }),
      });
      expect(ok.status).toBe(201);
      const tooLong = await authed.request('POST', '/api/todos', {
        jsonText: JSON.stringify({ title: 'd', description: '😀'.repeat(2001) }),
      });
      expectProblem(tooLong, { status: 400 });
    });

    it.each([
      ['a lone surrogate', '"a\\ud800b"'],
      ['a NUL character', '"a\\u0000b"'],
      ['only spaces (empty once trimmed)', '"   "'],
    ])('refuses a title with %s with 400, not 500', async (_, encoded) => {
      const problem = expectProblem(
        await authed.request('POST', '/api/todos', { jsonText: `{"title":${encoded}}` }),
        { status: 400 },
      );
      expect(problem.errors).toEqual([{ field: 'title', message: expect.any(String) }]);
    });
  });

  describe('JSON bodies that are not objects', () => {
    const deepArray = `{"title":"x","nested":${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
    const deepObject = `{"title":"x","nested":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    const bodies: Array<[string, string]> = [
      ['an empty array', '[]'],
      ['an array of todos', '[{"title":"x"}]'],
      ['null', 'null'],
      ['a string', '"title"'],
      ['a number', '42'],
      ['true', 'true'],
      ['an empty object', '{}'],
      ['invalid JSON', '{"title":'],
      ['an empty body', ''],
      ['a deeply nested array', deepArray],
      ['a deeply nested object', deepObject],
      ['__proto__ pollution', '{"title":"x","__proto__":{"admin":true}}'],
      ['constructor.prototype pollution', '{"title":"x","constructor":{"prototype":{"a":1}}}'],
      ['a title that is an object', '{"title":{"toString":"x"}}'],
      ['a title that is an array', '{"title":["x"]}'],
      ['a null title', '{"title":null}'],
      ['completed as a string', '{"title":"x","completed":"true"}'],
      ['a server-owned field', '{"title":"x","userId":"someone-else"}'],
      ['a field named constructor', '{"title":"x","constructor":"y"}'],
      ['a field named toString', '{"title":"x","toString":1}'],
      ['a field named hasOwnProperty', '{"title":"x","hasOwnProperty":{}}'],
    ];

    it.each(bodies)('POST with %s → 400 problem+json', async (_, body) => {
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(64 * 1024);
      expectProblem(await authed.request('POST', '/api/todos', { jsonText: body }), {
        status: 400,
      });
    });

    it('names the nesting limit when refusing a deep body', async () => {
      const problem = expectProblem(
        await authed.request('POST', '/api/todos', { jsonText: deepArray }),
        { status: 400 },
      );
      expect(problem.detail).toBe('The JSON body nests deeper than 32 levels.');
    });

    it('still accepts brackets inside strings', async () => {
      const title = '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"\\';
      const reply = await authed.request('POST', '/api/todos', {
        jsonText: JSON.stringify({ title }),
      });
      expect(reply.status).toBe(201);
      expect((JSON.parse(reply.text) as { title: string }).title).toBe(title);
    });

    it.each(bodies.filter(([name]) => name !== 'an empty object'))(
      'PATCH with %s → 400 problem+json',
      async (_, body) => {
        const created = await authed.request('POST', '/api/todos', {
          jsonText: '{"title":"target"}',
        });
        const { id } = JSON.parse(created.text) as { id: string };
        expectProblem(await authed.request('PATCH', `/api/todos/${id}`, { jsonText: body }), {
          status: 400,
        });
      },
    );
  });

  /** A client that sends `head`, then a byte or so every 100 ms, until the server hangs up. */
  function slowClient(
    head: string,
    next: () => string,
    { trickle = true } = {},
  ): Promise<{ response: string; closedAfterMs: number }> {
    const startedAt = Date.now();
    const { socket, closed } = openConnection(api.url);
    const timer = setInterval(() => {
      if (trickle && socket.writable) socket.write(next());
    }, 100);
    const giveUp = setTimeout(() => socket.destroy(new Error('the server never hung up')), 15_000);
    if (head) socket.write(head);
    return closed.then(({ received, error }) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      if (error?.startsWith('the server never')) throw new Error(error);
      return { response: received, closedAfterMs: Date.now() - startedAt };
    });
  }
});
