import { BetterAuthIssuer } from './support/better-auth-issuer';
import { freePort } from './support/free-port';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';

describe('GET /api/health/ready', () => {
  let api: TestApp | undefined;
  let issuer: BetterAuthIssuer | undefined;

  afterEach(async () => {
    await api?.close();
    await issuer?.close();
  });

  it('is 200 with both checks up when the database answers and keys are loaded', async () => {
    issuer = await BetterAuthIssuer.start();
    api = await startTestApp({ BETTER_AUTH_URL: issuer.url });

    const response = await api.http.get('/api/health/ready');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: 'ok',
      checks: { database: 'up', jwks: 'up' },
    });
  });

  it('recovers by itself, with no authenticated traffic, when the key server comes up late', async () => {
    const port = await freePort();
    api = await startTestApp({
      BETTER_AUTH_URL: `http://127.0.0.1:${port}`,
      JWKS_COOLDOWN_SECONDS: '1',
    });

    expectProblem(await api.http.get('/api/health/ready'), {
      status: 503,
      retryAfter: '5',
      detail: 'Not ready: jwks unavailable.',
    });

    issuer = await BetterAuthIssuer.start({ port });
    // Only readiness probes from here on, as an orchestrator would send them.
    expect((await api.http.getUntil('/api/health/ready', 200, 10_000)).status).toBe(200);
  });
});
