import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { MIGRATIONS_GLOB } from '../src/database/data-source-options';
import { TODOS_LIST_INDEX } from '../src/todos/todo.entity';
import { freePort, portIsOpen } from './support/free-port';
import {
  dropScratchDatabases,
  migratedDataSource,
  scratchDatabase,
} from './support/scratch-database';

/**
 * The schema comes from the migrations only: these tests build it from them in scratch databases
 * on the test server and hold it against the entities and the CLI. (The list query's use of the
 * index is checked with the statements themselves, in todos-repository.e2e-spec.ts.)
 */

const ROOT = resolve(__dirname, '..');
const SOURCE_MIGRATIONS = readdirSync(join(ROOT, 'migrations'))
  .filter((file) => file.endsWith('.ts'))
  .map((file) => basename(file, '.ts'))
  .sort();

afterAll(dropScratchDatabases);

/** The statements TypeORM would run to make the database match the entities: none, when in sync. */
async function drift(dataSource: DataSource): Promise<string[]> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  return sql.upQueries.map((query) => query.query);
}

describe('migrations and entities', () => {
  let url: string;
  let dataSource: DataSource;

  beforeAll(async () => {
    url = await scratchDatabase();
    dataSource = await migratedDataSource(url);
  });

  afterAll(async () => {
    await dataSource?.destroy();
  });

  it('runs every migration in migrations/, each once', async () => {
    const rows = await dataSource.query<{ name: string }[]>(
      'SELECT name FROM migrations ORDER BY "timestamp"',
    );
    expect(rows.map((row) => row.name)).toEqual(
      SOURCE_MIGRATIONS.map((file) => {
        const [timestamp, name] = file.split('-');
        return `${name}${timestamp}`;
      }),
    );
    expect(await dataSource.showMigrations()).toBe(false);
  });

  it('leaves no drift: the schema built by the migrations is the one the entities describe', async () => {
    expect(await drift(dataSource)).toEqual([]);
  });

  it('creates the list index with the list order, and the CHECK constraints of the DTO limits', async () => {
    const [index] = await dataSource.query<{ indexdef: string }[]>(
      `SELECT indexdef FROM pg_indexes WHERE tablename = 'todos' AND indexname = $1`,
      [TODOS_LIST_INDEX],
    );
    expect(index?.indexdef).toMatch(/USING btree \(user_id, created_at DESC, id DESC\)$/);

    const columns = await dataSource.query<{ column_name: string; data_type: string }[]>(
      `SELECT column_name, data_type FROM information_schema.columns
       WHERE table_name = 'todos' ORDER BY column_name`,
    );
    expect(Object.fromEntries(columns.map((c) => [c.column_name, c.data_type]))).toEqual({
      completed: 'boolean',
      created_at: 'timestamp with time zone',
      description: 'text',
      id: 'uuid',
      title: 'text',
      updated_at: 'timestamp with time zone',
      user_id: 'text',
      version: 'integer',
    });

    const insert = (title: string, description: string | null = null) =>
      dataSource.query(`INSERT INTO todos (user_id, title, description) VALUES ('u', $1, $2)`, [
        title,
        description,
      ]);
    await expect(
      insert('\u{1F600}'.repeat(200), '\u2764\ufe0f'.repeat(1000)),
    ).resolves.toBeDefined();
    for (const [title, description] of [
      ['', null],
      ['\u{1F600}'.repeat(201), null],
      ['ok', 'd'.repeat(2001)],
    ]) {
      await expect(insert(title!, description)).rejects.toMatchObject({
        driverError: { code: '23514' },
      });
    }
  });

  it('reverts every migration down to an empty schema, and migrates up again without drift', async () => {
    const scratch = await migratedDataSource(await scratchDatabase());
    try {
      while ((await scratch.query<unknown[]>('SELECT 1 FROM migrations')).length > 0) {
        await scratch.undoLastMigration({ transaction: 'each' });
      }
      const tables = await scratch.query<{ table_name: string }[]>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
      );
      expect(tables.map((t) => t.table_name)).toEqual(['migrations']);

      await scratch.runMigrations({ transaction: 'each' });
      expect(await drift(scratch)).toEqual([]);
    } finally {
      await scratch.destroy();
    }
  });
});

describe('the TypeORM CLI data source (what npm run migration:* runs, from dist/)', () => {
  const cli = join(ROOT, 'node_modules', 'typeorm', 'cli.js');
  const dataSourceFile = join(ROOT, 'dist', 'src', 'database', 'data-source.js');
  let workDir: string;

  beforeAll(() => {
    // The e2e global setup builds dist/ before any suite runs.
    expect(existsSync(dataSourceFile)).toBe(true);
    // Outside the repository, so no developer .env is read; reachable by the `postgres` user.
    workDir = mkdtempSync(join(tmpdir(), 'todo-api-cli-'));
    chmodSync(workDir, 0o755);
  });

  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  function runCli(args: string[], env: Record<string, string>) {
    return new Promise<{ code: number | null; output: string }>((resolvePromise, reject) => {
      const child = spawn(process.execPath, [cli, ...args, '-d', dataSourceFile], {
        cwd: workDir,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.on('error', reject);
      // 'close', not 'exit': the output may still be in the pipes when the process exits.
      child.on('close', (code) => {
        clearTimeout(timer);
        resolvePromise({ code, output });
      });
    });
  }

  it('finds migrations as .ts under Jest and as .js from dist/, never maps or declarations', () => {
    expect(MIGRATIONS_GLOB).toBe(join(ROOT, 'migrations', '*.ts'));
    const compiled = jest.requireActual<{ MIGRATIONS_GLOB: string }>(
      join(ROOT, 'dist', 'src', 'database', 'data-source-options.js'),
    );
    expect(compiled.MIGRATIONS_GLOB).toBe(join(ROOT, 'dist', 'migrations', '*.js'));
  });

  it('loads the compiled migrations: each source migration has exactly one .js twin', () => {
    const compiled = readdirSync(join(ROOT, 'dist', 'migrations'))
      .filter((file) => file.endsWith('.js'))
      .map((file) => basename(file, '.js'))
      .sort();
    expect(compiled).toEqual(SOURCE_MIGRATIONS);
  });

  it('migration:run then migration:generate --check (npm run migration:check) pass on DATABASE_URL', async () => {
    const env = { DATABASE_URL: await scratchDatabase() };

    const run = await runCli(['migration:run'], env);
    expect(run).toEqual({
      code: 0,
      output: expect.stringContaining('has been executed successfully'),
    });

    const check = await runCli(['migration:generate', '--check', join(workDir, 'Drift')], env);
    expect(check).toEqual({
      code: 0,
      output: expect.stringContaining('No changes in database schema'),
    });
    expect(readdirSync(workDir)).toEqual([]);
  }, 120_000);

  it('without DATABASE_URL, runs on the embedded PostgreSQL and stops it afterwards', async () => {
    const dataDir = join(workDir, 'embedded', 'postgres');
    const port = await freePort();
    const env = { EMBEDDED_POSTGRES_DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(port) };

    const run = await runCli(['migration:run'], env);
    expect(run.code).toBe(0);
    expect(run.output).toContain('CreateTodos');

    const show = await runCli(['migration:show'], env);
    expect(show.code).toBe(0);
    expect(show.output).toMatch(/\[X\] \d+ CreateTodos/);

    // Stopped cleanly: PostgreSQL removes its lock file on shutdown, and the port is closed.
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    await expect(portIsOpen(port)).resolves.toBe(false);
  }, 120_000);
});
