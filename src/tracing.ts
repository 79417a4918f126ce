import { FastifyOtelInstrumentation } from '@fastify/otel';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
} from '@opentelemetry/semantic-conventions';
import { IncomingMessage } from 'node:http';
import { AppConfig } from './config/app-config';

/** The service name spans carry unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) names one. */
export const DEFAULT_SERVICE_NAME = 'todo-api';

/** The longest shutdown waits for the last spans to be exported. */
export const MAX_FLUSH_MS = 5_000;

/** The trace context of a log line, under the names OpenTelemetry's log correlation uses. */
export interface TraceLogFields {
  trace_id?: string;
  span_id?: string;
  trace_flags?: string;
}

export interface Tracing {
  /** The active span's ids, for every log line written while it is active (a pino mixin). */
  logFields: () => TraceLogFields;
  /**
   * Exports the spans still buffered, within MAX_FLUSH_MS; resolves false when that ran out or
   * the export failed (the collector is down), never rejects: a shutdown goes on without them.
   */
  shutdown: () => Promise<boolean>;
}

/**
 * Starts the OpenTelemetry SDK: spans for incoming HTTP requests, Fastify's route handlers and
 * PostgreSQL queries, sent over OTLP/HTTP. The SDK reads the standard OTEL_* variables itself
 * (endpoint, protocol, headers, sampler, batch delays, resource attributes). Only traces are
 * exported: metrics are Prometheus's and logs go to stdout, so the SDK's metric and log
 * exporters are left off whatever OTEL_METRICS_EXPORTER and OTEL_LOGS_EXPORTER say.
 *
 * Call it before anything loads http, Fastify or pg: the instrumentations patch them as they load.
 */
export function startTracing(config: AppConfig): Tracing {
  const metricsPort = config.metrics.port;
  const sdk = new NodeSDK({
    // Merged under what the environment says, so OTEL_SERVICE_NAME still wins.
    resource: defaultResource().merge(
      resourceFromAttributes({ [ATTR_SERVICE_NAME]: DEFAULT_SERVICE_NAME }),
    ),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Prometheus's scrapes are not API traffic: a trace each would only bury the requests.
        ignoreIncomingRequestHook: (request) =>
          metricsPort !== 0 && request.socket.localPort === metricsPort,
        // A query string is kept out of spans as it is kept out of the access log: a client may
        // put a credential there by mistake. Headers are never recorded (no header capture is set).
        requestHook: (span, request) => {
          if (request instanceof IncomingMessage && request.url?.includes('?')) {
            span.setAttribute(ATTR_URL_QUERY, 'REDACTED');
          }
        },
      }),
      // Registered on every Fastify instance as it is created. Hook spans are off: one span per
      // lifecycle hook would multiply the spans of every request for little insight.
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        instrumentHooks: false,
        requestHook: (span, request) => {
          span.setAttribute(ATTR_URL_PATH, request.url.split('?', 1)[0]);
        },
      }),
      // Only queries made for a request: the rate limiter's background flushes would otherwise
      // each start a trace of their own.
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();

  return {
    logFields: () => {
      const spanContext = trace.getActiveSpan()?.spanContext();
      if (!spanContext || !isSpanContextValid(spanContext)) return {};
      return {
        trace_id: spanContext.traceId,
        span_id: spanContext.spanId,
        trace_flags: `0${spanContext.traceFlags.toString(16)}`,
      };
    },
    shutdown: async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), MAX_FLUSH_MS);
      });
      try {
        return await Promise.race([
          sdk.shutdown().then(
            () => true,
            () => false,
          ),
          timeout,
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
