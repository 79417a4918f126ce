import autocannon from 'autocannon';
import { FromWorker, LoadRequest, LoadResult, LoadSpec, ToWorker } from './load-protocol';

/**
 * Runs one autocannon load in its own process, so the load generator does not share an event
 * loop with the issuer, the orchestrator or the app. Started with `fork()` by the benchmark.
 */
function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, () => resolve());
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

/** Grows by doubling; one slot per 2xx response (a few MB for the longest default run). */
class Samples {
  private values = new Float64Array(1 << 16);
  private count = 0;

  add(value: number): void {
    if (this.count === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.count++] = value;
  }

  sorted(): Float64Array {
    return this.values.slice(0, this.count).sort();
  }
}

/**
 * One shared cursor for all connections: consecutive requests, whichever connection sends them,
 * take the next request of the list (the next user). With autocannon's own list rotation every
 * connection would start at the first user and walk the list in lockstep, so each token's first
 * use would arrive as 32 or 128 simultaneous cache misses, which no real client population does.
 * Building each request costs the load generator a microsecond or two, the same in every scenario.
 */
function rotate(requests: LoadRequest[]) {
  let next = 0;
  return (request: autocannon.Request): autocannon.Request => {
    const chosen = requests[next];
    next = next + 1 === requests.length ? 0 : next + 1;
    request.method = chosen.method;
    request.path = chosen.path;
    request.headers = { ...request.headers, ...chosen.headers };
    request.body = chosen.body;
    return request;
  };
}

function run(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const latencies = new Samples();
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSeconds,
        overallRate: spec.overallRate,
        timeout: 10,
        requests: [{ setupRequest: rotate(spec.requests) }],
      },
      (error, result) => {
        if (error) return reject(error);
        const sorted = latencies.sorted();
        const statusCodes: Record<string, number> = {};
        for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
          statusCodes[code] = count;
        }
        const responses = Object.values(statusCodes).reduce((sum, n) => sum + n, 0);
        const round = (ms: number) => Math.round(ms * 100) / 100;
        resolve({
          connections: spec.connections,
          durationSeconds: result.duration,
          responses,
          requestsPerSecond: Math.round(responses / result.duration),
          latencyMs: {
            p50: round(percentile(sorted, 50)),
            p90: round(percentile(sorted, 90)),
            p99: round(percentile(sorted, 99)),
            max: round(sorted.length ? sorted[sorted.length - 1] : 0),
            mean: round(sorted.length ? sorted.reduce((s, v) => s + v, 0) / sorted.length : 0),
          },
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodes,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.add(responseTime);
    });
  });
}

process.once('message', (message: ToWorker) => {
  void (async () => {
    try {
      await send({ type: 'started' });
      const result = await run(message.spec);
      await send({ type: 'result', result });
      process.exit(0);
    } catch (error) {
      await send({
        type: 'error',
        message: error instanceof Error ? error.message : String(error),
      });
      process.exit(1);
    }
  })();
});

// An orphaned worker (the benchmark died) must not keep hammering the app.
process.on('disconnect', () => process.exit(2));
