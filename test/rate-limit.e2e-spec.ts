import { request as httpRequest } from 'node:http';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { startTestApp, TestApp } from './support/test-app';

function get(url: string, token?: string, headers: Record<string, string> = {}) {
  return fetch(url, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
}

/** Sends a request from a chosen local source address (127.0.0.0/8 is all loopback). */
function getFrom(localAddress: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { localAddress }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
        expect((await get(`${api.url}/api/profile`, alice.jwt)).status).toBe(200);
      }
      const limited = await get(`${api.url}/api/profile`, alice.jwt);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await limited.json()).toMatchObject({ status: 429, title: 'Too Many Requests' });

      // Another user from the same address has a budget of their own.
      expect((await get(`${api.url}/api/profile`, bob.jwt)).status).toBe(200);
    });

    it('counts failed authentications per address, and never blocks a valid token for them', async () => {
      const source = '127.0.0.77';
      for (let i = 0; i < 3; i++) {
        expect(await getFrom(source, `${api.url}/api/profile`)).toBe(401);
      }
      expect(await getFrom(source, `${api.url}/api/profile`)).toBe(429);
      // A different address is not affected.
      expect(await getFrom('127.0.0.78', `${api.url}/api/profile`)).toBe(401);
      // Bob's valid token is judged on Bob's own budget.
      expect((await get(`${api.url}/api/profile`, bob.jwt)).status).toBe(200);
    });

    it('ignores X-Forwarded-For unless TRUST_PROXY says so', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await get(`${api.url}/api/profile`, undefined, {
          'x-forwarded-for': `203.0.113.${i}`,
        });
        statuses.push(response.status);
      }
      // All four come from 127.0.0.1 whatever they claim; an earlier test may have used some
      // of that address's budget, so the last one is limited either way.
      expect(statuses.at(-1)).toBe(429);
    });

    it('never limits the health probes', async () => {
      for (let i = 0; i < 10; i++) {
        expect((await get(`${api.url}/api/health`)).status).toBe(200);
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
      const from = (ip: string) => ({ 'x-forwarded-for': `198.51.100.9, ${ip}` });
      expect((await get(`${api.url}/api/profile`, undefined, from('203.0.113.10'))).status).toBe(
        401,
      );
      expect((await get(`${api.url}/api/profile`, undefined, from('203.0.113.10'))).status).toBe(
        401,
      );
      expect((await get(`${api.url}/api/profile`, undefined, from('203.0.113.10'))).status).toBe(
        429,
      );
      expect((await get(`${api.url}/api/profile`, undefined, from('203.0.113.11'))).status).toBe(
        401,
      );
    });
  });

  describe('across instances (SPEC §10)', () => {
    it('shares counters through PostgreSQL', async () => {
      const env = { BETTER_AUTH_URL: issuer.url, THROTTLE_ANONYMOUS_LIMIT: '4' };
      const source = '127.0.0.91';
      const first = await startTestApp(env);
      try {
        for (let i = 0; i < 3; i++) {
          expect(await getFrom(source, `${first.url}/api/profile`)).toBe(401);
        }
        await sleep(800); // > two flush intervals: the hits are in PostgreSQL now
      } finally {
        await first.close();
      }
      const second = await startTestApp(env);
      try {
        // The second instance learns the shared total at its first flush (the documented
        // slack of one flush interval), and from then on enforces the limit across both.
        expect(await getFrom(source, `${second.url}/api/profile`)).toBe(401);
        await sleep(800);
        expect(await getFrom(source, `${second.url}/api/profile`)).toBe(429);
      } finally {
        await second.close();
      }
    });
  });
});
