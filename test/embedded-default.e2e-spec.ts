import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, MAIN, NODE } from './support/app-process';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { freePort, portIsOpen } from './support/free-port';
import { HttpClient } from './support/http';

/**
 * The embedded database, as a user meets it: the built app (`node dist/src/main.js`, which the e2e global setup
 * has just built) started with no DATABASE_URL runs its own PostgreSQL, migrates it, serves
 * todos, stops it on SIGTERM, and finds its data again on the next start.
 */

const STARTUP_LIMIT_MS = 60_000;

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
    app = await AppProcess.spawn(env, root);
    await app.ready(STARTUP_LIMIT_MS);
    const readyMs = Math.round(performance.now() - startedAt);
    const postgres = app.logs.lines.find((line) =>
      line.msg?.startsWith('Embedded PostgreSQL ready'),
    );
    const [listening] = app.logs.find({ msg: 'Todo API listening' });
    startup[label] = {
      readyMs,
      postgresMs: Number(/(\d+) ms\)$/.exec(postgres?.msg ?? '')?.[1]),
      appMs: listening?.startupMs as number | undefined,
    };
    return app;
  }

  /** The running app as the test user. */
  const asUser = (running: AppProcess): HttpClient => running.http.as(user.jwt);

  it('starts on an empty data directory: initialises PostgreSQL, migrates, serves todos', async () => {
    expect(existsSync(dataDir)).toBe(false);

    const running = await startApp('empty');

    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    await expect(portIsOpen(pgPort)).resolves.toBe(true);
    expect(running.logs.lines).toContainEqual(
      expect.objectContaining({
        msg: expect.stringMatching(/^Embedded PostgreSQL ready .*new data/),
      }),
    );
    const created = await asUser(running).post('/api/todos', { title: 'Kept across restarts' });
    expect(created.status).toBe(201);
    todo = created.body as Record<string, unknown>;
    const read = await asUser(running).get(created.headers.get('location') ?? 'no location');
    expect(read.status).toBe(200);
    expect(read.body).toEqual(todo);
  }, 120_000);

  it('exits 0 on SIGTERM and stops PostgreSQL', async () => {
    const running = app!;
    const result = await app!.stop();
    app = undefined;

    expect(result).toEqual({ code: 0, signal: null });
    await expect(portIsOpen(pgPort)).resolves.toBe(false);
    // PostgreSQL removes its lock file only on a clean shutdown.
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    expect(running.logs.lines).toContainEqual(
      expect.objectContaining({ msg: 'Embedded PostgreSQL stopped' }),
    );
    expect(running.logs.failures()).toEqual([]);
  }, 60_000);

  it('starts again on the existing data directory, and the todo is still there', async () => {
    const running = await startApp('existing');

    expect(running.logs.lines).toContainEqual(
      expect.objectContaining({
        msg: expect.stringMatching(/^Embedded PostgreSQL ready .*existing data/),
      }),
    );
    const list = await asUser(running).get('/api/todos');
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ todos: [todo], nextCursor: null });

    const result = await app!.stop();
    app = undefined;
    expect(result).toEqual({ code: 0, signal: null });
    await expect(portIsOpen(pgPort)).resolves.toBe(false);
  }, 120_000);
});
