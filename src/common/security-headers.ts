import helmet, { FastifyHelmetOptions } from '@fastify/helmet';
import Fastify, { FastifyInstance } from 'fastify';

/** Security headers: helmet's defaults, with a CSP that lets Swagger UI render. */
const HELMET_OPTIONS: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      // Swagger UI injects inline styles and data: images.
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      // Off: Swagger UI is the only HTML here and loads only same-origin assets, which are
      // https already when the page is. Over plain http (docker compose, a LAN host name) the
      // upgrade pointed them at https and left /docs blank; HSTS covers https deployments.
      upgradeInsecureRequests: null,
    },
  },
};

/** What Fastify itself puts on the probe's response. */
const NOT_FROM_HELMET = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
]);

/**
 * The headers @fastify/helmet sets with HELMET_OPTIONS, computed once. The plugin builds helmet's
 * middleware anew on every request, parsing the CSP each time, a cost every request would pay.
 * With no per-request nonces the headers never vary, so the plugin runs once, on a probe
 * instance, and every reply copies the result (onRequest, like the plugin: errors and 404s get
 * them too).
 */
async function securityHeaders(options: FastifyHelmetOptions): Promise<Record<string, string>> {
  const probe = Fastify();
  await probe.register(helmet, options);
  probe.get('/', () => '');
  const response = await probe.inject({ method: 'GET', url: '/' });
  await probe.close();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (!NOT_FROM_HELMET.has(name) && typeof value === 'string') headers[name] = value;
  }
  // Fail closed: a helmet upgrade that changed how it sets headers must not drop them silently.
  if (!headers['content-security-policy'] || !headers['x-content-type-options']) {
    throw new Error('@fastify/helmet set no security headers on the probe response');
  }
  return headers;
}

/** Every response (errors and 404s included) carries the security headers. */
export async function addSecurityHeaders(fastify: FastifyInstance): Promise<void> {
  const headers = await securityHeaders(HELMET_OPTIONS);
  fastify.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers);
    done();
  });
}
