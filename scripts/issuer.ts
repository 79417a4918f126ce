import { BetterAuthIssuer } from '../test/support/better-auth-issuer';

/**
 * `npm run issuer`: a real Better Auth server (in memory, email and password, the jwt()
 * plugin) on http://localhost:3000, with a signed-up demo user and a token to paste into
 * Swagger's "Authorize". ISSUER_PORT and ISSUER_HOST change where it listens.
 */
async function main(): Promise<void> {
  const port = Number(process.env.ISSUER_PORT ?? 3000);
  const host = process.env.ISSUER_HOST ?? 'localhost';
  const issuer = await BetterAuthIssuer.start({ port, host });
  const user = await issuer.createUser({ email: 'demo@example.com', name: 'Demo User' });
  const apiUrl = process.env.API_URL ?? 'http://localhost:8000';

  console.log(`
Better Auth issuer running at ${issuer.url}
  JWKS:   ${issuer.jwksUrl}
  issuer: ${issuer.url} (also the default audience)

Demo user: ${user.email} (id ${user.id})

Bearer token (valid 15 minutes), paste it into ${apiUrl}/docs -> Authorize:

${user.jwt}

Try it:
  export TOKEN=${user.jwt}
  curl -H "Authorization: Bearer $TOKEN" ${apiUrl}/api/profile

More tokens for this user (the session cookie stays valid):
  curl -s -H 'cookie: ${user.cookie}' ${issuer.url}/api/auth/token

Another user: POST ${issuer.url}/api/auth/sign-up/email with {"email","password","name"},
then GET ${issuer.url}/api/auth/token with the returned cookie.

Press Ctrl+C to stop.`);

  const stop = () => {
    void issuer.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('Issuer failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
