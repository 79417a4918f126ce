import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** An OTLP attribute value as OTLP/JSON writes it (one of the fields is set). */
export interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}

export interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

/** One received span, flattened with its resource and instrumentation scope. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a trace's root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  scope: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{
      scope?: { name?: string };
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: OtlpAttribute[];
      }>;
    }>;
  }>;
}

export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;

function plain(value: OtlpValue): unknown {
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(plain);
  return value.stringValue ?? value.intValue ?? value.doubleValue ?? value.boolValue;
}

function attributeMap(attributes: OtlpAttribute[] = []): Record<string, unknown> {
  return Object.fromEntries(attributes.map(({ key, value }) => [key, plain(value)]));
}

/**
 * A collector's OTLP/HTTP traces endpoint on a free loopback port: it takes OTLP/JSON export
 * requests (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) at /v1/traces and keeps their spans.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** The raw request bodies, to search for what must never be exported. */
  readonly bodies: string[] = [];

  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      this.take(Buffer.concat(chunks).toString());
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  private port = 0;

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.port = (receiver.server.address() as AddressInfo).port;
    return receiver;
  }

  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private take(body: string): void {
    this.bodies.push(body);
    const request = JSON.parse(body) as ExportRequest;
    for (const resourceSpans of request.resourceSpans ?? []) {
      const resource = attributeMap(resourceSpans.resource?.attributes);
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          this.spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            kind: span.kind,
            scope: scopeSpans.scope?.name ?? '',
            attributes: attributeMap(span.attributes),
            resource,
          });
        }
      }
    }
  }

  /** The spans of one trace received so far. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  /** Resolves with the trace's spans once `complete` holds for them; throws after `limitMs`. */
  async waitForTrace(
    traceId: string,
    complete: (spans: ReceivedSpan[]) => boolean,
    limitMs = 30_000,
  ): Promise<ReceivedSpan[]> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const spans = this.trace(traceId);
      if (complete(spans)) return spans;
      if (Date.now() > deadline) {
        throw new Error(`trace ${traceId} incomplete: ${JSON.stringify(spans, null, 2)}`);
      }
      await sleep(50);
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
