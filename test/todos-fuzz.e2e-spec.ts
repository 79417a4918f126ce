import fc from 'fast-check';
import { parse as parseQuery } from 'fast-querystring';
import { BetterAuthIssuer } from './support/better-auth-issuer';
import { HttpClient, Reply } from './support/http';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Property-based: random bodies for POST/PATCH /api/todos and random query strings for
 * GET /api/todos never get a 5xx, and get a 2xx exactly when the input is valid by the rules
 * below, which restate the contract independently of the DTOs. A failure prints its seed and the
 * shrunk counterexample.
 */

jest.setTimeout(120_000);

const RUNS = 150;
const FIELDS = ['title', 'description', 'completed'];

type Json = unknown;

/** What PostgreSQL and the contract accept as text: well-formed, without NUL. */
const storable = (text: string) => text.isWellFormed() && !text.includes('\0');
/** Length as PostgreSQL's char_length counts it: code points (a lone surrogate counts one). */
const codePoints = (text: string) => [...text].length;

function validTitle(value: Json): boolean {
  if (typeof value !== 'string') return false;
  const trimmed = value.trim();
  return codePoints(trimmed) >= 1 && codePoints(trimmed) <= 200 && storable(trimmed);
}

function validDescription(value: Json): boolean {
  if (value === null) return true;
  return typeof value === 'string' && codePoints(value) <= 2000 && storable(value);
}

function isPlainObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** POST: an object of known fields only, a valid title, optional description and completed. */
function validCreate(body: Json): boolean {
  if (!isPlainObject(body)) return false;
  if (Object.keys(body).some((key) => !FIELDS.includes(key))) return false;
  if (!validTitle(body.title)) return false;
  if ('description' in body && !validDescription(body.description)) return false;
  if ('completed' in body && typeof body.completed !== 'boolean') return false;
  return true;
}

/** PATCH: known fields only, at least one, each valid (only description may be null). */
function validUpdate(body: Json): boolean {
  if (!isPlainObject(body)) return false;
  const keys = Object.keys(body);
  if (keys.length === 0 || keys.some((key) => !FIELDS.includes(key))) return false;
  if ('title' in body && !validTitle(body.title)) return false;
  if ('description' in body && !validDescription(body.description)) return false;
  if ('completed' in body && typeof body.completed !== 'boolean') return false;
  return true;
}

/** GET /api/todos query, as Fastify parses it: limit 1-100, completed true|false, a real cursor. */
function validQuery(query: Record<string, string | string[]>, cursors: Set<string>): boolean {
  for (const [key, value] of Object.entries(query)) {
    if (typeof value !== 'string') return false;
    if (key === 'limit') {
      if (!/^\d{1,9}$/.test(value) || Number(value) < 1 || Number(value) > 100) return false;
    } else if (key === 'completed') {
      if (value !== 'true' && value !== 'false') return false;
    } else if (key === 'cursor') {
      if (!cursors.has(value)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// Text that sits on the edges the rules care about: code-point counts near the limits, letters
// of 1 to 5 code points, whitespace that trim() removes or keeps, and text PostgreSQL refuses.
const UNITS = ['a', 'é', 'e\u0301', '😀', '👨‍👩‍👧', '🇫🇷', '漢', ' ', '\u3000', '\u200b', '\n'];
const PADDING = ['', ' ', '\t', '\n', '\u00a0', '\u3000', '\ufeff', '\u200b'];
const POISON = ['\u0000', '\ud800', '\udfff', '\ud83d'];

const repeated = (min: number, max: number) =>
  fc
    .tuple(fc.constantFrom(...UNITS), fc.integer({ min, max }), fc.constantFrom(...PADDING))
    .map(([unit, count, pad]) => pad + unit.repeat(count) + pad);

const nearLimit = (limit: number) =>
  fc.tuple(fc.constantFrom(...UNITS), fc.integer({ min: -3, max: 3 })).map(([unit, delta]) => {
    const length = codePoints(unit);
    const wanted = limit + delta;
    return unit.repeat(Math.floor(wanted / length)) + 'x'.repeat(wanted % length);
  });

const poisoned = fc
  .tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...POISON), fc.string({ maxLength: 10 }))
  .map(([before, bad, after]) => `${before}${bad}${after}`);

const nonString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
);

const title = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 2, arbitrary: repeated(0, 60) },
  { weight: 3, arbitrary: nearLimit(200) },
  { weight: 1, arbitrary: poisoned },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\u200b', 'ok') },
  { weight: 1, arbitrary: nonString },
);

