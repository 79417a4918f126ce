import { FastifyInstance } from 'fastify';
import { RetryableUnavailableException } from './common.errors';

/** The longest shutdown waits for requests in flight, whatever the request timeout. */
export const MAX_DRAIN_MS = 10_000;

/**
 * Makes Fastify's close (called by Nest on SIGTERM, after which the pool and the embedded database
 * are stopped) finish on its own. Node's server.close() stops listening and closes the idle
 * keep-alive connections once; a connection that was busy then stays open after its last
 * response until the client hangs up or keepAliveTimeout (72 s) passes, and Node stops timing
 * out slow requests at close. So, once closing:
 * - a request that arrives on a connection still open gets 503 with Retry-After, as a problem
 *   like every other error (Fastify's own return503OnClosing answers plain JSON);
 * - a response tells its client the connection ends with it (`Connection: close`), unless
 *   pipelined requests still wait on that connection (the last of them says it instead: closing
 *   earlier would drop their answers);
 * - connections that become idle are closed every 100 ms;
 * - after `limitMs`, whatever is still open is closed, so a slow or stuck client cannot hold the
 *   process past an orchestrator's grace period.
 */
export function drainOnClose(fastify: FastifyInstance, limitMs: number): void {
  const inFlight = new WeakMap<object, number>();
  const count = (socket: object, delta: number) =>
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + delta);
  let closing = false;

  fastify.addHook('onRequest', (request, _reply, done) => {
    count(request.raw.socket, 1);
    done();
  });
  // After the onRequest hooks, so the 503 carries the request id, security and CORS headers;
  // before the body is read, which is not needed to refuse.
  fastify.addHook('preParsing', (_request, _reply, _payload, done) => {
    if (!closing) return done();
    done(new RetryableUnavailableException('The server is shutting down; retry the request.', 1));
  });
  fastify.addHook('onResponse', (request, _reply, done) => {
    count(request.raw.socket, -1);
    done();
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (closing && (inFlight.get(request.raw.socket) ?? 0) <= 1) {
      void reply.header('connection', 'close');
    }
    done(null, payload);
  });
  fastify.addHook('preClose', (done) => {
    closing = true;
    const server = fastify.server;
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const deadline = setTimeout(() => {
      fastify.log.warn({ limitMs }, 'shutdown: closing connections still open after the limit');
      server.closeAllConnections();
    }, limitMs);
    sweep.unref();
    deadline.unref();
    server.once('close', () => {
      clearInterval(sweep);
      clearTimeout(deadline);
    });
    done();
  });
}
