import { setTimeout as sleep } from 'node:timers/promises';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';

describe('rate limiting', () => {
  let issuer: BetterAuthIssuer;
  let alice: IssuedUser;
  let bob: IssuedUser;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    [alice, bob] = await Promise.all([issuer.createUser(), issuer.createUser()]);
  });

  afterAll(() => issuer.close());

  describe('per user and per address', () => {
    let api: TestApp;

    beforeAll(async () => {
      api = await startTestApp({
        BETTER_AUTH_URL: issuer.url,
        THROTTLE_USER_LIMIT: '5',
        THROTTLE_ANONYMOUS_LIMIT: '3',
        THROTTLE_TTL_SECONDS: '60',
      });
    });

    afterAll(() => api.close());

    it('limits a signed-in user per user id with 429, Retry-After and a problem body', async () => {
      for (let i = 0; i < 5; i++) {
        expect((await api.http.get('/api/profile', { token: alice.jwt })).status).toBe(200);
      }
      const limited = await api.http.get('/api/profile', { token: alice.jwt });
      expectProblem(limited, { status: 429, retryAfter: expect.stringMatching(/^[1-9]\d*$/) });

      // Another user from the same address has a budget of their own.
      expect((await api.http.get('/api/profile', { token: bob.jwt })).status).toBe(200);
    });

    it('counts failed authentications per address, and never blocks a valid token for them', async () => {
      const source = '127.0.0.77';
      const garbage = { localAddress: source, token: 'garbage' };
      for (let i = 0; i < 3; i++) {
        expect((await api.http.get('/api/profile', garbage)).status).toBe(401);
      }
      expect((await api.http.get('/api/profile', garbage)).status).toBe(429);
      // A request without a token is not a failed attempt: its 401 tells the client to sign in.
      expect((await api.http.get('/api/profile', { localAddress: source })).status).toBe(401);
      // A different address is not affected.
      expect(
        (await api.http.get('/api/profile', { localAddress: '127.0.0.78', token: 'garbage' }))
          .status,
      ).toBe(401);
      // Bob's valid token is judged on Bob's own budget.
      expect((await api.http.get('/api/profile', { token: bob.jwt })).status).toBe(200);
    });

    it('ignores X-Forwarded-For unless TRUST_PROXY says so', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await api.http.get('/api/profile', {
          token: 'garbage',
          headers: { 'x-forwarded-for': `203.0.113.${i}` },
        });
        statuses.push(response.status);
      }
      // All four come from this file's one address whatever they claim; an earlier test may have used some
      // of that address's budget, so the last one is limited either way.
      expect(statuses.at(-1)).toBe(429);
    });

    it('never limits the health probes', async () => {
      for (let i = 0; i < 10; i++) {
        expect((await api.http.get('/api/health')).status).toBe(200);
      }
    });
  });

  describe('behind a trusted proxy', () => {
    let api: TestApp;

    beforeAll(async () => {
      api = await startTestApp({
        BETTER_AUTH_URL: issuer.url,
        THROTTLE_ANONYMOUS_LIMIT: '2',
        TRUST_PROXY: '1',
      });
    });

    afterAll(() => api.close());

    it('limits by the address the proxy reports', async () => {
      const from = (ip: string) => ({
        token: 'garbage',
        headers: { 'x-forwarded-for': `198.51.100.9, ${ip}` },
      });
      expect((await api.http.get('/api/profile', from('203.0.113.10'))).status).toBe(401);
      expect((await api.http.get('/api/profile', from('203.0.113.10'))).status).toBe(401);
      expect((await api.http.get('/api/profile', from('203.0.113.10'))).status).toBe(429);
      expect((await api.http.get('/api/profile', from('203.0.113.11'))).status).toBe(401);
    });
  });

  describe('across instances', () => {
    it('shares counters through PostgreSQL', async () => {
      const env = { BETTER_AUTH_URL: issuer.url, THROTTLE_ANONYMOUS_LIMIT: '4' };
      const source = '127.0.0.91';
      const first = await startTestApp(env);
      try {
        for (let i = 0; i < 3; i++) {
          expect(
            (await first.http.get('/api/profile', { localAddress: source, token: 'garbage' }))
              .status,
          ).toBe(401);
        }
        await sleep(800); // > two flush intervals: the hits are in PostgreSQL now
      } finally {
        await first.close();
      }
      const second = await startTestApp(env);
      try {
        // The second instance learns the shared total at its first flush (the documented
        // slack of one flush interval), and from then on enforces the limit across both.
        const garbage = { localAddress: source, token: 'garbage' };
        expect((await second.http.get('/api/profile', garbage)).status).toBe(401);
        await sleep(800);
        expect((await second.http.get('/api/profile', garbage)).status).toBe(429);
      } finally {
        await second.close();
      }
    });
  });
});
