import autocannon from 'autocannon';
import { fork } from 'node:child_process';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Open-loop rate for all connections together; unset means as fast as the server answers. */
  overallRate?: number;
  /** Taken in turn, whichever connection sends next. */
  requests: LoadRequest[];
}

export interface LoadResult {
  requestsPerSecond: number;
  /** Latency of 2xx responses in ms, exact (every response is recorded, not 1 ms buckets). */
  p50: number;
  p99: number;
  /** Responses that were not 2xx, plus connection errors and timeouts. */
  bad: number;
  statusCodes: Record<string, number>;
}

export interface RunningLoad {
  started: Promise<void>;
  result: Promise<LoadResult>;
}

/**
 * Runs autocannon in a child process (this same file), so the load generator never shares an
 * event loop with the issuer, the orchestrator or the server it measures. The child inherits
 * the benchmark's CPU affinity.
 */
export function startLoad(spec: LoadSpec): RunningLoad {
  const child = fork(__filename, ['--worker'], { serialization: 'advanced' });
  let markStarted = () => {};
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const result = new Promise<LoadResult>((resolve, reject) => {
    child.on('message', (message: { started?: true; result?: LoadResult; error?: string }) => {
      if (message.started) return markStarted();
      markStarted();
      if (message.result) resolve(message.result);
      else reject(new Error(`load worker: ${message.error}`));
    });
    child.once('exit', (code) => {
      markStarted();
      reject(new Error(`load worker exited (${code})`));
    });
  });
  child.send(spec);
  return { started, result };
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return startLoad(spec).result;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function run(spec: LoadSpec): Promise<LoadResult> {
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  // One cursor for all connections: consecutive requests go to different users, as concurrent
  // clients would, instead of every connection walking the list in lockstep.
  let next = 0;
  const setupRequest = (request: autocannon.Request) => {
    const chosen = spec.requests[next];
    next = (next + 1) % spec.requests.length;
    return Object.assign(request, chosen, { headers: { ...request.headers, ...chosen.headers } });
  };
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSeconds,
        overallRate: spec.overallRate,
        timeout: 10,
        requests: [{ setupRequest }],
      },
      (error, result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const sorted = latencies.slice(0, count).sort();
        const statusCodes: Record<string, number> = {};
        let responses = 0;
        for (const [code, { count: n = 0 }] of Object.entries(result.statusCodeStats ?? {})) {
          statusCodes[code] = n;
          responses += n;
        }
        const round = (ms: number) => Math.round(ms * 100) / 100;
        resolve({
          requestsPerSecond: Math.round(responses / result.duration),
          p50: round(percentile(sorted, 50)),
          p99: round(percentile(sorted, 99)),
          bad: result.non2xx + result.errors + result.timeouts,
          statusCodes,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode >= 300) return;
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = responseTime;
    });
  });
}

if (process.argv[2] === '--worker') {
  process.once('message', (spec: LoadSpec) => {
    process.send!({ started: true });
    run(spec).then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (error: unknown) => process.send!({ error: String(error) }, () => process.exit(1)),
    );
  });
  // An orphaned worker (the benchmark died) must not keep loading the server.
  process.on('disconnect', () => process.exit(2));
}
