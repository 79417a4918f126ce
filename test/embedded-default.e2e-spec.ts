import { ChildProcessByStdio, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { freePort, portIsOpen } from './support/free-port';

/**
 * SPEC §8, as a user meets it: the built app (`node dist/src/main.js`, which the e2e global setup
 * has just built) started with no DATABASE_URL runs its own PostgreSQL, migrates it, serves
 * todos, stops it on SIGTERM, and finds its data again on the next start.
 */

const ROOT = resolve(__dirname, '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
/** Node 24 from the `node` devDependency: what `npm start` runs (plain `node` may be older). */
const NODE = join(ROOT, 'node_modules', '.bin', 'node');
const STARTUP_LIMIT_MS = 60_000;

interface LogLine {
  level: string;
  msg?: string;
  [key: string]: unknown;
}

class AppProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcessByStdio<null, Readable, Readable>,
    readonly url: string,
  ) {
    child.stdout.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolvePromise) =>
      child.on('close', (code, signal) => resolvePromise({ code, signal })),
    );
  }

  static start(cwd: string, env: Record<string, string>): AppProcess {
    // Only what is given: no DATABASE_URL, no NODE_ENV, no NODE_OPTIONS from the test runner.
    const child = spawn(NODE, [MAIN], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AppProcess(child, `http://127.0.0.1:${env.PORT}`);
  }

  get logs(): LogLine[] {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  }

  /** Resolves once GET /api/health/ready answers 200; fails early if the process dies. */
  async ready(): Promise<void> {
    const deadline = Date.now() + STARTUP_LIMIT_MS;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline && !exited) {
      const status = await fetch(`${this.url}/api/health/ready`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return;
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 25));
    }
    this.child.kill('SIGKILL');
    throw new Error(`the app did not become ready:\n${this.output}`);
  }

  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    return this.exited.finally(() => clearTimeout(timer));
  }
}

describe('npm start without DATABASE_URL (the embedded PostgreSQL)', () => {
  let issuer: BetterAuthIssuer;
  let user: IssuedUser;
  let root: string;
  let dataDir: string;
  let env: Record<string, string>;
  let pgPort: number;
  let app: AppProcess | undefined;
  let todo: Record<string, unknown>;
  const startup: Record<string, { readyMs: number; postgresMs?: number; appMs?: number }> = {};

  beforeAll(async () => {
    expect(existsSync(MAIN)).toBe(true);
    expect(existsSync(NODE)).toBe(true);
    issuer = await BetterAuthIssuer.start();
    user = await issuer.createUser();
    // As root, PostgreSQL runs as the `postgres` user, which must be able to enter the directory.
    root = mkdtempSync(join(tmpdir(), 'todo-api-embedded-'));
    chmodSync(root, 0o755);
    dataDir = join(root, 'data', 'postgres');
    pgPort = await freePort();
    env = {
      PORT: String(await freePort()),
      EMBEDDED_POSTGRES_DATA_DIR: dataDir,
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      BETTER_AUTH_URL: issuer.url,
    };
  });

  afterAll(async () => {
    await app?.stop();
    await issuer?.close();
    if (root) rmSync(root, { recursive: true, force: true });
    for (const [label, times] of Object.entries(startup)) {
      console.log(
        `Startup on ${label} data directory: ${times.readyMs} ms from spawn to ready ` +
          `(embedded PostgreSQL ${times.postgresMs} ms, bootstrap to listening ${times.appMs} ms)`,
      );
    }
  });

  async function startApp(label: 'empty' | 'existing'): Promise<AppProcess> {
    const startedAt = performance.now();
    // The working directory is the temporary root: no .env of the developer's is read.
    app = AppProcess.start(root, env);
    await app.ready();
    const readyMs = Math.round(performance.now() - startedAt);
    const postgres = app.logs.find((line) => line.msg?.startsWith('Embedded PostgreSQL ready'));
    const listening = app.logs.find((line) => line.msg === 'Todo API listening');
    startup[label] = {
      readyMs,
      postgresMs: Number(/(\d+) ms\)$/.exec(postgres?.msg ?? '')?.[1]),
      appMs: listening?.startupMs as number | undefined,
    };
    return app;
  }

  function authorised(init: RequestInit = {}): RequestInit {
    return {
      ...init,
      headers: {
        authorization: `Bearer ${user.jwt}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    };
  }

  it('starts on an empty data directory: initialises PostgreSQL, migrates, serves todos', async () => {
    expect(existsSync(dataDir)).toBe(false);

    const running = await startApp('empty');

    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    await expect(portIsOpen(pgPort)).resolves.toBe(true);
    expect(running.logs).toContainEqual(
      expect.objectContaining({
        msg: expect.stringMatching(/^Embedded PostgreSQL ready .*new data/),
      }),
    );
    const created = await fetch(
      `${running.url}/api/todos`,
      authorised({ method: 'POST', body: JSON.stringify({ title: 'Kept across restarts' }) }),
    );
    expect(created.status).toBe(201);
    todo = (await created.json()) as Record<string, unknown>;
    const read = await fetch(`${running.url}${created.headers.get('location')}`, authorised());
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual(todo);
  }, 120_000);

  it('exits 0 on SIGTERM and stops PostgreSQL', async () => {
    const running = app!;
    const result = await app!.stop();
    app = undefined;

    expect(result).toEqual({ code: 0, signal: null });
    await expect(portIsOpen(pgPort)).resolves.toBe(false);
    // PostgreSQL removes its lock file only on a clean shutdown.
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    expect(running.logs).toContainEqual(
      expect.objectContaining({ msg: 'Embedded PostgreSQL stopped' }),
    );
    expect(running.logs.filter((line) => ['error', 'fatal'].includes(line.level))).toEqual([]);
  }, 60_000);

  it('starts again on the existing data directory, and the todo is still there', async () => {
    const running = await startApp('existing');

    expect(running.logs).toContainEqual(
      expect.objectContaining({
        msg: expect.stringMatching(/^Embedded PostgreSQL ready .*existing data/),
      }),
    );
    const list = await fetch(`${running.url}/api/todos`, authorised());
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ todos: [todo], nextCursor: null });

    const result = await app!.stop();
    app = undefined;
    expect(result).toEqual({ code: 0, signal: null });
    await expect(portIsOpen(pgPort)).resolves.toBe(false);
  }, 120_000);
});
