import { BadRequestException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyError, FastifyReply, FastifyRequest, LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import { IncomingMessage, maxHeaderSize } from 'node:http';
import { Logger } from 'pino';
import { AppModule } from './app.module';
import { documentAuthModes, documentAuthorization } from './auth/auth.openapi';
import { PROTECTED_RESOURCE_METADATA_PATH } from './auth/oauth-resource-metadata.controller';
import { unreadableBody } from './common/body-encoding';
import { clientErrorHandler } from './common/client-error-handler';
import { drainOnClose, MAX_DRAIN_MS } from './common/http-drain';
import { inheritedKeys } from './common/inherited-keys';
import { securityHeaders } from './common/security-headers';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from './common/json-depth';
import { createRootLogger, PinoNestLogger } from './common/logger';
import { sendProblem } from './common/problem-details.filter';
import { ApiTag, describeTags, DOCS_PATH, setupSwagger } from './common/swagger';
import { RequestValidationException } from './common/common.errors';
import { AppConfig } from './config/app-config';
import { MetricsService } from './metrics/metrics.service';
import type { Tracing } from './tracing';

/** The groups of operations in the OpenAPI document, in the order Swagger UI shows them. */
const API_TAGS: ApiTag[] = [
  { name: 'todos', description: "The caller's own todos." },
  { name: 'profile', description: 'Who the bearer token says the caller is.' },
  { name: 'health', description: 'Liveness and readiness probes; no token needed.' },
  { name: 'organization', description: "The caller's active Better Auth organization." },
  { name: 'admin', description: 'Counts for operators (role admin); never user content.' },
];

/** Request bodies are capped at 64 KiB: a todo is far smaller, and the cap bounds memory. */
export const BODY_LIMIT_BYTES = 64 * 1024;

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Reuses a caller's X-Request-Id when it is safe to log; otherwise mints one. */
function requestId(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** One access-log line per request, at completion (Fastify's default logs two). */
class AccessLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    _error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    request.log.info(
      {
        method: request.method,
        // The path only: a query string may carry a credential a client put there by mistake.
        url: request.url.split('?', 1)[0],
        statusCode: reply.statusCode,
        ms: reply.elapsedTime,
      },
      'request completed',
    );
  }
}

/** How often Node looks for requests over their timeout: a quarter of it, from 250 ms to 5 s. */
function checkingInterval(requestTimeoutMs: number): number {
  return Math.min(5_000, Math.max(250, Math.floor(requestTimeoutMs / 4)));
}

/**
 * Fastify's `trustProxy` from TRUST_PROXY: a list of proxy addresses as is; a hop count as a
 * function trusting that many hops, since Fastify no longer takes a number (a hop count cannot
 * tell a proxy from a client that connects directly, so a list is the safer setting).
 */
function trustProxyOption(trustProxy: number | string[]) {
  if (Array.isArray(trustProxy)) return trustProxy;
  if (trustProxy === 0) return false;
  return (_address: string, hop: number) => hop < trustProxy;
}

export interface CreateAppOptions {
  /** Replaces the pino logger (tests capture logs with it). */
  logger?: Logger;
  /**
   * Builds the routes and the OpenAPI document without creating a provider: nothing connects to
   * the database or the key server. `npm run openapi` writes the committed document this way.
   */
  preview?: boolean;
  /** Tracing, when main.ts started it: log lines get the trace context, shutdown flushes spans. */
  tracing?: Tracing;
}

/** Builds the app exactly as `npm start` runs it; e2e tests call this too. */
export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  const tracing = options.tracing;
  const logger = options.logger ?? createRootLogger(config.logLevel, tracing?.logFields);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    logController: new AccessLogController({ requestIdLogLabel: 'requestId' }),
    genReqId: requestId,
    requestIdHeader: false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Slow clients (slowloris) may not hold a connection open forever.
    requestTimeout: config.http.requestTimeoutMs,
    http: {
      // Given to http.createServer too: Fastify sets requestTimeout on the server after creating
      // it, and Node then enforces it on headers only, so a client trickling its body was never
      // cut off (test/http-hardening.e2e-spec.ts).
      requestTimeout: config.http.requestTimeoutMs,
      // Node looks for expired requests only every 30 s by default, so a slow client could last
      // twice the timeout; checking more often costs one walk over the open connections.
      connectionsCheckingInterval: checkingInterval(config.http.requestTimeoutMs),
    },
    connectionTimeout: 60_000,
    // Longer than common load balancers' idle timeout (60 s), so they close first.
    keepAliveTimeout: 72_000,
    // A database that stops answering (frozen, partitioned) would otherwise hold a request for
    // ever: queries on pooled connections have no timeout of their own. The answer is a 503.
    handlerTimeout: config.http.handlerTimeoutMs,
    // Path parameters as long as Node lets a request line be: each route judges its own (an :id
    // that is not a UUID is the same 400 at any length), instead of the router answering a long
    // one with its own 414. The router's limit guards regex parameters, which no route has.
    routerOptions: { maxParamLength: maxHeaderSize },
    trustProxy: trustProxyOption(config.http.trustProxy),
    // Errors the router raises before any route runs (a malformed percent-encoding, say) are
    // answered as problem+json like every other error.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) =>
      sendProblem(error, request, reply),
    // Off: during the drain, drainOnClose serves what still arrives on open connections (a 503
    // there would reach a proxy's client as a failure) and closes each connection after it.
    return503OnClosing: false,
    clientErrorHandler,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
    bodyParser: false,
    preview: options.preview ?? false,
  });
  await configureApp(app, config);
  if (tracing) flushSpansOnClose(app, tracing);
  if (!options.preview) await app.init();
  return app;
}

