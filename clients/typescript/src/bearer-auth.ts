import type { Middleware } from 'openapi-fetch';
import { type GetToken, TokenSource } from './token-source';

export interface BearerAuthOptions {
  /**
   * Returns a fresh JWT, or null when nobody is signed in. With Better Auth's jwtClient plugin:
   * `async () => (await authClient.token()).data?.token`.
   */
  getToken: GetToken;
  /** Fetch the next token this long before the current one's `exp` (default 30 s). */
  refreshBeforeExpiryMs?: number;
  /** How many times a 503 with Retry-After is retried before it is returned (default 2). */
  maxUnavailableRetries?: number;
  /** The longest wait for one Retry-After, in ms (default 30 s): a bigger ask is capped. */
  maxRetryDelayMs?: number;
  /** Called before each retry of a 503 (e.g. to show "reconnecting"). */
  onRetry?: (retry: { attempt: number; delayMs: number; request: Request }) => void;
  /**
   * Called when the API still answers 401 after the one token refresh (or with no token): the
   * session is really over. Never called for a 503, which says nothing about the session.
   */
  onUnauthenticated?: (response: Response) => void;
  /** The fetch retries go through; the client's own by default. */
  fetch?: (request: Request) => Promise<Response>;
  /** The client's clock, in ms since the epoch (tests skew it). */
  now?: () => number;
}

/** The middleware plus the token it holds, for signing out. */
export type BearerAuth = Middleware & {
  /** Forget the cached token; call it when the user signs out. */
  clearToken(): void;
};

type OnRequest = NonNullable<Middleware['onRequest']>;
type OnResponse = NonNullable<Middleware['onResponse']>;

/** `error_description="token expired"` in the RFC 6750 challenge: a new token will do. */
export function isTokenExpired(response: Response): boolean {
  const challenge = response.headers.get('www-authenticate') ?? '';
  return response.status === 401 && /error_description="token expired"/.test(challenge);
}

/** Retry-After as milliseconds: delay-seconds or an HTTP date; undefined when absent or bad. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });

/**
 * openapi-fetch middleware that sends the Better Auth JWT as `Authorization: Bearer`, fetches a
 * new token and resends once when the API says the token expired, and waits out a 503's
 * Retry-After a bounded number of times. A 503 means the API or one of its dependencies is down
 * for now, not that the session ended, so it never drops the token or reports a sign-out.
 */
export function bearerAuth(options: BearerAuthOptions): BearerAuth {
  const tokens = new TokenSource(
    options.getToken,
    options.refreshBeforeExpiryMs ?? 30_000,
    options.now ?? Date.now,
  );
  const maxRetries = options.maxUnavailableRetries ?? 2;
  const maxDelay = options.maxRetryDelayMs ?? 30_000;
  const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  // What each request looked like before fetch consumed its body, and the token it carried.
  const originals = new WeakMap<Request, { copy: Request; token: string | undefined }>();

  const resend = (original: Request, token: string | undefined) => {
    const request = original.clone();
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    else request.headers.delete('authorization');
    return send(request);
  };

  const onRequest: OnRequest = async ({ request }) => {
    const token = await tokens.get();
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    originals.set(request, { copy: request.clone(), token });
    return request;
  };

  const onResponse: OnResponse = async ({ request, response }) => {
    const original = originals.get(request);
    if (!original) return response;
    let { token } = original;
    let current = response;
    let refreshed = false;
    let retries = 0;
    for (;;) {
      if (isTokenExpired(current) && !refreshed) {
        refreshed = true;
        const next = await tokens.replace(token);
        if (!next) break;
        await current.body?.cancel();
        token = next;
        current = await resend(original.copy, token);
        continue;
      }
      const delay =
        current.status === 503 ? retryAfterMs(current.headers.get('retry-after')) : undefined;
      if (delay !== undefined && retries < maxRetries) {
        retries++;
        const delayMs = Math.min(delay, maxDelay);
        options.onRetry?.({ attempt: retries, delayMs, request });
        await current.body?.cancel();
        await sleep(delayMs, request.signal);
        token = await tokens.get();
        current = await resend(original.copy, token);
        continue;
      }
      break;
    }
    if (current.status === 401) options.onUnauthenticated?.(current);
    return current;
  };

  return { onRequest, onResponse, clearToken: () => tokens.clear() };
}
