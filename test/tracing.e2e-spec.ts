import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess } from './support/app-process';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { freePort } from './support/free-port';
import { Reply, request } from './support/http';
import { OtlpReceiver, ReceivedSpan, SPAN_KIND } from './support/otlp-receiver';
import { testDatabaseUrl } from './support/test-env';

/**
 * OpenTelemetry traces, on the built app as `npm start` runs it, exporting over OTLP/HTTP to a
 * receiver this suite runs: one request's spans arrive with their parent chain, carry no
 * credential, and share their trace id with the request's log lines; shutdown exports what is
 * still buffered; and without an OTLP endpoint no OpenTelemetry module is loaded at all.
 */

jest.setTimeout(120_000);

const HTTP_SCOPE = '@opentelemetry/instrumentation-http';
const FASTIFY_SCOPE = '@fastify/otel';
const PG_SCOPE = '@opentelemetry/instrumentation-pg';

/** The span's ancestors, nearest first, as far as they were received. */
function ancestors(span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan[] {
  const chain: ReceivedSpan[] = [];
  let current = span;
  for (;;) {
    const parent = spans.find((candidate) => candidate.spanId === current.parentSpanId);
    if (!parent) return chain;
    chain.push(parent);
    current = parent;
  }
}

const serverSpan = (spans: ReceivedSpan[]) =>
  spans.find((span) => span.scope === HTTP_SCOPE && span.kind === SPAN_KIND.SERVER);
const handlerSpan = (spans: ReceivedSpan[]) =>
  spans.find((span) => span.scope === FASTIFY_SCOPE && span.name.startsWith('handler'));
const pgSpans = (spans: ReceivedSpan[]) =>
  spans.filter((span) => span.scope === PG_SCOPE && span.kind === SPAN_KIND.CLIENT);

/** A trace holds the request's server, handler and query spans. */
const whole = (spans: ReceivedSpan[]) =>
  serverSpan(spans) !== undefined &&
  handlerSpan(spans) !== undefined &&
  pgSpans(spans).some((span) => String(span.attributes['db.query.text']).includes('FROM todos'));

/**
 * The trace id the app logged for the request that got this reply, once its access-log line (the
 * last it writes) has arrived; every line of the request carries the same.
 */
async function loggedTraceId(app: AppProcess, reply: Reply): Promise<string> {
  await app.until(
    () => app.logs.forRequest(reply, { msg: 'request completed' }).length > 0,
    'log the request',
  );
  const lines = app.logs.forRequest(reply);
  const traceIds = new Set(lines.map((line) => line.trace_id));
  expect(traceIds.size).toBe(1);
  const [traceId] = traceIds;
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  return traceId as string;
}

describe('OpenTelemetry traces', () => {
  let issuer: BetterAuthIssuer;
  let user: IssuedUser;
  let receiver: OtlpReceiver;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    user = await issuer.createUser();
    receiver = await OtlpReceiver.start();
  });

  afterEach(() => {
    app?.kill();
    app = undefined;
  });

  afterAll(async () => {
    await receiver?.close();
    await issuer?.close();
  });

  function spawn(env: Record<string, string> = {}): Promise<AppProcess> {
    return AppProcess.spawn({
      DATABASE_URL: testDatabaseUrl(),
      MIGRATIONS_RUN: 'false',
      BETTER_AUTH_URL: issuer.url,
      ...env,
    });
  }

  function traced(env: Record<string, string> = {}): Promise<AppProcess> {
    return spawn({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      ...env,
    });
  }

  it("exports a request's server, handler and PostgreSQL spans in one trace, and logs its trace id", async () => {
    const metricsPort = await freePort();
    app = await traced({ METRICS_PORT: String(metricsPort) });
    await app.ready();
    // A scrape before the request: its span, were there one, would be exported before the request's.
    expect((await request(`http://127.0.0.1:${metricsPort}`, '/metrics')).status).toBe(200);
    const reply = await app.http.as(user.jwt).get('/api/todos?limit=5');
    expect(reply.status).toBe(200);

    const traceId = await loggedTraceId(app, reply);
    const spans = await receiver.waitForTrace(traceId, whole);
    const server = serverSpan(spans)!;
    const handler = handlerSpan(spans)!;

    // The server span is the trace's root (the client sent no traceparent).
    expect(server.parentSpanId).toBe('');
    expect(server.name).toBe('GET /api/todos');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/api/todos',
      'http.response.status_code': 200,
      'url.path': '/api/todos',
      'url.query': 'REDACTED',
    });
    expect(server.resource['service.name']).toBe('todo-api');
    expect(handler.name).toBe('handler - TodosController.list');
    expect(ancestors(handler, spans)).toContainEqual(server);
    // The pool checkout and the query run inside the controller's handler, below the server span.
    for (const query of pgSpans(spans)) {
      const chain = ancestors(query, spans);
      expect(chain).toContainEqual(handler);
      expect(chain.at(-1)).toEqual(server);
    }
    // Fastify's request span records the path, without the query string either.
    const fastifyRequest = spans.find(
      (span) => span.scope === FASTIFY_SCOPE && span.name === 'request',
    );
    expect(fastifyRequest?.attributes['url.path']).toBe('/api/todos');
    // Prometheus's scrapes start no trace.
    expect(receiver.spans.filter((span) => span.attributes['url.path'] === '/metrics')).toEqual([]);
    // The access-log line is written at the end of the request, inside the same trace.
    expect(app.logs.forRequest(reply, { msg: 'request completed' })).toEqual([
      expect.objectContaining({
        trace_id: traceId,
        span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
      }),
    ]);
  });

  it('never exports the Authorization header or the token', async () => {
    app = await traced();
    await app.ready();
    const reply = await app.http.as(user.jwt).get('/api/profile');
    expect(reply.status).toBe(200);
    await receiver.waitForTrace(
      await loggedTraceId(app, reply),
      (spans) => serverSpan(spans) !== undefined,
    );

    const [, payload, signature] = user.jwt.split('.');
    const exported = receiver.bodies.join('\n');
    expect(exported).not.toContain(payload);
    expect(exported).not.toContain(signature);
    expect(exported.toLowerCase()).not.toContain('bearer');
    expect(exported.toLowerCase()).not.toContain('authorization');
  });

  it('continues the trace a caller sends in traceparent', async () => {
    app = await traced();
    await app.ready();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const reply = await app.http.as(user.jwt).get('/api/todos', {
      headers: { traceparent: `00-${traceId}-${parentId}-01` },
    });
    expect(reply.status).toBe(200);
    expect(await loggedTraceId(app, reply)).toBe(traceId);
    const spans = await receiver.waitForTrace(traceId, whole);
    expect(serverSpan(spans)!.parentSpanId).toBe(parentId);
  });

  it('exports the spans still buffered when it shuts down', async () => {
    // Spans would wait a minute for their batch: only the shutdown can send them in time.
    app = await traced({ OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_SERVICE_NAME: 'todo-api-flush' });
    await app.ready();
    const reply = await app.http.as(user.jwt).get('/api/todos');
    expect(reply.status).toBe(200);
    const traceId = await loggedTraceId(app, reply);

    expect(await app.stop()).toEqual({ code: 0, signal: null });
    const spans = receiver.trace(traceId);
    expect(whole(spans)).toBe(true);
    expect(serverSpan(spans)!.resource['service.name']).toBe('todo-api-flush');
  });

  describe('which modules the process loads', () => {
    let probeDir: string;
    let probe: string;

    beforeAll(() => {
      // Preloaded into the app's process (not part of the product): at exit, it prints the
      // OpenTelemetry modules that were loaded, as one JSON line among the app's logs. The API
      // package is left out: prom-client always loads it (for exemplars), and without an SDK it
      // is a no-op.
      probeDir = mkdtempSync(join(tmpdir(), 'otel-probe-'));
      probe = join(probeDir, 'probe.cjs');
      writeFileSync(
        probe,
        `process.on('exit', () => {
          const loaded = Object.keys(require.cache).filter((file) => /[\\\\/]@(opentelemetry[\\\\/](?!api[\\\\/])|fastify[\\\\/]otel[\\\\/])/.test(file));
          process.stdout.write(JSON.stringify({ level: 'probe', loaded }) + '\\n');
        });\n`,
      );
    });

    afterAll(() => rmSync(probeDir, { recursive: true, force: true }));

    async function loadedModules(env: Record<string, string>): Promise<string[]> {
      const running = await spawn({ NODE_OPTIONS: `--require ${probe}`, ...env });
      app = running;
      await running.ready();
      expect(await running.http.as(user.jwt).get('/api/todos')).toMatchObject({ status: 200 });
      expect(await running.stop()).toEqual({ code: 0, signal: null });
      const [line] = running.logs.find({ level: 'probe' });
      return line.loaded as string[];
    }

    it('loads no OpenTelemetry module without an OTLP endpoint', async () => {
      expect(await loadedModules({})).toEqual([]);
    });

    it('loads the SDK when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT alone is set', async () => {
      const loaded = await loadedModules({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      });
      expect(loaded.some((file) => file.includes('@opentelemetry/sdk-node'))).toBe(true);
    });
  });
});
