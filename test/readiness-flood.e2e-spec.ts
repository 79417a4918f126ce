import { Agent } from 'node:http';
import { DataSource } from 'typeorm';
import { BetterAuthIssuer } from './support/better-auth-issuer';
import { Reply } from './support/http';
import { startTestApp, TestApp } from './support/test-app';

/**
 * The readiness probe is public, so anyone can send it as fast as they like. Its database check
 * is shared (one at a time, each answer reused for about a second): a flood of probes must cost
 * a few statements per second, not one per probe. Counted on the app's real data source, so a
 * statement counted is one PostgreSQL actually received.
 */

const PROBES = 1000;
/** Each check's answer serves the probes of the following second. */
const CHECK_EVERY_MS = 1000;
const SUSTAINED_MS = 3000;

describe('a flood of readiness probes', () => {
  let issuer: BetterAuthIssuer;
  let api: TestApp;
  let agent: Agent;
  let checks: jest.SpyInstance;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    api = await startTestApp({ BETTER_AUTH_URL: issuer.url });
    agent = new Agent({ keepAlive: true, maxSockets: 100 });
    const dataSource = api.app.get(DataSource);
    checks = jest.spyOn(dataSource, 'query');
  });

  afterAll(async () => {
    agent?.destroy();
    await api?.close();
    await issuer?.close();
  });

  /** The statements the readiness check sent to PostgreSQL since the counter was reset. */
  function statements(): number {
    return checks.mock.calls.filter(([sql]) => sql === 'SELECT 1').length;
  }

  function probe(): Promise<Reply> {
    return api.http.get('/api/health/ready', { agent });
  }

  function expectReady(replies: Reply[]) {
    const answers = replies.map((reply) => ({ status: reply.status, body: reply.body as unknown }));
    const ready = { status: 200, body: { status: 'ok', checks: { database: 'up', jwks: 'up' } } };
    expect(answers).toEqual(replies.map(() => ready));
  }

  it(`answers ${PROBES} concurrent probes with a handful of database statements`, async () => {
    checks.mockClear();
    const startedAt = performance.now();
    const replies = await Promise.all(Array.from({ length: PROBES }, () => probe()));
    const elapsedMs = performance.now() - startedAt;

    expectReady(replies);
    // One check when the burst begins, then at most one per second it lasts.
    expect(statements()).toBeGreaterThanOrEqual(1);
    expect(statements()).toBeLessThanOrEqual(1 + Math.ceil(elapsedMs / CHECK_EVERY_MS));
    process.stdout.write(
      `readiness burst: ${PROBES} probes in ${Math.round(elapsedMs)} ms, ${statements()} database statement(s)\n`,
    );
  });

  it('keeps a sustained flood at about one statement per second', async () => {
    checks.mockClear();
    const startedAt = performance.now();
    let sent = 0;
    while (performance.now() - startedAt < SUSTAINED_MS) {
      const wave = await Promise.all(Array.from({ length: 100 }, () => probe()));
      expectReady(wave);
      sent += wave.length;
    }
    const elapsedMs = performance.now() - startedAt;
    const perSecond = statements() / (elapsedMs / 1000);

    expect(statements()).toBeLessThanOrEqual(1 + Math.ceil(elapsedMs / CHECK_EVERY_MS));
    process.stdout.write(
      `readiness flood: ${sent} probes in ${Math.round(elapsedMs)} ms ` +
        `(${Math.round(sent / (elapsedMs / 1000))}/s), ${statements()} database statements ` +
        `(${perSecond.toFixed(2)}/s)\n`,
    );
  });
});
