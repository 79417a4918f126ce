import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import {
  BEARER_CHALLENGE,
  expectRefused,
  invalidTokenChallenge,
  NOT_A_JWT,
  tokenSecrets,
} from './support/auth-assertions';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { CLIENT_ADDRESS, HttpClient, Reply } from './support/http';
import { compact, signInput } from './support/jws';
import { expectProblem } from './support/problem';
import { startTestApp, TestApp } from './support/test-app';
import { testDatabaseUrl } from './support/test-env';

/**
 * Many users behind one address (a load balancer the API does not know about, or a NAT behind
 * a proxy it trusts) while one of them floods the API with garbage tokens. The flood gets 429
 * once the address is over its failure budget; the others must still get what they need: a
 * request without a token its 401 challenge, a genuine token that has expired or is not yet
 * valid its 401 saying so (so the client refreshes instead of giving up), a valid token 200.
 */

const FAILURE_LIMIT = 5;

interface Setting {
  name: string;
  env: (peer: string) => Record<string, string>;
  /** Headers every request carries: the address the proxy reports for these users, if any. */
  headers: Record<string, string>;
}

const SETTINGS: Setting[] = [
  {
    name: 'a load balancer the API does not trust (TRUST_PROXY unset)',
    env: () => ({}),
    headers: {},
  },
  {
    name: 'a trusted proxy, the users behind one NAT address (TRUST_PROXY=<proxy>)',
    env: (peer) => ({ TRUST_PROXY: peer }),
    headers: { 'x-forwarded-for': '100.64.0.1' },
  },
];

describe.each(SETTINGS)('users sharing an address behind $name', ({ env, headers }) => {
  // Every request below arrives from this one peer, as through a proxy.
  const peer = CLIENT_ADDRESS;
  let issuer: BetterAuthIssuer;
  let alice: IssuedUser;
  let api: TestApp;
  let http: HttpClient;
  let db: Client;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    alice = await issuer.createUser();
    api = await startTestApp({
      BETTER_AUTH_URL: issuer.url,
      THROTTLE_ANONYMOUS_LIMIT: String(FAILURE_LIMIT),
      THROTTLE_TTL_SECONDS: '3600',
      ...env(peer),
    });
    http = api.http.with({ localAddress: peer, headers });
    db = new Client({ connectionString: testDatabaseUrl() });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await api?.close();
    await issuer?.close();
  });

  async function rowsOwnedBy(userId: string): Promise<number> {
    const result = await db.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM todos WHERE user_id = $1',
      [userId],
    );
    return result.rows[0].count;
  }

  /** Garbage of every kind an attacker sends: not a JWT, forged signatures, unknown keys. */
  async function garbage(i: number): Promise<{ token: string; reason: string }> {
    const attacker = generateKeyPairSync('ed25519').privateKey;
    const claims = issuer.claimsFor(alice.id);
    const jwk = (await issuer.jwks()).keys[0];
    const kinds = [
      { token: `garbage-${i}-${randomUUID()}`, reason: NOT_A_JWT },
      {
        token: compact({ alg: 'EdDSA', kid: jwk.kid }, { ...claims, jti: String(i) }, (input) =>
          signInput('EdDSA', attacker, input),
        ),
        reason: 'signature verification failed',
      },
      {
        token: compact({ alg: 'EdDSA', kid: `unknown-${i}` }, claims, (input) =>
          signInput('EdDSA', attacker, input),
        ),
        reason: 'signing key not found in the JWKS',
      },
    ];
    return kinds[i % kinds.length];
  }

  function expectTooMany(reply: Reply) {
    expectProblem(reply, {
      status: 429,
      retryAfter: expect.stringMatching(/^[1-9]\d*$/),
      instance: '/api/todos',
    });
  }

  it('limits the garbage, never the users who still need their 401 or 200', async () => {
    const aliceTodos = await rowsOwnedBy(alice.id);
    const before = await http.get('/api/todos', { token: alice.jwt });
    expect(before.status).toBe(200);

    // The flood: each garbage token is a 401 with its reason until the budget is spent.
    for (let i = 0; i < FAILURE_LIMIT; i++) {
      const { token, reason } = await garbage(i);
      const reply = await http.get('/api/todos', { token });
      expectRefused(api, reply, { reason, secrets: tokenSecrets(token), path: '/api/todos' });
    }
    for (let i = FAILURE_LIMIT; i < FAILURE_LIMIT + 3; i++) {
      expectTooMany(await http.get('/api/todos', { token: (await garbage(i)).token }));
    }

    // No token at all: the plain challenge, as many times as the users ask.
    for (let i = 0; i < 3; i++) {
      const reply = await http.get('/api/todos');
      expectRefused(api, reply, { path: '/api/todos' });
      expect(reply.headers.get('www-authenticate')).toBe(BEARER_CHALLENGE);
    }

    // Genuine tokens outside their time window: 401 naming the reason, so clients refresh.
    const now = Math.floor(Date.now() / 1000);
    const outside = [
      {
        token: await issuer.signRaw(
          {},
          issuer.claimsFor(alice.id, { iat: now - 1000, exp: now - 100 }),
        ),
        reason: 'token expired',
      },
      {
        token: await issuer.signRaw({}, issuer.claimsFor(alice.id, { nbf: now + 600 })),
        reason: 'token not yet valid',
      },
    ];
    for (const { token, reason } of outside) {
      for (let i = 0; i < 3; i++) {
        const read = await http.get('/api/todos', { token });
        expectRefused(api, read, { reason, secrets: tokenSecrets(token), path: '/api/todos' });
        expect(read.headers.get('www-authenticate')).toBe(invalidTokenChallenge(reason));
      }
      const write = await http.post('/api/todos', { title: `expired-${randomUUID()}` }, { token });
      expectRefused(api, write, { reason, secrets: tokenSecrets(token), path: '/api/todos' });
    }

    // A valid user is judged on their own budget.
    const after = await http.get('/api/todos', { token: alice.jwt });
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);

    // The address is still over its failure budget: the flood is still refused.
    expectTooMany(await http.get('/api/todos', { token: (await garbage(99)).token }));

    // Nothing was written by any of it.
    expect(await rowsOwnedBy(alice.id)).toBe(aliceTodos);
    expect(api.logs.failures()).toEqual([]);
  });
});
