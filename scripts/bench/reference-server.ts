import Fastify, { FastifyReply } from 'fastify';
import { createPublicKey, JsonWebKey, KeyObject, verify } from 'node:crypto';
import { Pool } from 'pg';

/**
 * The benchmark's yardstick: a plain, hand-written Fastify server that does what the product's
 * two read routes do, the straightforward way. Every request verifies the EdDSA signature with
 * node:crypto (no cache), checks the claims, and reads PostgreSQL with named prepared
 * statements. Same data, same response fields and shape, an ETag on GET /api/todos/:id.
 *
 * Started by `npm run bench` as `node reference-server.js`, configured by REF_PORT,
 * REF_DATABASE_URL and REF_ISSUER (the Better Auth base URL: issuer, audience and JWKS).
 */

interface TodoRow {
  id: string;
  title: string;
  description: string | null;
  completed: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, title, description, completed, version, created_at, updated_at';
const PAGE = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const port = Number(process.env.REF_PORT);
const issuer = process.env.REF_ISSUER!;
const pool = new Pool({ connectionString: process.env.REF_DATABASE_URL, max: 10 });
const keys = new Map<string, KeyObject>();

async function loadKeys(): Promise<void> {
  const response = await fetch(`${issuer}/api/auth/jwks`);
  const { keys: jwks } = (await response.json()) as { keys: (JsonWebKey & { kid: string })[] };
  for (const jwk of jwks) keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
}

/** The token's subject, or undefined when the token is not a valid EdDSA token of the issuer. */
function verifiedSubject(authorization: string | undefined): string | undefined {
  if (!authorization?.startsWith('Bearer ')) return undefined;
  const parts = authorization.slice(7).split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString()) as {
      alg?: string;
      kid?: string;
    };
    const key = header.alg === 'EdDSA' && header.kid ? keys.get(header.kid) : undefined;
    if (!key) return undefined;
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    if (!verify(null, signed, key, Buffer.from(parts[2], 'base64url'))) return undefined;
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString()) as {
      sub?: string;
      iss?: string;
      aud?: string | string[];
      exp?: number;
    };
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const fresh = typeof claims.exp === 'number' && claims.exp > Date.now() / 1000;
    if (!fresh || claims.iss !== issuer || !audiences.includes(issuer)) return undefined;
    return typeof claims.sub === 'string' && claims.sub ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

function toTodo(row: TodoRow) {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    completed: row.completed,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function problem(reply: FastifyReply, status: number, title: string) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title, status });
}

const app = Fastify({ logger: false });

app.get('/api/todos', async (request, reply) => {
  const sub = verifiedSubject(request.headers.authorization);
  if (!sub) return problem(reply, 401, 'Unauthorized');
  const { rows } = await pool.query<TodoRow>({
    name: 'ref-list',
    text: `SELECT ${COLUMNS} FROM todos WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
    values: [sub, PAGE + 1],
  });
  const todos = rows.slice(0, PAGE);
  const last = todos[todos.length - 1];
  const nextCursor =
    rows.length > PAGE && last
      ? Buffer.from(`v1.${last.created_at.getTime()}.${last.id}`).toString('base64url')
      : null;
  return { todos: todos.map(toTodo), nextCursor };
});

app.get<{ Params: { id: string } }>('/api/todos/:id', async (request, reply) => {
  const sub = verifiedSubject(request.headers.authorization);
  if (!sub) return problem(reply, 401, 'Unauthorized');
  if (!UUID.test(request.params.id)) return problem(reply, 400, 'Bad Request');
  const { rows } = await pool.query<TodoRow>({
    name: 'ref-by-id',
    text: `SELECT ${COLUMNS} FROM todos WHERE user_id = $1 AND id = $2`,
    values: [sub, request.params.id],
  });
  if (!rows[0]) return problem(reply, 404, 'Not Found');
  void reply.header('etag', `"${rows[0].version}"`);
  return toTodo(rows[0]);
});

async function main() {
  await loadKeys();
  await app.listen({ port, host: '127.0.0.1' });
  process.send?.('ready');
}

process.once('SIGTERM', () => {
  void app
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0));
});

main().catch((error: unknown) => {
  console.error('reference server failed:', error);
  process.exit(1);
});
