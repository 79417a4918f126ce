/** The largest JWKS document accepted; a real key set is a few KiB. */
export const MAX_JWKS_BYTES = 1024 * 1024;

export class JwksFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwksFetchError';
  }
}

export interface JwksDocument {
  keys: unknown[];
}

/**
 * Fetches a JWKS within fixed limits: one overall deadline, no redirects (a redirect
 * could move key discovery to a host nobody configured), a size cap read as a stream so a huge
 * body is never buffered, and a body that must be a JSON object with a `keys` array.
 */
export async function fetchJwks(url: string, timeoutMs: number): Promise<JwksDocument> {
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, {
      signal,
      redirect: 'manual',
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
  } catch (error) {
    throw new JwksFetchError(signal.aborted ? `timed out after ${timeoutMs} ms` : describe(error));
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new JwksFetchError(`answered HTTP ${response.status}`);
  }
  const declaredLength = Number(response.headers.get('content-length'));
  if (declaredLength > MAX_JWKS_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw new JwksFetchError(`body of ${declaredLength} bytes exceeds ${MAX_JWKS_BYTES}`);
  }
  const text = await readLimited(response, signal, timeoutMs);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new JwksFetchError('body is not JSON');
  }
  if (!isObject(document) || !Array.isArray(document.keys)) {
    throw new JwksFetchError('body has no "keys" array');
  }
  // A `keys` entry that is not a JSON object makes the whole document something other than a key
  // set (jose's own key-set check says the same): a failed fetch, so the known keys keep working.
  // Dropping such entries instead would read `[null]` as an empty set, i.e. every key withdrawn.
  if (!document.keys.every(isObject)) {
    throw new JwksFetchError('"keys" holds an entry that is not a JSON object');
  }
  return { keys: document.keys };
}

async function readLimited(response: Response, signal: AbortSignal, timeoutMs: number) {
  if (!response.body) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_JWKS_BYTES) {
        await reader.cancel();
        throw new JwksFetchError(`body exceeds ${MAX_JWKS_BYTES} bytes`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof JwksFetchError) throw error;
    throw new JwksFetchError(signal.aborted ? `timed out after ${timeoutMs} ms` : describe(error));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A plain JSON object: not null, not an array (what `JSON.parse` gives for `{…}`). */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
