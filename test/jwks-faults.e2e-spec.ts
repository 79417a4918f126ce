import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expectAccepted, expectRefused, tokenSecrets } from './support/auth-assertions';
import { freshToken, jwksAppEnv, JwksAppPerTest, subOf } from './support/jwks-app';
import { JwksBehaviour, JwksServer, TestSigningKey } from './support/jwks-server';
import { Reply } from './support/http';
import { startTestApp, TestApp } from './support/test-app';

/**
 * The JWKS rules against a key server that misbehaves on purpose: every failed fetch keeps
 * the known keys working, a token whose key cannot be known is 503 + Retry-After, the key set
 * follows the issuer (removed keys stop working, `use: enc` and mislabelled keys are never
 * used), and a flood of unknown `kid`s cannot make the API hammer the key server.
 */

const MIB = 1024 * 1024;
const NOT_FOUND = 'signing key not found in the JWKS';
/** No cooldown, so every unknown kid makes the app fetch: each fault below is really met. */
const EVERY_FETCH = { JWKS_COOLDOWN_SECONDS: '0', JWKS_TIMEOUT_MS: '1000' };

async function expectOk(api: TestApp, token: string) {
  expectAccepted(await api.http.get('/api/profile', { token }), subOf(token));
}

async function expectNotFound(api: TestApp, token: string, reason = NOT_FOUND) {
  expectRefused(api, await api.http.get('/api/profile', { token }), {
    reason,
    secrets: tokenSecrets(token),
  });
}

describe('JWKS fetch failures', () => {
  const k1 = TestSigningKey.generate();
  const k2 = TestSigningKey.generate();
  let server: JwksServer;
  let api: TestApp | undefined;

  beforeAll(async () => {
    server = await JwksServer.start();
    server.setKeys([k1.jwk()]);
    api = await startTestApp(jwksAppEnv(server, EVERY_FETCH));
  });

  afterAll(async () => {
    await api?.close();
    await server.close();
  });

  const keysDocument = () => JSON.stringify({ keys: [k1.jwk(), k2.jwk()] });
  const faults: Array<[string, () => JwksBehaviour, string]> = [
    [
      'headers slower than JWKS_TIMEOUT_MS',
      () => ({ kind: 'slow-headers', delayMs: 5000 }),
      'timed out after 1000 ms',
    ],
    [
      'a body slower than JWKS_TIMEOUT_MS',
      () => ({ kind: 'slow-body', delayMs: 5000 }),
      'timed out after 1000 ms',
    ],
    ['HTTP 500', () => ({ kind: 'status', status: 500 }), 'answered HTTP 500'],
    ['HTTP 404', () => ({ kind: 'status', status: 404 }), 'answered HTTP 404'],
    [
      'HTML',
      () => ({
        kind: 'body',
        contentType: 'text/html',
        body: '<html><body>Bad gateway</body></html>',
      }),
      'body is not JSON',
    ],
    [
      'broken JSON',
      () => ({ kind: 'body', contentType: 'application/json', body: keysDocument().slice(0, -2) }),
      'body is not JSON',
    ],
    [
      'over 1 MiB with a Content-Length',
      () => ({ kind: 'huge', bytes: MIB + 1, declareLength: true }),
      `exceeds ${MIB}`,
    ],
    [
      'over 1 MiB streamed without a Content-Length',
      () => ({ kind: 'huge', bytes: 2 * MIB, declareLength: false }),
      `body exceeds ${MIB} bytes`,
    ],
    ['a 302 redirect to a valid key set', () => ({ kind: 'redirect' }), 'answered HTTP 302'],
    [
      'no "keys" member',
      () => ({
        kind: 'body',
        contentType: 'application/json',
        body: JSON.stringify({ jwks: [k1.jwk(), k2.jwk()] }),
      }),
      'body has no "keys" array',
    ],
    [
      '"keys" not an array',
      () => ({
        kind: 'body',
        contentType: 'application/json',
        body: JSON.stringify({ keys: { k2: k2.jwk() } }),
      }),
      'body has no "keys" array',
    ],
    [
      'a bare array of keys',
      () => ({
        kind: 'body',
        contentType: 'application/json',
        body: JSON.stringify([k1.jwk(), k2.jwk()]),
      }),
      'body has no "keys" array',
    ],
    [
      'JSON null',
      () => ({ kind: 'body', contentType: 'application/json', body: 'null' }),
      'body has no "keys" array',
    ],
    // Read as an empty set, these would withdraw k1; with the null dropped, k2 would be learnt.
    ...(['[null]', '[1]', '["key"]', '[[]]'].map((keys) => [
      `"keys": ${keys}`,
      () => ({ kind: 'body', contentType: 'application/json', body: `{"keys":${keys}}` }),
      '"keys" holds an entry that is not a JSON object',
    ]) as Array<[string, () => JwksBehaviour, string]>),
    [
      'a new key beside a null entry',
      () => ({
        kind: 'body',
        contentType: 'application/json',
        body: JSON.stringify({ keys: [k1.jwk(), k2.jwk(), null] }),
      }),
      '"keys" holds an entry that is not a JSON object',
    ],
  ];

  it.each(faults)(
    'on %s: refuses an unknown key with 503 + Retry-After and keeps the known key working',
    async (_name, behaviour, logged) => {
      const app = api as TestApp;
      // Were the fetch (wrongly) accepted, k2 would become known and its token would pass.
      server.setKeys([k1.jwk(), k2.jwk()]);
      server.behave(behaviour());
      server.resetCounters();
      const logsBefore = app.logs.lines.length;

      const k2Token = freshToken(k2);
      expectRefused(app, await app.http.get('/api/profile', { token: k2Token }), {
        status: 503,
        secrets: tokenSecrets(k2Token),
      });
      expect(server.requests).toBe(1);
      expect(server.redirectTargetRequests).toBe(0);
      const fetchWarnings = app.logs.lines
        .slice(logsBefore)
        .filter((line) => line.context === 'JwksKeyStore' && line.level === 'warn');
      expect(fetchWarnings.map((line) => line.msg)).toEqual([expect.stringContaining(logged)]);

      await expectOk(app, freshToken(k1));
      server.behave({ kind: 'ok' });
      server.setKeys([k1.jwk()]);
    },
  );

  it('starts without keys when the JWKS is down (503), and recovers without a restart', async () => {
    await api?.close();
    server.setKeys([k1.jwk()]);
    server.behave({ kind: 'status', status: 503 });
    api = await startTestApp(jwksAppEnv(server, EVERY_FETCH));
    const token = freshToken(k1);
    expectRefused(api, await api.http.get('/api/profile', { token }), {
      status: 503,
      secrets: tokenSecrets(token),
    });

    server.behave({ kind: 'ok' });
    await expectOk(api, token);
  });

  it('skips objects that are not usable keys; an empty keys array withdraws every key', async () => {
    const app = api as TestApp;
    const k3 = TestSigningKey.generate();
    server.behave({ kind: 'ok' });
    server.setKeys([{ kty: 'OKP' }, { hello: 'world' }, k1.jwk(), k3.jwk()]);
    await expectOk(app, freshToken(k3));
    await expectOk(app, freshToken(k1));

    server.setKeys([]);
    const k1Token = freshToken(k1);
    // The unknown kid makes the app refetch; the empty set is an answer, not a failure: 401.
    await expectNotFound(app, freshToken(k2));
    await expectNotFound(app, k1Token);
    await expectNotFound(app, freshToken(k3));
    server.setKeys([k1.jwk()]);
  });
});

