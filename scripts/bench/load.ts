import { fork } from 'node:child_process';
import { join } from 'node:path';
import { FromWorker, LoadResult, LoadSpec, ToWorker } from './load-protocol';

export interface RunningLoad {
  /** Resolves once the worker process has the spec and is starting autocannon. */
  started: Promise<void>;
  result: Promise<LoadResult>;
}

/** Generous slack over the load's own duration: process start, connection set-up, the last responses. */
const WORKER_SLACK_MS = 30_000;

/** Starts one autocannon run in a child process (`load-worker.js`, next to this file). */
export function startLoad(spec: LoadSpec): RunningLoad {
  const child = fork(join(__dirname, 'load-worker.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const result = new Promise<LoadResult>((resolve, reject) => {
    const timer = setTimeout(
      () => {
        child.kill('SIGKILL');
        reject(new Error(`load worker did not finish within ${spec.durationSeconds} s + slack`));
      },
      spec.durationSeconds * 1000 + WORKER_SLACK_MS,
    );
    const settle = (fn: () => void) => {
      clearTimeout(timer);
      markStarted();
      fn();
    };
    child.on('message', (message: FromWorker) => {
      if (message.type === 'started') markStarted();
      else if (message.type === 'result') settle(() => resolve(message.result));
      else settle(() => reject(new Error(`load worker failed: ${message.message}`)));
    });
    child.on('error', (error) => settle(() => reject(error)));
    child.on('exit', (code, signal) =>
      settle(() => reject(new Error(`load worker exited early (${signal ?? code})`))),
    );
  });
  // A result that already settled ignores the later `exit` rejection.
  result.catch(() => {});
  child.send({ type: 'run', spec } satisfies ToWorker);
  return { started, result };
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return startLoad(spec).result;
}
