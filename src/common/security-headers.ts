import helmet, { FastifyHelmetOptions } from '@fastify/helmet';
import Fastify from 'fastify';

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

/**
 * Helmet headers that only act on an HTML document a browser renders (DNS prefetching of its
 * links, its agent cluster) or on browsers and plug-ins long gone (IE's download prompt, Flash
 * and Acrobat cross-domain policies, the retired XSS auditor that `X-XSS-Protection: 0` turns
 * off). The HTML here is Swagger UI under /docs, which keeps them; on a JSON answer they do
 * nothing but add bytes to every response.
 */
const HTML_ONLY = new Set([
  'origin-agent-cluster',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
]);

/** What Fastify itself puts on the probe's response. */
const NOT_FROM_HELMET = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
]);

export interface SecurityHeaders {
  /** For Swagger UI and its assets: every header helmet sets. */
  readonly documents: Readonly<Record<string, string>>;
  /**
   * For every other answer (JSON, problem+json, 404s): the ones that protect a response a
   * browser may be tricked into loading, framing or sniffing (CSP, HSTS, nosniff, framing,
   * referrer and cross-origin policies).
   */
  readonly api: Readonly<Record<string, string>>;
}

/**
 * The headers @fastify/helmet sets with HELMET_OPTIONS, computed once. The plugin builds helmet's
 * middleware anew on every request, parsing the CSP each time, a cost every request would pay.
 * With no per-request nonces the headers never vary, so the plugin runs once, on a probe
 * instance, and every reply copies the result (onRequest, like the plugin: errors and 404s get
 * them too).
 */
export async function securityHeaders(): Promise<SecurityHeaders> {
  const probe = Fastify();
  await probe.register(helmet, HELMET_OPTIONS);
  probe.get('/', () => '');
  const response = await probe.inject({ method: 'GET', url: '/' });
  await probe.close();
  const documents: Record<string, string> = {};
  const api: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (NOT_FROM_HELMET.has(name) || typeof value !== 'string') continue;
    documents[name] = value;
    if (!HTML_ONLY.has(name)) api[name] = value;
  }
  // Fail closed: a helmet upgrade that changed how it sets headers must not drop them silently.
  if (!api['content-security-policy'] || !api['x-content-type-options']) {
    throw new Error('@fastify/helmet set no security headers on the probe response');
  }
  return { documents, api };
}
