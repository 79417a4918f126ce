/** Messages between the benchmark and its load-generator child processes (Node IPC). */

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadSpec {
  /** The app's origin, e.g. http://127.0.0.1:4321. */
  url: string;
  connections: number;
  durationSeconds: number;
  /** Open-loop rate for all connections together; unset means as fast as the app answers. */
  overallRate?: number;
  /** Rotated through in order by every connection. */
  requests: LoadRequest[];
}

export interface LoadResult {
  connections: number;
  durationSeconds: number;
  /** Completed responses of any status. */
  responses: number;
  requestsPerSecond: number;
  /** Latency of 2xx responses, in milliseconds (exact percentiles, not autocannon's 1 ms buckets). */
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

export type ToWorker = { type: 'run'; spec: LoadSpec };

export type FromWorker =
  { type: 'started' } | { type: 'result'; result: LoadResult } | { type: 'error'; message: string };