/**
 * Exports the last spans once the server has closed (Fastify runs hooks added before it is ready
 * after its own, which waits for the requests in flight), within a bounded time.
 */
function flushSpansOnClose(app: NestFastifyApplication, tracing: Tracing): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onClose', async () => {
    if (!(await tracing.shutdown())) {
      fastify.log.warn('shutdown: spans not exported within the limit were dropped');
    }
  });
}

/** What every app instance gets: prefix, security headers, CORS, errors, docs, shutdown. */
async function configureApp(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();

  app.setGlobalPrefix('api', { exclude: [PROTECTED_RESOURCE_METADATA_PATH] });
  // On SIGTERM/SIGINT: stop accepting, finish the requests in flight, run the shutdown hooks (the
  // pool, the embedded database), then exit 0. Without useProcessExit Nest re-raises the signal,
  // and the process that shut down cleanly reports "killed by SIGTERM".
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });

  // The headers every answer gets (errors and 404s too), in one hook: the request id, and the
  // security headers, computed once.
  const { api, documents } = await securityHeaders();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers(request.url.startsWith(DOCS_PATH) ? documents : api);
    void reply.header('x-request-id', request.id);
    done();
  });
  app.get(MetricsService).observeRequests(fastify);
  // In-flight requests get as long to finish as a request gets to arrive, within MAX_DRAIN_MS.
  drainOnClose(fastify, Math.min(config.http.requestTimeoutMs, MAX_DRAIN_MS));
  // A body in another charset or with a content coding is refused on its headers, before it is read.
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    const refusal = unreadableBody(request.headers);
    if (refusal) done(refusal);
    else done(null, payload);
  });
  // JSON only: text/plain (Fastify's other built-in parser) is refused with 415.
  fastify.removeContentTypeParser('text/plain');
  // Fastify's own JSON parser (with its prototype-poisoning checks), behind a nesting limit.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonNestsDeeperThan(body as string, MAX_JSON_DEPTH)) {
      done(new BadRequestException(`The JSON body nests deeper than ${MAX_JSON_DEPTH} levels.`));
      return;
    }
    void parseJson(request, body as string, done);
  });
  // Unknown fields are refused (mass assignment), including those the ValidationPipe cannot see.
  fastify.addHook('preValidation', (request, _reply, done) => {
    const fields = [...inheritedKeys(request.query), ...inheritedKeys(request.body)];
    if (fields.length === 0) return done();
    done(
      new RequestValidationException(
        fields.map((field) => ({ field, message: `property ${field} should not exist` })),
      ),
    );
  });

  const corsOrigins = new Set(config.http.corsOrigins);
  app.enableCors({
    // A function, not the list: with a list, @fastify/cors still sends the credentials and
    // exposed-headers headers (and answers preflights) for origins it does not allow.
    origin: (origin, callback) => callback(null, origin !== undefined && corsOrigins.has(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'X-Request-Id'],
    exposedHeaders: ['ETag', 'Location', 'Retry-After', 'WWW-Authenticate', 'X-Request-Id'],
    maxAge: 600,
  });
  setupSwagger(app, documentAuthModes, describeTags(API_TAGS), documentAuthorization(config.auth));
}