const description = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
  { weight: 2, arbitrary: nearLimit(2000) },
  { weight: 1, arbitrary: poisoned },
  { weight: 1, arbitrary: fc.constantFrom<Json>('', null) },
  { weight: 1, arbitrary: nonString },
);

const completed = fc.oneof(
  { weight: 4, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom<Json>(null, 'true', 'false', 0, 1, 'yes', [], {}) },
);

const extraKeys = fc.dictionary(
  fc.oneof(
    fc.constantFrom('id', 'userId', 'user_id', 'createdAt', 'updatedAt', 'version', 'Title', ''),
    // Named after Object.prototype members: the ValidationPipe's whitelist alone missed them.
    fc.constantFrom('constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'),
    fc.string({ maxLength: 8 }),
  ),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 2 },
);

/** Mostly near-valid objects (so both outcomes are common), sometimes any JSON at all. */
const body = fc.oneof(
  { weight: 7, arbitrary: fc.record({ title, description, completed }, { requiredKeys: [] }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.record({ title, description, completed }, { requiredKeys: [] }), extraKeys)
      .map(([known, extra]) => ({ ...extra, ...known })),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
);

describe('fuzzing the todos API', () => {
  let issuer: BetterAuthIssuer;
  let api: TestApp;
  /** The app as the test user. */
  let http: HttpClient;
  const cursors = new Set<string>();

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    api = await startTestApp({
      BETTER_AUTH_URL: issuer.url,
      // Access logs for some thousand requests are noise here; errors still show.
      LOG_LEVEL: 'warn',
    });
    http = api.http.as((await issuer.createUser()).jwt);
    // Three todos and real cursors to page through them.
    for (const n of [1, 2, 3]) await http.post('/api/todos', { title: `seed ${n}` });
    let next: string | null = null;
    do {
      const page = await http.get(`/api/todos?limit=1${next ? `&cursor=${next}` : ''}`);
      next = (page.body as { nextCursor: string | null }).nextCursor;
      if (next) cursors.add(next);
    } while (next && cursors.size < 3);
    expect(cursors.size).toBeGreaterThan(0);
  });

  afterAll(async () => {
    // Nothing failed inside the app, even where the answer was right.
    expect(api.logs.failures()).toEqual([]);
    await api?.close();
    await issuer?.close();
  });

  /** How often each property saw valid input: both outcomes must be common to mean anything. */
  const verdicts: Record<string, { valid: number; invalid: number }> = {};

  function expectBothOutcomes(minimum: number) {
    const seen = verdicts[expect.getState().currentTestName ?? ''];
    process.stdout.write(`${expect.getState().currentTestName}: ${JSON.stringify(seen)}\n`);
    expect(seen.valid).toBeGreaterThanOrEqual(minimum);
    expect(seen.invalid).toBeGreaterThanOrEqual(minimum);
  }

  /** Never a 5xx; 2xx exactly when `valid`; every refusal an RFC 9457 problem. */
  function expectJudged(reply: Reply, valid: boolean, success: number, input: unknown): void {
    const name = expect.getState().currentTestName ?? '';
    verdicts[name] ??= { valid: 0, invalid: 0 };
    verdicts[name][valid ? 'valid' : 'invalid'] += 1;
    const summary = { status: reply.status, input };
    expect(summary).toEqual({ status: valid ? success : 400, input });
    if (!valid) expectProblem(reply, { status: 400 });
  }

  it('POST /api/todos: random JSON bodies', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (input) => {
        const reply = await http.request('POST', '/api/todos', { jsonText: JSON.stringify(input) });
        const valid = validCreate(input);
        expectJudged(reply, valid, 201, input);
        if (valid && isPlainObject(input)) {
          const todo = reply.body as Record<string, unknown>;
          expect(todo).toMatchObject({
            title: (input.title as string).trim(),
            description: 'description' in input ? input.description : null,
            completed: 'completed' in input ? input.completed : false,
          });
          expect(reply.headers.get('location')).toBe(`/api/todos/${String(todo.id)}`);
        }
      }),
      { numRuns: RUNS },
    );
    expectBothOutcomes(20);
  });

  it('PATCH /api/todos/:id: random JSON bodies', async () => {
    const created = await http.post('/api/todos', { title: 'patch target' });
    const { id } = created.body as { id: string };
    await fc.assert(
      fc.asyncProperty(body, async (input) => {
        const reply = await http.request('PATCH', `/api/todos/${id}`, {
          jsonText: JSON.stringify(input),
        });
        const valid = validUpdate(input);
        expectJudged(reply, valid, 200, input);
        if (valid && isPlainObject(input)) {
          const todo = reply.body as Record<string, unknown>;
          if ('title' in input) expect(todo.title).toBe((input.title as string).trim());
          if ('description' in input) expect(todo.description).toBe(input.description);
          if ('completed' in input) expect(todo.completed).toBe(input.completed);
        }
      }),
      { numRuns: RUNS },
    );
    expectBothOutcomes(20);
  });

  const queryValue = () =>
    fc.oneof(
      fc.constantFrom('1', '20', '100', '020', '0', '-1', '101', '1.5', '1e2', '0x10', '', ' 5'),
      fc.constantFrom('true', 'false', 'TRUE', '1', 'yes', 'null'),
      fc.integer({ min: -5, max: 150 }).map(String),
      fc.string({ maxLength: 12 }),
      fc.constant('<cursor>'),
    );

  it('GET /api/todos: random structured query strings', async () => {
    const key = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('limit', 'cursor', 'completed') },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'offset',
          'page',
          'LIMIT',
          'limit[]',
          'userId',
          '__proto__',
          'constructor',
          'hasOwnProperty',
        ),
      },
      { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 6 }) },
    );
    const pairs = fc.array(fc.tuple(key, queryValue()), { maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(pairs, async (raw) => {
        const cursorList = [...cursors];
        const search = raw
          .map(([name, value], i) => {
            const actual = value === '<cursor>' ? cursorList[i % cursorList.length] : value;
            return `${encodeURIComponent(name)}=${encodeURIComponent(actual)}`;
          })
          .join('&');
        const query = parseQuery(search) as Record<string, string | string[]>;
        const reply = await http.get(`/api/todos?${search}`);
        expectJudged(reply, validQuery(query, cursors), 200, search);
      }),
      { numRuns: RUNS },
    );
    expectBothOutcomes(15);
  });

  it('GET /api/todos: arbitrary raw query strings', async () => {
    const fragment = fc.oneof(
      fc.constantFrom('limit', 'completed', 'cursor', '=', '&', '%', '%2', '%ZZ', '%00', '%F0'),
      fc.constantFrom('+', '[]', '[0]', '.', ';', '1', '100', 'true', '😀', 'é', '%26', '%3D'),
      fc.string({ maxLength: 4 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fragment, { maxLength: 10 }), async (parts) => {
        // The URL as the client sends it, and the query as Fastify parses it (fast-querystring).
        const url = new URL(`/api/todos?${parts.join('')}`, api.url);
        const search = url.search.slice(1);
        const query = parseQuery(search) as Record<string, string | string[]>;
        const reply = await http.get(`${url.pathname}${url.search}`);
        expectJudged(reply, validQuery(query, cursors), 200, search);
      }),
      { numRuns: RUNS },
    );
    expectBothOutcomes(5);
  });
});
