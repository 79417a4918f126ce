import { Injectable } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';
import { AppConfigService } from '../config/app-config.service';

/** Every metric of this service starts with it, Node's runtime metrics included. */
export const METRIC_PREFIX = 'todo_api_';

/**
 * prom-client's default metrics include three gauges named `…_total`, a suffix Prometheus keeps
 * for counters (promtool refuses them); each has a twin without the suffix, which stays.
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Seconds; most answers here take a millisecond or two, a slow database tens of them. */
const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** Label for requests that matched no route: the raw path would make the label set unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

type Named<T> = Omit<T, 'name' | 'registers'> & { name: string };

/**
 * Owns this app's metric registry. Each app gets its own (never prom-client's global default
 * registry), so several apps in one process, as in the tests, keep separate counts. Features
 * register their collectors here (`auth.metrics.ts`, `database.metrics.ts`, …) without knowing
 * about each other; names get the `todo_api_` prefix. Labels must come from small fixed sets:
 * never a user id, a token or a raw path.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  /** False when METRICS_PORT is 0: nothing is served, and per-request timing is not installed. */
  readonly enabled: boolean;

  constructor(config: AppConfigService) {
    this.enabled = config.metrics.port !== 0;
    if (this.enabled) {
      collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
      for (const name of MISNAMED_DEFAULT_GAUGES) {
        this.registry.removeSingleMetric(METRIC_PREFIX + name);
      }
    }
  }

  counter<L extends string>(config: Named<CounterConfiguration<L>>): Counter<L> {
    return new Counter<L>({
      ...config,
      name: METRIC_PREFIX + config.name,
      registers: [this.registry],
    });
  }

  gauge<L extends string>(config: Named<GaugeConfiguration<L>>): Gauge<L> {
    return new Gauge<L>({
      ...config,
      name: METRIC_PREFIX + config.name,
      registers: [this.registry],
    });
  }

  /** An unlabelled gauge whose value is read at each scrape. */
  sampledGauge(
    config: { name: string; help: string },
    read: () => number | Promise<number>,
  ): Gauge {
    return this.gauge({
      ...config,
      async collect() {
        this.set(await read());
      },
    });
  }

  histogram<L extends string>(config: Named<HistogramConfiguration<L>>): Histogram<L> {
    return new Histogram<L>({
      ...config,
      name: METRIC_PREFIX + config.name,
      registers: [this.registry],
    });
  }

  /** The Prometheus text exposition of every metric. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Times every request Fastify answers, by route template (`/api/todos/:id`), method and status
   * class. Called while the app is configured, before its routes exist; a no-op when metrics
   * are off, so that turning them off also removes their per-request cost.
   */
  observeRequests(fastify: FastifyInstance): void {
    if (!this.enabled) return;
    const duration = this.histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from the start of a request to its answer, by route template, method and status class.',
      labelNames: ['method', 'route', 'status_class'] as const,
      buckets: HTTP_DURATION_BUCKETS,
    });
    fastify.addHook('onResponse', (request, reply, done) => {
      duration.observe(
        {
          // Node's HTTP parser admits only the methods it knows, so this set is bounded too.
          method: request.method,
          route: request.routeOptions.url ?? UNMATCHED_ROUTE,
          status_class: `${Math.floor(reply.statusCode / 100)}xx`,
        },
        reply.elapsedTime / 1000,
      );
      done();
    });
  }
}