describe('JWKS key set changes', () => {
  const jwks = new JwksAppPerTest();
  beforeAll(() => jwks.open());
  afterEach(() => jwks.closeApp());
  afterAll(() => jwks.close());

  it('refuses a removed key once an unknown kid has made the app refetch', async () => {
    const [k1, k2, k3] = [1, 2, 3].map(() => TestSigningKey.generate());
    jwks.server.setKeys([k1.jwk(), k2.jwk()]);
    const api = await jwks.startApp({ JWKS_COOLDOWN_SECONDS: '0' });
    const k1Token = freshToken(k1);
    await expectOk(api, k1Token);
    await expectOk(api, k1Token);

    jwks.server.setKeys([k2.jwk()]);
    // Nothing told the app yet (TTL 600 s): the key it holds still verifies.
    await expectOk(api, k1Token);
    await expectNotFound(api, freshToken(k3));
    // The refetch replaced the key set: the cached token of the removed key is refused too.
    await expectNotFound(api, k1Token);
    await expectNotFound(api, freshToken(k1));
    await expectOk(api, freshToken(k2));
  });

  it('refuses a removed key after JWKS_CACHE_TTL_SECONDS, even for a token it already verified', async () => {
    const [k1, k2] = [1, 2].map(() => TestSigningKey.generate());
    jwks.server.setKeys([k1.jwk(), k2.jwk()]);
    const api = await jwks.startApp({ JWKS_CACHE_TTL_SECONDS: '1', JWKS_COOLDOWN_SECONDS: '30' });
    const k1Token = freshToken(k1);
    await expectOk(api, k1Token);
    jwks.server.setKeys([k2.jwk()]);
    jwks.server.resetCounters();
    await sleep(1100);

    // The first request after the TTL starts a background refresh; poll until it has landed.
    let response: Reply = await api.http.get('/api/profile', { token: k1Token });
    for (let i = 0; i < 40 && response.status === 200; i++) {
      await sleep(100);
      response = await api.http.get('/api/profile', { token: k1Token });
    }
    expectRefused(api, response, { reason: NOT_FOUND, secrets: tokenSecrets(k1Token) });
    expect(jwks.server.requests).toBeGreaterThanOrEqual(1);
    await expectOk(api, freshToken(k2));
  });

  it('never uses keys marked use: "enc"', async () => {
    const [sig, enc] = [1, 2].map(() => TestSigningKey.generate());
    jwks.server.setKeys([sig.jwk(), enc.jwk({ use: 'enc' })]);
    const api = await jwks.startApp({ JWKS_COOLDOWN_SECONDS: '0' });
    await expectNotFound(api, freshToken(enc));
    // Without a kid the only signing key is chosen, and the enc key's signature fails on it.
    await expectNotFound(api, freshToken(enc, { kid: undefined }), 'signature verification failed');
    await expectOk(api, freshToken(sig));
    await expectOk(api, freshToken(sig, { kid: undefined }));
  });

  it("refuses a key whose own alg differs from the token's (type and curve decide keys without alg)", async () => {
    const ecLabelledEs384 = TestSigningKey.generate('P-256');
    const edLabelledEs256 = TestSigningKey.generate('Ed25519');
    const edLabelledEd25519 = TestSigningKey.generate('Ed25519');
    const ecWithoutAlg = TestSigningKey.generate('P-256');
    const edWithoutAlg = TestSigningKey.generate('Ed25519');
    jwks.server.setKeys([
      ecLabelledEs384.jwk({ alg: 'ES384' }),
      edLabelledEs256.jwk({ alg: 'ES256' }),
      edLabelledEd25519.jwk({ alg: 'Ed25519' }),
      ecWithoutAlg.jwk({ alg: undefined }),
      edWithoutAlg.jwk({ alg: undefined }),
    ]);
    const api = await jwks.startApp({
      JWT_ALGORITHMS: 'EdDSA,ES256,ES384',
      JWKS_COOLDOWN_SECONDS: '0',
    });

    await expectNotFound(api, freshToken(ecLabelledEs384));
    await expectNotFound(api, freshToken(ecLabelledEs384, { alg: 'ES384' }, 'ES384'));
    await expectNotFound(api, freshToken(edLabelledEs256));
    await expectNotFound(api, freshToken(edLabelledEs256, { alg: 'ES256' }));
    await expectNotFound(api, freshToken(ecWithoutAlg, { alg: 'ES384' }, 'ES384'));

    await expectOk(api, freshToken(edLabelledEd25519));
    await expectOk(api, freshToken(edLabelledEd25519, { alg: 'Ed25519' }));
    await expectOk(api, freshToken(ecWithoutAlg));
    await expectOk(api, freshToken(edWithoutAlg));
  });
});

