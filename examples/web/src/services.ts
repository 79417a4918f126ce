import { createTodoApiClient, type TodoApiClient } from '@todo-api/client';
import { jwtClient } from 'better-auth/client/plugins';
import { createAuthClient } from 'better-auth/react';
import type { AppConfig } from './config';

export type AuthClient = ReturnType<typeof createAuth>;

function createAuth(config: AppConfig) {
  return createAuthClient({ baseURL: config.authUrl, plugins: [jwtClient()] });
}

export interface Services {
  auth: AuthClient;
  api: TodoApiClient;
}

/**
 * Better Auth's React client (session cookie on the auth server) and the typed API client. The
 * API client asks Better Auth for a JWT when it needs one: before the current one expires, or
 * once when the API says it expired, so the user never sees a token lapse.
 */
export function createServices(
  config: AppConfig,
  hooks: { onRetry: (delayMs: number) => void; onSignedOut: () => void },
): Services {
  const auth = createAuth(config);
  const api = createTodoApiClient({
    baseUrl: config.apiUrl,
    getToken: async () => (await auth.token()).data?.token,
    onRetry: ({ delayMs }) => hooks.onRetry(delayMs),
    onUnauthenticated: () => hooks.onSignedOut(),
  });
  return { auth, api };
}
