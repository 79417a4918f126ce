import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processCpuMs } from './cpu';

export interface AppProcessOptions {
  /** dist/src/main.js of the build being measured. */
  mainPath: string;
  env: Record<string, string>;
  port: number;
  /** Working directory: a temp dir, so a developer's `.env` cannot change what is measured. */
  cwd: string;
  /** Where the app's stdout/stderr go (a file costs the app one write per line, like production). */
  logFile: string;
  /** When set, the app runs with `--cpu-prof` and writes its profile here on exit. */
  cpuProfDir?: string;
}

const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 20_000;

/** The built app, started as `node dist/src/main.js` in its own process. */
export class AppProcess {
  private exited: Promise<string>;
  private exitStatus: string | undefined;

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitStatus = signal ?? `exit code ${code}`;
        resolve(this.exitStatus);
      }),
    );
  }

  static async start(options: AppProcessOptions): Promise<AppProcess> {
    const log = openSync(options.logFile, 'a');
    const args = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
    const child = spawn(process.execPath, [...args, options.mainPath], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const app = new AppProcess(`http://127.0.0.1:${options.port}`, child, options.logFile);
    await app.waitUntilReady();
    return app;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** CPU time the app has used so far, in ms (Linux). */
  cpuMs(): number | undefined {
    return processCpuMs(this.child.pid);
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  /** The last lines the app wrote, for error messages. */
  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /**
   * SIGTERM (Nest closes the server and the pool), then SIGKILL if it hangs. Returns how the
   * process ended: Nest re-raises the signal once it has shut down, so a clean stop reads
   * `SIGTERM` (or `exit code 0`).
   */
  async stop(): Promise<string> {
    if (this.exitStatus !== undefined) return this.exitStatus;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** Polls GET /api/health/ready: the database answers and a key set is loaded. */
  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(
          `the app ended (${this.exitStatus}) before it was ready:\n${this.logTail()}`,
        );
      }
      try {
        const response = await fetch(`${this.url}/api/health/ready`, {
          signal: AbortSignal.timeout(2000),
        });
        if (response.ok) return;
        last = `${response.status} ${await response.text()}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await this.stop();
    throw new Error(
      `the app was not ready after ${READY_TIMEOUT_MS / 1000} s (${last}):\n${this.logTail()}`,
    );
  }
}

export function appMainPath(distRoot: string): string {
  return join(distRoot, 'src', 'main.js');
}
