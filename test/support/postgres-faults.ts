import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RunningEmbeddedPostgres,
  startEmbeddedPostgres,
} from '../../src/database/embedded-postgres';
import { freePort } from './free-port';
import { migratedDataSource } from './scratch-database';

/**
 * A migrated PostgreSQL of one suite's own (its own data directory and port), for the suites
 * that stop, freeze and restart the database: done to the shared test server, that would
 * disturb every other suite.
 */
export class SuitePostgres {
  private running: RunningEmbeddedPostgres | undefined;

  private constructor(
    private readonly root: string,
    private readonly dataDir: string,
    private readonly port: number,
  ) {}

  /** `name` tells its temporary directory from the other suites'. */
  static async start(name: string): Promise<SuitePostgres> {
    const root = mkdtempSync(join(tmpdir(), `todo-api-${name}-`));
    // PostgreSQL runs as the `postgres` user when the tests run as root: it must get in.
    chmodSync(root, 0o755);
    const postgres = new SuitePostgres(root, join(root, 'postgres'), await freePort());
    try {
      await postgres.restart();
      const migrator = await migratedDataSource(postgres.url, 1);
      await migrator.destroy();
    } catch (error) {
      await postgres.close();
      throw error;
    }
    return postgres;
  }

  /** Its URL; the same after a restart (same port, same data). */
  get url(): string {
    if (!this.running) throw new Error('PostgreSQL is stopped');
    return this.running.url;
  }

  /** Stops PostgreSQL: new connections are refused, open ones end. */
  async stop(): Promise<void> {
    if (!this.running) throw new Error('PostgreSQL is already stopped');
    const running = this.running;
    this.running = undefined;
    await running.stop();
  }

  /** Starts PostgreSQL on its port and data directory (again, after `stop`). */
  async restart(): Promise<void> {
    this.running = await startEmbeddedPostgres({ dataDir: this.dataDir, port: this.port });
  }

  /**
   * The PostgreSQL processes serving this data directory: those naming it, and all their
   * descendants (SIGSTOP to every one of them makes a database that hangs).
   */
  processes(): number[] {
    const processes = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .flatMap((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          return [{ pid: Number(pid), ppid, cmdline }];
        } catch {
          return [];
        }
      });
    const tree = new Set(
      processes.filter((p) => p.cmdline.includes(this.dataDir)).map((p) => p.pid),
    );
    for (let grew = true; grew;) {
      grew = false;
      for (const p of processes) {
        if (tree.has(p.ppid) && !tree.has(p.pid)) {
          tree.add(p.pid);
          grew = true;
        }
      }
    }
    return [...tree];
  }

  /** Stops PostgreSQL if it runs and removes its files. */
  async close(): Promise<void> {
    await this.running?.stop();
    this.running = undefined;
    rmSync(this.root, { recursive: true, force: true });
  }
}
