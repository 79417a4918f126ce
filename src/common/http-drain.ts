import { FastifyInstance } from 'fastify';

/** The longest shutdown waits for requests in flight, whatever the request timeout. */
export const MAX_DRAIN_MS = 10_000;

/** The longest idle keep-alive connections are kept open once the drain begins. */
export const MAX_IDLE_GRACE_MS = 2_000;

/**
 * Makes Fastify's close (called by Nest on SIGTERM, after which the pool and the embedded database
 * are stopped) lose no request and finish on its own.
 *
 * Closing an idle keep-alive connection races with its client: a proxy may have just sent a
 * request on it, which then meets a reset, and a proxy does not retry a POST it has sent. Node's
 * server.close() closes idle connections at once, so that is put off for a grace period in which
 * the proxy either sends on them (and is answered) or moves on to another instance once this one
 * refuses new connections. So, once closing:
 * - the server stops listening; every request that still arrives on an open connection is served
 *   as usual, and its response tells the client that the connection ends with it
 *   (`Connection: close`), unless pipelined requests still wait on that connection (the last of
 *   them says it instead: closing earlier would drop their answers);
 * - idle connections are left open for the grace period, then closed every 100 ms;
 * - after `limitMs`, whatever is still open is closed, so a slow or stuck client cannot hold the
 *   process past an orchestrator's grace period (Node stops timing out slow requests at close).
 */
export function drainOnClose(fastify: FastifyInstance, limitMs: number): void {
  // Whether a response is the last one its connection owes is decided by arrival order, not by
  // how many are in flight: pipelined requests finish in any order, and a count taken when one of
  // them is sent may still include a sibling whose answer is already written. Each socket's
  // latest request is kept (one map update per request, no entry per request).
  const latestOnSocket = new WeakMap<object, object>();
  let closing = false;

  fastify.addHook('onRequest', (request, _reply, done) => {
    latestOnSocket.set(request.raw.socket, request.raw);
    done();
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (!closing) return done(null, payload);
    if (latestOnSocket.get(request.raw.socket) === request.raw) {
      void reply.header('connection', 'close');
    } else {
      // Fastify marks every request that arrives while closing with `Connection: close`; on a
      // pipelined one that is not the last, Node would end the connection with its answer and
      // drop the answers of those behind it, although they were served.
      reply.raw.removeHeader('connection');
    }
    done(null, payload);
  });
  fastify.addHook('preClose', (done) => {
    closing = true;
    const server = fastify.server;
    const idleGraceMs = Math.min(MAX_IDLE_GRACE_MS, Math.floor(limitMs / 4));
    // server.close(), called right after this hook, would close the idle connections at once:
    // an own no-op shadows the method until the grace period ends.
    server.closeIdleConnections = () => undefined;
    let sweep: NodeJS.Timeout | undefined;
    const graceOver = setTimeout(() => {
      Reflect.deleteProperty(server, 'closeIdleConnections');
      server.closeIdleConnections();
      sweep = setInterval(() => server.closeIdleConnections(), 100);
      sweep.unref();
    }, idleGraceMs);
    const deadline = setTimeout(() => {
      fastify.log.warn({ limitMs }, 'shutdown: closing connections still open after the limit');
      server.closeAllConnections();
    }, limitMs);
    graceOver.unref();
    deadline.unref();
    server.once('close', () => {
      clearTimeout(graceOver);
      clearInterval(sweep);
      clearTimeout(deadline);
    });
    done();
  });
}
