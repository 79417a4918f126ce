import { ChildProcessByStdio, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port';
import { HttpClient } from './http';
import { LogReader } from './logs';
import { METRICS_OFF, THROTTLE_OFF } from './test-env';

export const ROOT = resolve(__dirname, '..', '..');
/** The app the e2e global setup has just built, as `npm start` runs it. */
export const MAIN = join(ROOT, 'dist', 'src', 'main.js');
/** Node 24 from the `node` devDependency: what `npm start` runs (plain `node` may be older). */
export const NODE = join(ROOT, 'node_modules', '.bin', 'node');

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The built app in a child process on a free loopback port, its output read as log lines. */
export class AppProcess {
  readonly logs = new LogReader();
  readonly exited: Promise<ExitStatus>;
  readonly http: HttpClient;

  private constructor(
    private readonly child: ChildProcessByStdio<null, Readable, Readable>,
    readonly url: string,
  ) {
    this.http = new HttpClient(url);
    const collect = (chunk: Buffer) => this.logs.write(chunk.toString());
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    this.exited = new Promise((resolvePromise) =>
      child.on('close', (code, signal) => resolvePromise({ code, signal })),
    );
  }

  /**
   * Spawns the app with nothing from the test runner's environment (no DATABASE_URL, NODE_ENV
   * or NODE_OPTIONS) but PATH, the test defaults and `env`; `cwd` decides which .env is read.
   */
  static async spawn(env: Record<string, string>, cwd = ROOT): Promise<AppProcess> {
    const port = env.PORT ?? String(await freePort());
    const child = spawn(NODE, [MAIN], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        ...THROTTLE_OFF,
        ...METRICS_OFF,
        ...env,
        PORT: port,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AppProcess(child, `http://127.0.0.1:${port}`);
  }

  /** Resolves once `done` holds; SIGKILLs and throws if the process exits or time runs out. */
  async until(done: () => Promise<boolean> | boolean, what: string, limitMs = 60_000) {
    const deadline = Date.now() + limitMs;
    for (;;) {
      if (await done()) return;
      const exited = await Promise.race([this.exited, sleep(25).then(() => undefined)]);
      if (exited || Date.now() > deadline) {
        this.kill();
        throw new Error(`the app did not ${what} (${JSON.stringify(exited)}):\n${this.output}`);
      }
    }
  }

  /** Resolves once the app logged that it listens. */
  listening(limitMs?: number): Promise<void> {
    return this.until(
      () => this.logs.find({ msg: 'Todo API listening' }).length > 0,
      'start',
      limitMs,
    );
  }

  /** Resolves once GET /api/health/ready answers 200. */
  ready(limitMs?: number): Promise<void> {
    const probe = () =>
      this.http.get('/api/health/ready').then(
        (reply) => reply.status === 200,
        () => false,
      );
    return this.until(probe, 'become ready', limitMs);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get output(): string {
    return this.logs.text();
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  /** Waits for the exit; SIGKILLs it when it takes longer than the limit. */
  async exit(limitMs: number): Promise<ExitStatus & { ms: number }> {
    const startedAt = Date.now();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), limitMs);
    const status = await this.exited;
    clearTimeout(timer);
    return { ...status, ms: Date.now() - startedAt };
  }

  /** SIGTERM, as an orchestrator stops it, then the exit status. */
  async stop(limitMs = 30_000): Promise<ExitStatus> {
    this.signal('SIGTERM');
    const { code, signal } = await this.exit(limitMs);
    return { code, signal };
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
