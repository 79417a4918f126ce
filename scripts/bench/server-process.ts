import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface ServerOptions {
  /** Node arguments: flags and the script. */
  args: string[];
  env: Record<string, string>;
  port: number;
  /** Polled until it answers: with 200, or with anything when `anyStatus`. */
  readyPath: string;
  anyStatus?: boolean;
  /** `taskset -c` CPU list, when the server is pinned. */
  cpus?: string;
  logFile: string;
  cwd: string;
}

const READY_TIMEOUT_MS = 90_000;

/** A server under test in its own process (pinned with taskset when asked), with /proc readings. */
export class ServerProcess {
  private status: string | undefined;
  private readonly exited: Promise<string>;

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve((this.status = signal ?? `exit ${code}`))),
    );
  }

  static async start(options: ServerOptions): Promise<ServerProcess> {
    const log = openSync(options.logFile, 'a');
    // taskset execs node, so the child's pid is node's.
    const [command, args] = options.cpus
      ? ['taskset', ['-c', options.cpus, process.execPath, ...options.args]]
      : [process.execPath, options.args];
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const server = new ServerProcess(`http://127.0.0.1:${options.port}`, child, options.logFile);
    await server.waitUntilReady(options.readyPath, options.anyStatus ?? false);
    return server;
  }

  get running(): boolean {
    return this.status === undefined;
  }

  /** Resident set size now, in MB (Linux). */
  rssMb(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  }

  /** CPU time (user + system) used so far, in ms (Linux ticks are 10 ms). */
  cpuMs(): number {
    const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  }

  logTail(lines = 20): string {
    return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** SIGTERM, then SIGKILL after 20 s; how it ended. */
  async stop(): Promise<string> {
    if (this.status !== undefined) return this.status;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }

  private async waitUntilReady(path: string, anyStatus: boolean): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`server ended (${this.status}):\n${this.logTail()}`);
      const response = await fetch(this.url + path).catch(() => undefined);
      await response?.arrayBuffer();
      if (response && (anyStatus || response.ok)) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await this.stop();
    throw new Error(`server not ready after ${READY_TIMEOUT_MS / 1000} s:\n${this.logTail()}`);
  }
}
