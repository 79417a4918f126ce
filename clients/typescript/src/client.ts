import createClient, { type Client } from 'openapi-fetch';
import { type BearerAuth, type BearerAuthOptions, bearerAuth } from './bearer-auth';
import type { paths } from './schema';

export interface TodoApiClientOptions extends Omit<BearerAuthOptions, 'fetch'> {
  /** Where the API is, e.g. `http://localhost:8000` (its paths start with /api). */
  baseUrl: string;
  /** The fetch to call the API with (default: the global one). */
  fetch?: (request: Request) => Promise<Response>;
}

/** A typed client: `GET`, `POST`, … take the API's paths; results and errors are typed. */
export type TodoApiClient = Client<paths> & {
  /** Forget the cached token; call it when the user signs out. */
  clearToken(): void;
};

/**
 * The Todo API over openapi-fetch: every call carries the user's JWT, an expired token is
 * replaced once, and a 503 is waited out (Retry-After) a few times before it is returned.
 */
export function createTodoApiClient(options: TodoApiClientOptions): TodoApiClient {
  const fetch = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const client = createClient<paths>({ baseUrl: options.baseUrl, fetch });
  const auth: BearerAuth = bearerAuth({ ...options, fetch });
  client.use(auth);
  return Object.assign(client, { clearToken: () => auth.clearToken() });
}
