import { BetterAuthIssuer } from './support/better-auth-issuer';
import { freePort } from './support/free-port';
import { startTestApp, TestApp } from './support/test-app';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

    const response = await fetch(`${api.url}/api/health/ready`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
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

    const before = await fetch(`${api.url}/api/health/ready`);
    expect(before.status).toBe(503);
    expect(before.headers.get('retry-after')).toBe('5');
    expect(await before.json()).toMatchObject({ detail: 'Not ready: jwks unavailable.' });

    issuer = await BetterAuthIssuer.start({ port });
    // Only readiness probes from here on, as an orchestrator would send them.
    let status = 0;
    for (let attempt = 0; attempt < 40 && status !== 200; attempt++) {
      await sleep(250);
      status = (await fetch(`${api.url}/api/health/ready`)).status;
    }
    expect(status).toBe(200);
  });
});
