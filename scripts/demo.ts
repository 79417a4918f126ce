import { BetterAuthIssuer } from '../test/support/better-auth-issuer';
import { serveWeb } from '../test/support/web-server';
import { createApp } from '../src/app.setup';
import { ConfigValidationError } from '../src/config/env.validation';
import { loadAppConfig } from '../src/config/load-config';

/**
 * `npm run demo`: the whole flow on one machine. A local Better Auth server (in memory, email
 * and password, the jwt() plugin) that trusts the example frontend's origin, the API on its
 * configuration (the embedded PostgreSQL unless DATABASE_URL is set) with that origin allowed
 * by CORS, and the built example frontend. Everything is on `localhost`, so Better Auth's
 * session cookie is same-site for the frontend.
 */
async function main(): Promise<void> {
  const host = 'localhost';
  const webPort = Number(process.env.WEB_PORT ?? 5173);
  const webOrigin = `http://${host}:${webPort}`;
  const issuer = await BetterAuthIssuer.start({
    port: Number(process.env.ISSUER_PORT ?? 3000),
    host,
    trustedOrigins: [webOrigin],
  });
  const config = loadAppConfig({
    ...process.env,
    BETTER_AUTH_URL: issuer.url,
    CORS_ORIGINS: webOrigin,
  });
  const app = await createApp(config);
  await app.listen({ port: config.http.port, host: config.http.host });
  const apiUrl = `http://${host}:${config.http.port}`;
  const web = await serveWeb({ config: { apiUrl, authUrl: issuer.url }, port: webPort, host });

  console.log(`
Todo API demo, ready in ${(performance.now() / 1000).toFixed(1)} s (this process)

  Open ${web.url} : sign up, then manage your todos
  API      ${apiUrl}  (Swagger UI: ${apiUrl}/docs)
  Better Auth  ${issuer.url}  (JWKS: ${issuer.jwksUrl}; users live in memory until you stop)

Press Ctrl+C to stop.`);

  // The API's shutdown hooks end the process on SIGINT/SIGTERM; the other two go first.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.prependOnceListener(signal, () => {
      void web.close();
      void issuer.close();
    });
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigValidationError) {
    for (const problem of error.problems) console.error(`Configuration error: ${problem}`);
  } else {
    console.error('Demo failed to start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
