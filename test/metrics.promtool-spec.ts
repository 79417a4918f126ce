import { spawnSync } from 'node:child_process';
import { BetterAuthIssuer } from './support/better-auth-issuer';
import { freePort } from './support/free-port';
import { scrape } from './support/prometheus';
import { startTestApp, TestApp } from './support/test-app';

/** From Debian's `prometheus` package, on the PATH; PROMTOOL names another. */
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

describe('promtool check metrics', () => {
  let issuer: BetterAuthIssuer;
  let api: TestApp;
  let metricsUrl: string;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    api = await startTestApp({
      BETTER_AUTH_URL: issuer.url,
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
      THROTTLE_USER_LIMIT: '2',
      THROTTLE_ANONYMOUS_LIMIT: '2',
    });
  });

  afterAll(async () => {
    await api.close();
    await issuer.close();
  });

  it('finds no problem in a scrape taken after every kind of answer', async () => {
    const user = await issuer.createUser();
    const asUser = api.http.as(user.jwt).with({ localAddress: '127.0.0.211' });
    // Garbage tokens: only those count against an address (a missing token always gets its 401).
    const stranger = api.http.as('not-a-jwt').with({ localAddress: '127.0.0.212' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await asUser.get('/api/todos')).status);
    for (let i = 0; i < 3; i++) statuses.push((await stranger.get('/api/profile')).status);
    statuses.push((await api.http.get('/api/no-such-route')).status);
    statuses.push((await api.http.get('/api/health/ready')).status);
    expect(statuses).toEqual([200, 200, 429, 401, 401, 429, 404, 200]);

    const { status, text } = await scrape(metricsUrl);
    expect(status).toBe(200);
    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (check.error) {
      throw new Error(
        `cannot run ${PROMTOOL} (${check.error.message}): install Debian's prometheus package`,
      );
    }
    expect({ status: check.status, output: check.stdout + check.stderr }).toEqual({
      status: 0,
      output: '',
    });
  });
});
