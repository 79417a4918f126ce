import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { NOT_A_JWT, tokenSecrets } from './support/auth-assertions';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { compact, signInput } from './support/jws';
import { LogLine } from './support/logs';
import { startTestApp, TestApp } from './support/test-app';

/**
 * A flood of refused tokens must not decide how much the API logs: past LOG_REFUSALS_PER_SECOND
 * lines per second and reason, the refusals are counted, and one summary line per second and
 * reason says how many were left out. Every refusal is accounted for, and no part of any token
 * reaches the logs.
 */

const PER_SECOND = 10;
const FLOOD = 300;
const FORGED = 'signature verification failed';

describe('refusal logs under a flood', () => {
  let issuer: BetterAuthIssuer;
  let alice: IssuedUser;
  let api: TestApp;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    alice = await issuer.createUser();
    api = await startTestApp({
      BETTER_AUTH_URL: issuer.url,
      LOG_REFUSALS_PER_SECOND: String(PER_SECOND),
    });
  });

  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  function second(line: LogLine): number {
    return Math.floor(Number(line.time) / 1000);
  }

  it('logs a bounded number of lines per second and reason, and counts the rest', async () => {
    const attacker = generateKeyPairSync('ed25519').privateKey;
    const kid = (await issuer.jwks()).keys[0].kid;
    const tokens = Array.from({ length: FLOOD }, (_, i) =>
      i % 2 === 0
        ? `garbage-${randomUUID()}`
        : compact(
            { alg: 'EdDSA', kid },
            issuer.claimsFor(alice.id, { jti: randomUUID() }),
            (input) => signInput('EdDSA', attacker, input),
          ),
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 50 });
    const replies = await Promise.all(
      tokens.map((token) => api.http.get('/api/todos', { token, agent })),
    ).finally(() => agent.destroy());
    expect(replies.map((reply) => reply.status)).toEqual(tokens.map(() => 401));

    // The summaries of the last second come once it is over.
    const refusals = () => api.logs.find({ msg: 'authentication refused' });
    const summaries = () => api.logs.find({ msg: 'authentication refusals not logged' });
    const accounted = () =>
      refusals().length + summaries().reduce((sum, line) => sum + Number(line.suppressed), 0);
    const deadline = performance.now() + 10_000;
    while (accounted() < FLOOD && performance.now() < deadline) await sleep(100);

    for (const reason of [NOT_A_JWT, FORGED]) {
      const logged = refusals().filter((line) => line.reason === reason);
      const perSecond = new Map<number, number>();
      for (const line of logged)
        perSecond.set(second(line), (perSecond.get(second(line)) ?? 0) + 1);
      expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(PER_SECOND);
      const suppressed = summaries()
        .filter((line) => line.reason === reason)
        .reduce((sum, line) => sum + Number(line.suppressed), 0);
      // Every refusal is either a line of its own or counted in a summary.
      expect(logged.length + suppressed).toBe(FLOOD / 2);
      expect(suppressed).toBeGreaterThan(0);
    }
    const summaryLines = summaries();
    expect(summaryLines.every((line) => line.level === 'warn')).toBe(true);
    // At most one summary per reason and second.
    const keys = summaryLines.map((line) => `${String(line.reason)}@${String(line.second)}`);
    expect(new Set(keys).size).toBe(keys.length);

    // Far fewer lines than refusals, and nothing of any token.
    expect(refusals().length).toBeLessThan(FLOOD);
    for (const token of tokens) {
      for (const secret of tokenSecrets(token))
        if (secret.length >= 16) api.logs.expectNever(secret);
    }
    expect(api.logs.failures()).toEqual([]);
  });
});
