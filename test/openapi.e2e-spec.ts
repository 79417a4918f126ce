import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CLIENT_SCHEMA_FILE, renderClientSchema } from '../scripts/openapi-files';
import { startTestApp, TestApp } from './support/test-app';

const ROOT = resolve(__dirname, '..');
const COMMITTED = join(ROOT, 'openapi.json');

interface Operation {
  operationId?: string;
  tags?: string[];
  responses: Record<string, { content?: Record<string, { examples?: Record<string, Example> }> }>;
}
interface Example {
  summary?: string;
  value: { status: number; instance: string; detail: string; errors?: unknown[] };
}
type Document = { paths: Record<string, Record<string, Operation>> } & Record<string, unknown>;

function operations(document: Document): Array<[string, string, Operation]> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]): [string, string, Operation] => [
      path,
      method,
      operation,
    ]),
  );
}

describe('The OpenAPI document', () => {
  let api: TestApp;
  let served: Document;

  beforeAll(async () => {
    api = await startTestApp({});
    served = (await api.http.get('/docs/json')).body as Document;
  });

  afterAll(async () => {
    await api?.close();
  });

  it('served at /docs/json equals the committed openapi.json', () => {
    const committed = JSON.parse(readFileSync(COMMITTED, 'utf8')) as Document;
    try {
      expect(served).toEqual(committed);
    } catch (error) {
      throw new Error(
        'openapi.json differs from what GET /docs/json serves: run `npm run openapi` and ' +
          `commit openapi.json (and the client types it regenerates).\n${String(error)}`,
        { cause: error },
      );
    }
  });

  it("keeps the TypeScript client's generated types in step with it", async () => {
    const committed = readFileSync(CLIENT_SCHEMA_FILE, 'utf8');
    const generated = await renderClientSchema(served);
    if (committed !== generated) {
      throw new Error(
        `${CLIENT_SCHEMA_FILE} is not what openapi-typescript makes of /docs/json: run ` +
          '`npm run openapi` and commit it.',
      );
    }
  });

  it('gives every operation a unique operationId and a tag', () => {
    const ids = operations(served).map(([, , operation]) => operation.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [, , operation] of operations(served)) {
      expect(operation.tags).toHaveLength(1);
    }
  });

  it('gives every error response problem+json examples of its own status and path', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const [path, method, operation] of operations(served)) {
      const instance = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[0-9a-f-]{36}')}$`);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        const where = `${method.toUpperCase()} ${path} ${status}`;
        const examples = Object.entries(
          response.content?.['application/problem+json']?.examples ?? {},
        );
        if (examples.length === 0) wrong.push(`${where}: no example`);
        for (const [name, example] of examples) {
          checked++;
          if (!example.summary) wrong.push(`${where} ${name}: no summary`);
          if (example.value.status !== Number(status)) wrong.push(`${where} ${name}: status`);
          if (!instance.test(example.value.instance)) wrong.push(`${where} ${name}: instance`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it('shows the answers the API really gives (401 without a token, 415 for text)', async () => {
    const example = (path: string, method: string, status: string, name: string) =>
      served.paths[path][method].responses[status].content!['application/problem+json'].examples![
        name
      ].value;

    const unauthenticated = await api.http.get('/api/profile');
    expect({ ...unauthenticated.body, requestId: undefined }).toEqual({
      ...example('/api/profile', 'get', '401', 'missingToken'),
      requestId: undefined,
    });

    const text = await api.http.post('/api/todos', undefined, {
      body: 'buy milk',
      headers: { 'content-type': 'text/plain' },
    });
    expect({ ...text.body, requestId: undefined }).toEqual({
      ...example('/api/todos', 'post', '415', 'notJson'),
      requestId: undefined,
    });
  });

  it('passes Redocly lint (recommended rules) with no error or warning', async () => {
    const cli = join(dirname(require.resolve('@redocly/cli/package.json')), 'bin', 'cli.js');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, 'lint', COMMITTED, '--format=json'],
      {
        cwd: ROOT,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number };
      problems: Array<{ ruleId: string; message: string }>;
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });
});
