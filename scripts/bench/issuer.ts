import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { toNodeHandler } from 'better-auth/node';
import { jwt } from 'better-auth/plugins';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';

export interface BenchIssuer {
  url: string;
  /** How many times the JWKS has been fetched so far. */
  jwksFetches(): number;
  /** A token signed by Better Auth's own signJWT (its current key, its claims and lifetime). */
  sign(payload: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/**
 * A real Better Auth (memory adapter, the jwt() plugin with its default EdDSA keys) on a loopback
 * port, counting JWKS fetches. Tokens are signed directly rather than through sign-up, so the
 * run does not spend its time hashing passwords.
 */
export async function startIssuer(): Promise<BenchIssuer> {
  let fetches = 0;
  const route: { handler?: ReturnType<typeof toNodeHandler> } = {};
  const server = createServer((req, res) => {
    if (req.url?.split('?')[0] === '/api/auth/jwks') fetches++;
    void route.handler?.(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = betterAuth({
    baseURL: url,
    secret: randomBytes(32).toString('hex'),
    database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }),
    logger: { disabled: true },
    telemetry: { enabled: false },
    plugins: [jwt()],
  });
  route.handler = toNodeHandler(auth);
  return {
    url,
    jwksFetches: () => fetches,
    sign: async (payload) => (await auth.api.signJWT({ body: { payload } })).token,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
