import { randomInt } from 'node:crypto';
import { expectRefused, NOT_A_JWT } from './support/auth-assertions';
import { RequestOptions } from './support/http';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Which address a request is limited by, seen from the attacker's side: failed authentications
 * are counted per client address, so an attacker who could choose the address the API sees
 * would get a fresh budget per request. X-Forwarded-For is believed only from the proxies
 * TRUST_PROXY names (or as many hops as it counts), never from anyone else, and an entry that
 * is not an IP address falls back to the peer's address instead of opening a bucket of its own.
 */

const LIMIT = 2;

/** A fresh loopback address (127.0.0.0/8 is all local), so reruns never share a budget. */
function loopback(): string {
  return `127.${randomInt(256)}.${randomInt(256)}.${1 + randomInt(254)}`;
}

/** Consecutive addresses of 198.18.0.0/15 (for tests) from a random start: never the same twice. */
let nextClient = randomInt(1 << 16);
function testNet(): string {
  const n = nextClient++ % (1 << 17);
  return `198.${18 + (n >> 16)}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

/** A fresh documentation /48 (2001:db8::/32), to carve IPv6 clients out of. */
function ipv6Site(): string {
  return `2001:db8:${randomInt(0x10000).toString(16)}`;
}

describe('the client address rate limits count by', () => {
  let api: TestApp | undefined;

  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  async function start(env: Record<string, string>): Promise<TestApp> {
    api = await startTestApp({ THROTTLE_ANONYMOUS_LIMIT: String(LIMIT), ...env });
    return api;
  }

  /** One failed authentication (a garbage token) from `from`, claiming `forwardedFor`. */
  function attempt(app: TestApp, from: string, forwardedFor?: string) {
    const options: RequestOptions = { localAddress: from, token: 'garbage' };
    if (forwardedFor !== undefined) options.headers = { 'x-forwarded-for': forwardedFor };
    return app.http.get('/api/profile', options);
  }

  async function expectCounted(app: TestApp, from: string, forwardedFor?: string) {
    expectRefused(app, await attempt(app, from, forwardedFor), { reason: NOT_A_JWT });
  }

  async function expectLimited(app: TestApp, from: string, forwardedFor?: string) {
    expectProblem(await attempt(app, from, forwardedFor), {
      status: 429,
      retryAfter: expect.stringMatching(/^[1-9]\d*$/),
      instance: '/api/profile',
    });
  }

  describe('without TRUST_PROXY', () => {
    it('ignores a forged X-Forwarded-For: a new claimed address each time is still one budget', async () => {
      const app = await start({});
      const peer = loopback();
      for (let i = 0; i < LIMIT; i++) await expectCounted(app, peer, testNet());
      await expectLimited(app, peer, testNet());
      await expectLimited(app, peer);
      // The budget is the peer's: another peer claiming nothing is untouched.
      await expectCounted(app, loopback());
    });
  });

  describe('with TRUST_PROXY listing the proxies', () => {
    let proxy: string;

    beforeEach(async () => {
      proxy = loopback();
      await start({ TRUST_PROXY: `${proxy}, 10.0.0.0/8` });
    });

    it('believes X-Forwarded-For from a listed proxy: each client has its own budget', async () => {
      const app = api!;
      const [alice, bob] = [testNet(), testNet()];
      for (let i = 0; i < LIMIT; i++) await expectCounted(app, proxy, alice);
      await expectLimited(app, proxy, alice);
      await expectCounted(app, proxy, bob);
      // The proxy itself (requests it sends without the header) has a budget of its own.
      await expectCounted(app, proxy);
    });

    it('takes the address the listed proxy saw, not what the client prepended', async () => {
      const app = api!;
      const client = testNet();
      for (let i = 0; i < LIMIT; i++) await expectCounted(app, proxy, `${testNet()}, ${client}`);
      await expectLimited(app, proxy, `${testNet()}, ${client}`);
    });

    it('ignores X-Forwarded-For from a peer that is not listed', async () => {
      const app = api!;
      const stranger = loopback();
      for (let i = 0; i < LIMIT; i++) await expectCounted(app, stranger, testNet());
      await expectLimited(app, stranger, testNet());
      await expectLimited(app, stranger, `${testNet()}, ${proxy}`);
    });

    it.each([
      ['unknown', () => 'unknown'],
      ['garbage', () => `garbage-${randomInt(1e9)}`],
      ['an address with a port', () => `${testNet()}:${1 + randomInt(65535)}`],
      ['a bracketed IPv6 address', () => `[${ipv6Site()}::1]`],
      ['an obfuscated IPv4 address', () => `0x7f.${randomInt(256)}.0.1`],
      ['an SQL fragment', () => `1.2.3.4'); DROP TABLE todos; --`],
    ])(
      'never opens a bucket for an entry that is not an IP address (%s): the proxy pays',
      async (_name, entry) => {
        const app = api!;
        for (let i = 0; i < LIMIT; i++) await expectCounted(app, proxy, entry());
        await expectLimited(app, proxy, entry());
        // The proxy's own budget is what was used.
        await expectLimited(app, proxy);
      },
    );
  });

  describe('with TRUST_PROXY as a hop count', () => {
    it('takes the address that many hops out, whatever the client wrote before it', async () => {
      const app = await start({ TRUST_PROXY: '2' });
      const peer = loopback();
      const client = testNet();
      // client -> outer proxy (appends the client) -> inner proxy (appends the outer) -> API.
      const chain = () => `${testNet()}, ${client}, 10.1.1.1`;
      for (let i = 0; i < LIMIT; i++) await expectCounted(app, peer, chain());
      await expectLimited(app, peer, chain());
      await expectCounted(app, peer, `${client}, ${testNet()}, 10.1.1.1`);
    });
  });

  describe('IPv6 clients', () => {
    it('share one budget per /64 by default', async () => {
      const proxy = loopback();
      const app = await start({ TRUST_PROXY: proxy });
      const site = ipv6Site();
      for (let i = 0; i < LIMIT; i++) await expectCounted(app, proxy, `${site}:1:${i + 1}::1`);
      await expectLimited(app, proxy, `${site}:1:ffff:ffff:ffff:ffff`);
      await expectCounted(app, proxy, `${site}:2::1`);
    });

    it('share one budget per RATE_LIMIT_IPV6_PREFIX block', async () => {
      const proxy = loopback();
      const app = await start({ TRUST_PROXY: proxy, RATE_LIMIT_IPV6_PREFIX: '56' });
      const site = ipv6Site();
      for (let i = 0; i < LIMIT; i++) await expectCounted(app, proxy, `${site}:${i + 1}::1`);
      await expectLimited(app, proxy, `${site}:ff::1`);
      await expectCounted(app, proxy, `${site}:100::1`);
    });
  });
});
