import { Agent, request as httpRequest } from 'node:http';
import { connect, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The loopback address this test file's requests come from. The rate limits count per client
 * address in counters shared through the test database; a random 127.x.y.z keeps one suite's
 * floods of requests out of the bucket of the suites running beside it.
 */
export const CLIENT_ADDRESS = `127.${octet()}.${octet()}.${1 + octet(253)}`;

function octet(max = 255): number {
  return Math.floor(Math.random() * (max + 1));
}

export interface RequestOptions {
  /** GET unless given. */
  method?: string;
  /** Sent as `Authorization: Bearer <token>` (even ''); undefined sends no Authorization line. */
  token?: string;
  /** The exact Authorization value (another scheme, odd spacing), instead of `token`. */
  authorization?: string;
  /**
   * Header lines. An array is sent exactly in this order and a name may repeat (duplicated
   * Authorization lines, odd spacing), which fetch would merge or normalise.
   */
  headers?: Record<string, string> | Array<[string, string]>;
  /** JSON-encoded as the body, with `Content-Type: application/json` unless `headers` has one. */
  json?: unknown;
  /** Sent as is with `Content-Type: application/json` unless `headers` has one (malformed JSON). */
  jsonText?: string;
  /** Sent as is (other media types, binary bodies). */
  body?: string | Buffer;
  /** Sends the body with `Transfer-Encoding: chunked` instead of a Content-Length. */
  chunked?: boolean;
  /** The source address (127.0.0.0/8 is all loopback); CLIENT_ADDRESS unless given. */
  localAddress?: string;
  /** A keep-alive agent to reuse connections; by default each request has its own. */
  agent?: Agent;
  /** Aborts the request (rejecting) when no full answer came within this time. */
  timeoutMs?: number;
}

export interface Reply {
  status: number;
  headers: Headers;
  /** The body as text. */
  text: string;
  /** The path the request was sent to, without the query: a problem's `instance`. */
  path: string;
  /** Milliseconds from sending the request to the end of the answer. */
  ms: number;
  /**
   * The body parsed, when the answer says it is JSON (undefined otherwise). Typed `any`: specs
   * check it field by field with expect(), and those assertions are the type check.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/**
 * One HTTP request through node:http, so a test controls every header line and the source
 * address. Resolves with whatever the server answers; rejects only when the connection fails.
 */
export function request(
  baseUrl: string,
  path: string,
  options: RequestOptions = {},
): Promise<Reply> {
  const url = new URL(path, baseUrl);
  const lines: string[] = ['Host', url.host];
  if (options.authorization !== undefined) lines.push('Authorization', options.authorization);
  else if (options.token !== undefined) lines.push('Authorization', `Bearer ${options.token}`);
  const given = Array.isArray(options.headers)
    ? options.headers
    : Object.entries(options.headers ?? {});
  for (const [name, value] of given) lines.push(name, value);
  let body = options.body;
  const json = options.json === undefined ? options.jsonText : JSON.stringify(options.json);
  if (json !== undefined) {
    body = json;
    if (!given.some(([name]) => name.toLowerCase() === 'content-type')) {
      lines.push('Content-Type', 'application/json');
    }
  }
  const method = options.method ?? 'GET';
  if (body !== undefined) {
    if (options.chunked) lines.push('Transfer-Encoding', 'chunked');
    else lines.push('Content-Length', String(Buffer.byteLength(body)));
  } else if (['POST', 'PUT', 'PATCH'].includes(method)) {
    // As browsers and fetch do: node:http would otherwise send an empty chunked body.
    lines.push('Content-Length', '0');
  }
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        headers: lines,
        agent: options.agent ?? false,
        localAddress:
          options.localAddress ?? (url.hostname === '127.0.0.1' ? CLIENT_ADDRESS : undefined),
        signal:
          options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const headers = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
          }
          const ms = performance.now() - startedAt;
          resolve(reply(res.statusCode ?? 0, headers, Buffer.concat(chunks), url.pathname, ms));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function reply(status: number, headers: Headers, raw: Buffer, path: string, ms: number): Reply {
  const text = raw.toString('utf8');
  // Parsed on first read: a test of a malformed answer must still get its status and text.
  let parsed: { value: unknown } | undefined;
  return {
    status,
    headers,
    text,
    path,
    ms,
    get body(): unknown {
      parsed ??= {
        value:
          text && (headers.get('content-type') ?? '').includes('json')
            ? JSON.parse(text)
            : undefined,
      };
      return parsed.value;
    },
  };
}

/** The running app at `baseUrl`, with options (a token, a timeout) every request gets. */
export class HttpClient {
  constructor(
    readonly baseUrl: string,
    private readonly defaults: RequestOptions = {},
  ) {}

  /** The same app as another caller (undefined: anonymous). */
  as(token: string | undefined): HttpClient {
    return this.with({ token });
  }

  /** The same app with more default options. */
  with(defaults: RequestOptions): HttpClient {
    return new HttpClient(this.baseUrl, { ...this.defaults, ...defaults });
  }

  request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    return request(this.baseUrl, path, { ...this.defaults, ...options, method });
  }

  get(path: string, options: RequestOptions = {}): Promise<Reply> {
    return this.request('GET', path, options);
  }

  post(path: string, json: unknown, options: RequestOptions = {}): Promise<Reply> {
    return this.request('POST', path, { json, ...options });
  }

  patch(path: string, json: unknown, options: RequestOptions = {}): Promise<Reply> {
    return this.request('PATCH', path, { json, ...options });
  }

  delete(path: string, options: RequestOptions = {}): Promise<Reply> {
    return this.request('DELETE', path, options);
  }

  /** GETs `path` every 100 ms until the answer has `status` or `limitMs` passed: the last answer. */
  async getUntil(path: string, status: number, limitMs: number): Promise<Reply> {
    const deadline = performance.now() + limitMs;
    for (;;) {
      const reply = await this.get(path);
      if (reply.status === status || performance.now() > deadline) return reply;
      await sleep(100);
    }
  }
}

export interface RawConnection {
  socket: Socket;
  /** Everything the server sent, once the connection closed, and the socket error if any. */
  closed: Promise<{ received: string; error?: string }>;
}

/** A bare TCP connection to the app, for bytes no HTTP client would send, written when wanted. */
export function openConnection(baseUrl: string): RawConnection {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  let received = '';
  let error: string | undefined;
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  const closed = new Promise<{ received: string; error?: string }>((resolve) =>
    socket.on('close', () => resolve({ received, error })),
  );
  return { socket, closed };
}

/**
 * Writes bytes on a fresh connection and returns everything the server sends until it closes
 * (malformed request lines, oversized header sections).
 */
export async function rawExchange(baseUrl: string, payload: string): Promise<string> {
  const { socket, closed } = openConnection(baseUrl);
  socket.write(payload);
  socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
  const { received, error } = await closed;
  // The server may reset after answering an oversized request; the answer still counts.
  if (!received && error) throw new Error(`no answer: ${error}`);
  return received;
}

/**
 * The first answer in bytes read off a raw connection, as a Reply (bodies with a Content-Length),
 * so answers to requests no client would send are checked like any other; `path` is the one
 * that was requested.
 */
export function parseRawReply(raw: string, path = ''): Reply {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine, ...headerLines] = raw.slice(0, end).split('\r\n');
  const headers = new Headers();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const length = Number(headers.get('content-length') ?? 0);
  const body = Buffer.from(raw.slice(end + 4), 'latin1').subarray(0, length);
  return reply(Number(statusLine.split(' ')[1]), headers, body, path, 0);
}
