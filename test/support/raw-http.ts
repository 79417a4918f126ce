import { IncomingHttpHeaders, request } from 'node:http';

/**
 * The loopback address this test file's requests come from. The failed-authentication rate
 * limit counts per client address in counters shared through the test database; a random
 * 127.x.y.z keeps these suites' deliberate floods of refusals out of other suites' bucket.
 */
export const CLIENT_ADDRESS = `127.${octet()}.${octet()}.${1 + octet(253)}`;

function octet(max = 255): number {
  return Math.floor(Math.random() * (max + 1));
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequestOptions {
  method?: string;
  /** Sent exactly in this order; a name may repeat (fetch would merge duplicates). */
  headers?: Array<[string, string]>;
  body?: string;
}

/**
 * One HTTP request through node:http with full control over the header lines, so tests can send
 * duplicated Authorization headers, odd spacing and oversized values that fetch would normalise.
 */
export function rawRequest(
  baseUrl: string,
  path: string,
  options: RawRequestOptions = {},
): Promise<RawResponse> {
  const url = new URL(path, baseUrl);
  const flat: string[] = ['Host', url.host];
  for (const [name, value] of options.headers ?? []) flat.push(name, value);
  if (options.body !== undefined) {
    flat.push('Content-Length', String(Buffer.byteLength(options.body)));
  }
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: options.method ?? 'GET',
        headers: flat,
        agent: false,
        localAddress: url.hostname === '127.0.0.1' ? CLIENT_ADDRESS : undefined,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** GET (or another method) with one `Authorization: <value>` line, or none when undefined. */
export function withAuthorization(
  baseUrl: string,
  path: string,
  authorization: string | undefined,
  options: Omit<RawRequestOptions, 'headers'> & { headers?: Array<[string, string]> } = {},
): Promise<RawResponse> {
  const headers: Array<[string, string]> = [...(options.headers ?? [])];
  if (authorization !== undefined) headers.unshift(['Authorization', authorization]);
  return rawRequest(baseUrl, path, { ...options, headers });
}

/** `Authorization: Bearer <token>` on GET /api/profile, the cheapest protected route. */
export function getProfile(baseUrl: string, token: string): Promise<RawResponse> {
  return withAuthorization(baseUrl, '/api/profile', `Bearer ${token}`);
}