describe('a flood of unknown kids', () => {
  const COOLDOWN_MS = 2000;
  const user = TestSigningKey.generate();
  const attacker = TestSigningKey.generate();
  let server: JwksServer;
  let api: TestApp;

  beforeAll(async () => {
    server = await JwksServer.start();
    server.setKeys([user.jwk()]);
    api = await startTestApp(
      jwksAppEnv(server, {
        JWKS_COOLDOWN_SECONDS: String(COOLDOWN_MS / 1000),
        JWKS_TIMEOUT_MS: '3000',
      }),
    );
    // Each fetch stays open a while, so the flood's requests overlap it.
    server.behave({ kind: 'ok', delayMs: 300 });
  });

  afterAll(async () => {
    await api.close();
    await server.close();
  });

  async function flood(count: number) {
    const started = Date.now();
    const forged = Array.from({ length: count }, () =>
      freshToken(attacker, { kid: `random-${randomUUID()}` }),
    );
    const floodResponses = Promise.all(
      forged.map((token) => api.http.get('/api/profile', { token })),
    );
    const validResponses: Reply[] = [];
    const validTokens: string[] = [];
    for (let i = 0; i < 10; i++) {
      const token = freshToken(user);
      validTokens.push(token);
      validResponses.push(await api.http.get('/api/profile', { token }));
    }
    const responses = await floodResponses;
    return { elapsed: Date.now() - started, forged, responses, validTokens, validResponses };
  }

  it('fetches at most once per cooldown, shares that fetch, and keeps serving valid users', async () => {
    server.resetCounters();
    const first = await flood(200);

    for (const [i, response] of first.responses.entries()) {
      expectRefused(api, response, { reason: NOT_FOUND, secrets: tokenSecrets(first.forged[i]) });
    }
    for (const [i, response] of first.validResponses.entries()) {
      expectAccepted(response, subOf(first.validTokens[i]));
    }
    expect(server.requests).toBeGreaterThanOrEqual(1);
    expect(server.requests).toBeLessThanOrEqual(Math.floor(first.elapsed / COOLDOWN_MS) + 1);
    expect(server.maxConcurrent).toBe(1);

    // After the cooldown one more unknown kid is looked up again (a rotation is still noticed).
    await sleep(COOLDOWN_MS + 200);
    const fetchesBefore = server.requests;
    const second = await flood(50);
    const extra = server.requests - fetchesBefore;
    expect(extra).toBeGreaterThanOrEqual(1);
    expect(extra).toBeLessThanOrEqual(Math.floor(second.elapsed / COOLDOWN_MS) + 1);
    expect(second.responses.map((response) => response.status)).toEqual(
      second.responses.map(() => 401),
    );
    expect(second.validResponses.map((response) => response.status)).toEqual(
      second.validResponses.map(() => 200),
    );
    expect(server.maxConcurrent).toBe(1);
  });
});
