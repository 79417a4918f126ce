import { setTimeout as sleep } from 'node:timers/promises';
import { JwksKeyStore } from '../src/auth/jwks/jwks-key-store';
import { expectAccepted, expectRefused, tokenSecrets } from './support/auth-assertions';
import { HttpClient, Reply } from './support/http';
import { freshToken, jwksAppEnv, JwksAppPerTest, subOf } from './support/jwks-app';
import { JwksServer, TestSigningKey } from './support/jwks-server';
import { startTestApp, TestApp } from './support/test-app';

/**
 * The key set over time, through real JWKS refreshes: keys kept through failing fetches stop
 * verifying JWKS_MAX_STALE_SECONDS after the last good fetch (cached tokens included) and work
 * again once the key server answers; a refresh that finds the same key keeps the verified-token
 * cache, a key with the same kid but other material ends it.
 */

/** Refreshes every second, each one really asking the key server. */
const REFRESHING = {
  JWKS_CACHE_TTL_SECONDS: '1',
  JWKS_COOLDOWN_SECONDS: '0',
  JWKS_TIMEOUT_MS: '1000',
};

function tokenFor(key: TestSigningKey): { token: string; sub: string } {
  const token = freshToken(key);
  return { token, sub: subOf(token) };
}

/** GETs /api/profile with `token` every 100 ms until the status is `status` (or 20 s pass). */
function profileUntil(http: HttpClient, token: string, status: number): Promise<Reply> {
  return http.as(token).getUntil('/api/profile', status, 20_000);
}

/** Waits until the key server has been asked more than `count` times (refreshes are background). */
async function fetchedMoreThan(server: JwksServer, count: number, http: HttpClient, token: string) {
  for (let i = 0; i < 200 && server.requests <= count; i++) {
    // A request after the TTL is what starts the background refresh.
    await http.get('/api/profile', { token });
    await sleep(100);
  }
  expect(server.requests).toBeGreaterThan(count);
}

describe('JWKS_MAX_STALE_SECONDS', () => {
  const key = TestSigningKey.generate();
  let server: JwksServer;
  let api: TestApp;

  beforeAll(async () => {
    server = await JwksServer.start();
    server.setKeys([key.jwk()]);
    api = await startTestApp(jwksAppEnv(server, { ...REFRESHING, JWKS_MAX_STALE_SECONDS: '8' }));
  });

  afterAll(async () => {
    await api?.close();
    await server.close();
  });

  it('keeps known keys through failing fetches, then answers 503 for every token, cached ones included, until the key server is back', async () => {
    const cached = tokenFor(key);
    expectAccepted(await api.http.get('/api/profile', { token: cached.token }), cached.sub);

    server.behave({ kind: 'status', status: 500 });
    server.resetCounters();
    await fetchedMoreThan(server, 0, api.http, cached.token);
    // A failed fetch keeps the known key: the cached token and a new one still pass.
    const fresh = tokenFor(key);
    expectAccepted(await api.http.get('/api/profile', { token: fresh.token }), fresh.sub);

    // Past the limit nothing verifies with the kept key: 503 with Retry-After, not 401, so no
    // client signs its user out because our key server is down.
    const refusedCached = await profileUntil(api.http, cached.token, 503);
    expectRefused(api, refusedCached, { status: 503, secrets: tokenSecrets(cached.token) });
    const refusedFresh = await api.http.get('/api/profile', { token: fresh.token });
    expectRefused(api, refusedFresh, { status: 503, secrets: tokenSecrets(fresh.token) });
    const newcomer = tokenFor(key);
    const refusedNew = await api.http.get('/api/profile', { token: newcomer.token });
    expectRefused(api, refusedNew, { status: 503, secrets: tokenSecrets(newcomer.token) });
    const ready = await api.http.get('/api/health/ready');
    expect(ready.status).toBe(503);

    // The key server answers again: the same tokens pass, without a restart.
    server.behave({ kind: 'ok' });
    expectAccepted(await profileUntil(api.http, cached.token, 200), cached.sub);
    expectAccepted(await api.http.get('/api/profile', { token: fresh.token }), fresh.sub);
    expect((await api.http.getUntil('/api/health/ready', 200, 20_000)).status).toBe(200);
  });
});

describe('the verified-token cache across JWKS refreshes', () => {
  const jwks = new JwksAppPerTest(REFRESHING);
  beforeAll(() => jwks.open());
  afterEach(async () => {
    await jwks.closeApp();
    jest.restoreAllMocks();
  });
  afterAll(() => jwks.close());

  it('survives refreshes that find the same key: cached tokens are not verified again', async () => {
    const key = TestSigningKey.generate();
    jwks.server.setKeys([key.jwk()]);
    const api = await jwks.startApp();
    const user = tokenFor(key);
    expectAccepted(await api.http.get('/api/profile', { token: user.token }), user.sub);

    // Observed, not replaced: each call to findKey is a token verified against the key set.
    const lookups = jest.spyOn(api.app.get(JwksKeyStore), 'findKey');
    jwks.server.resetCounters();
    await fetchedMoreThan(jwks.server, 2, api.http, user.token);
    expectAccepted(await api.http.get('/api/profile', { token: user.token }), user.sub);
    expect(lookups).not.toHaveBeenCalled();
  });

  it('ends cached tokens when a refresh finds other material under the same kid', async () => {
    const key = TestSigningKey.generate();
    jwks.server.setKeys([key.jwk()]);
    const api = await jwks.startApp();
    const user = tokenFor(key);
    expectAccepted(await api.http.get('/api/profile', { token: user.token }), user.sub);

    const impostor = TestSigningKey.generate('Ed25519', key.kid);
    jwks.server.setKeys([impostor.jwk()]);
    const refused = await profileUntil(api.http, user.token, 401);
    expectRefused(api, refused, {
      reason: 'signature verification failed',
      secrets: tokenSecrets(user.token),
    });
    const signedByNew = tokenFor(impostor);
    expectAccepted(
      await api.http.get('/api/profile', { token: signedByNew.token }),
      signedByNew.sub,
    );
  });
});
