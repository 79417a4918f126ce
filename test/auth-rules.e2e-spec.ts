import { generateKeyPairSync } from 'node:crypto';
import { expectAccepted, expectRefused, NOT_A_JWT, tokenSecrets } from './support/auth-assertions';
import { BetterAuthIssuer, IssuedUser } from './support/better-auth-issuer';
import { freePort } from './support/free-port';
import { compact, decodeSegment, hmac, segment, signInput } from './support/jws';
import { startTestApp, TestApp } from './support/test-app';

/**
 * The refusal list: every way a request can fail authentication, each
 * answered with the exact status, challenge, problem body and a single warn log line.
 */

function appEnv(issuer: BetterAuthIssuer, extra: Record<string, string> = {}) {
  return {
    BETTER_AUTH_URL: issuer.url,
    JWT_ALGORITHMS: 'EdDSA',
    JWT_CLOCK_TOLERANCE_SECONDS: '5',
    ...extra,
  };
}

describe('authentication refusals', () => {
  let issuer: BetterAuthIssuer;
  let api: TestApp;
  let user: IssuedUser;
  let kid: string;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    user = await issuer.createUser();
    api = await startTestApp(appEnv(issuer));
    kid = (await issuer.jwks()).keys[0].kid as string;
  });

  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  const refuse = async (token: string, reason: string) => {
    const response = await api.http.get('/api/profile', { token });
    expectRefused(api, response, { reason, secrets: tokenSecrets(token) });
  };

  it('accepts the real Better Auth JWT (baseline)', async () => {
    expectAccepted(await api.http.get('/api/profile', { token: user.jwt }), user.id);
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.signRaw(
      {},
      issuer.claimsFor(user.id, { iat: now - 3600, exp: now - 60 }),
    );
    await refuse(token, 'token expired');
  });

  it('refuses a token from another issuer', async () => {
    const token = await issuer.signRaw({}, issuer.claimsFor(user.id, { iss: 'https://evil.test' }));
    await refuse(token, 'wrong issuer');
  });

  it('refuses a token for another audience', async () => {
    const token = await issuer.signRaw(
      {},
      issuer.claimsFor(user.id, { aud: 'https://other.test' }),
    );
    await refuse(token, 'wrong audience');
  });

  it('refuses a real token whose payload was changed', async () => {
    const [header, payload, signature] = user.jwt.split('.');
    const claims = decodeSegment(payload);
    const forged = `${header}.${segment({ ...claims, sub: 'someone-else', id: 'someone-else' })}.${signature}`;
    await refuse(forged, 'signature verification failed');
  });

  it('refuses alg "none"', async () => {
    const claims = issuer.claimsFor(user.id);
    await refuse(compact({ alg: 'none', kid }, claims), 'algorithm not allowed');
    await refuse(compact({ alg: 'none' }, claims), 'algorithm not allowed');
  });

  it('refuses HS256 keyed with the public key material', async () => {
    const jwk = (await issuer.jwks()).keys[0];
    const token = compact({ alg: 'HS256', kid }, issuer.claimsFor(user.id), (input) =>
      hmac('HS256', JSON.stringify(jwk), input),
    );
    await refuse(token, 'algorithm not allowed');
  });

  it('refuses a token signed with a key the JWKS does not hold', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const sign = (input: string) => signInput('EdDSA', privateKey, input);
    const claims = issuer.claimsFor(user.id);
    await refuse(
      compact({ alg: 'EdDSA', kid: 'attacker-key' }, claims, sign),
      'signing key not found in the JWKS',
    );
    // Naming the real kid, or no kid (one key fits, so it is chosen), leaves a bad signature.
    await refuse(compact({ alg: 'EdDSA', kid }, claims, sign), 'signature verification failed');
    await refuse(compact({ alg: 'EdDSA' }, claims, sign), 'signature verification failed');
  });

  it('refuses tokens from a second Better Auth instance', async () => {
    const other = await BetterAuthIssuer.start();
    try {
      const stranger = await other.createUser();
      await refuse(stranger.jwt, 'signing key not found in the JWKS');
      // Even with our issuer's claims and key id, the other instance's key cannot sign for it.
      const lookalike = await other.signRaw({ kid }, issuer.claimsFor(user.id));
      await refuse(lookalike, 'signature verification failed');
    } finally {
      await other.close();
    }
  });

  it("refuses Better Auth's opaque session token and says to send the JWT from /api/auth/token", async () => {
    const response = await api.http.get('/api/profile', { token: user.sessionToken });
    const body = expectRefused(api, response, { reason: NOT_A_JWT, secrets: [user.sessionToken] });
    expect(response.headers.get('www-authenticate')).toContain('/api/auth/token');
    expect(body.detail).toContain('/api/auth/token');
  });

  it('refuses the signed session cookie value sent as a bearer token, with the same hint', async () => {
    const cookieValue = user.cookie.split('=')[1];
    const response = await api.http.get('/api/profile', { token: cookieValue });
    expectRefused(api, response, { reason: NOT_A_JWT, secrets: [cookieValue] });
  });

  it('answers a request without a token with the plain challenge', async () => {
    expectRefused(api, await api.http.get('/api/profile'), {});
  });

  it('reads the token from nowhere but the Authorization header', async () => {
    const token = await issuer.signRaw({}, issuer.claimsFor(user.id));
    const inCookie = await api.http.get('/api/profile', {
      headers: { Cookie: `${user.cookie}; access_token=${token}` },
    });
    expectRefused(api, inCookie, { secrets: tokenSecrets(token) });
  });

  it('refuses a token in the query string and never writes it to the logs', async () => {
    const token = await issuer.signRaw({}, issuer.claimsFor(user.id));
    const inQuery = await api.http.get(`/api/profile?access_token=${token}`);
    expectRefused(api, inQuery, { secrets: tokenSecrets(token) });
  });

  it.each([
    ['Basic dXNlcjpwYXNzd29yZA==', 'authorization header must be Bearer <token>'],
    ['Bearer', 'empty bearer token'],
    ['Bearer    ', 'empty bearer token'],
    ['', 'authorization header must be Bearer <token>'],
    ['Token abc.def.ghi', 'authorization header must be Bearer <token>'],
    ['Bearer a b', 'authorization header must be Bearer <token>'],
    ['Bearer\tTOKEN', 'authorization header must be Bearer <token>'],
    ['BearerTOKEN', 'authorization header must be Bearer <token>'],
    ['Bearer TOKEN trailing', 'authorization header must be Bearer <token>'],
    ['Bearer TOKEN,Bearer TOKEN', 'authorization header must be Bearer <token>'],
  ])('refuses the Authorization header %j', async (template, reason) => {
    const value = template.replaceAll('TOKEN', user.jwt);
    const response = await api.http.get('/api/profile', { authorization: value });
    expectRefused(api, response, { reason, secrets: tokenSecrets(user.jwt) });
  });

  it('refuses two Authorization headers, even when both hold the valid token', async () => {
    const response = await api.http.get('/api/profile', {
      headers: [
        ['Authorization', `Bearer ${user.jwt}`],
        ['Authorization', `Bearer ${user.jwt}`],
      ],
    });
    expectRefused(api, response, {
      reason: 'multiple authorization headers',
      secrets: tokenSecrets(user.jwt),
    });
    const mixed = await api.http.get('/api/profile', {
      headers: [
        ['Authorization', `Bearer ${user.jwt}`],
        ['authorization', 'Basic dXNlcjpwYXNzd29yZA=='],
      ],
    });
    expectRefused(api, mixed, {
      reason: 'multiple authorization headers',
      secrets: tokenSecrets(user.jwt),
    });
  });

  it.each(['bearer TOKEN', 'BEARER TOKEN', 'bEaReR TOKEN', 'Bearer     TOKEN', 'Bearer TOKEN   '])(
    'accepts the Authorization header %j (scheme case-insensitive, one or more spaces)',
    async (template) => {
      const response = await api.http.get('/api/profile', {
        authorization: template.replaceAll('TOKEN', user.jwt),
      });
      expectAccepted(response, user.id);
    },
  );
});

describe('key rotation', () => {
  let issuer: BetterAuthIssuer;
  let api: TestApp;
  let jwksFetches = 0;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start({
      onRequest: (request) => {
        if (request.url?.startsWith('/api/auth/jwks')) jwksFetches += 1;
      },
    });
    await issuer.createUser();
    api = await startTestApp(appEnv(issuer, { JWKS_COOLDOWN_SECONDS: '30' }));
  });

  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  it('accepts a new kid without a restart and keeps accepting tokens of the old key', async () => {
    const before = await issuer.createUser();
    expectAccepted(await api.http.get('/api/profile', { token: before.jwt }), before.id);
    // Signed with the old key now, first shown to the app after the rotation.
    const unseenOldKeyToken = await issuer.signRaw({}, issuer.claimsFor(before.id));
    const oldKid = decodeSegment(before.jwt.split('.')[0]).kid;
    const fetchesBefore = jwksFetches;

    await issuer.rotateKey();
    const after = await issuer.createUser();
    const newKid = decodeSegment(after.jwt.split('.')[0]).kid;
    expect(newKid).not.toBe(oldKid);

    expectAccepted(await api.http.get('/api/profile', { token: after.jwt }), after.id);
    expect(jwksFetches).toBe(fetchesBefore + 1);
    expectAccepted(await api.http.get('/api/profile', { token: before.jwt }), before.id);
    expectAccepted(await api.http.get('/api/profile', { token: unseenOldKeyToken }), before.id);
    expect(jwksFetches).toBe(fetchesBefore + 1);
  });
});

describe('when the JWKS cannot be fetched', () => {
  let issuer: BetterAuthIssuer;
  let api: TestApp | undefined;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
  });

  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  afterAll(async () => {
    await issuer.close().catch(() => undefined);
  });

  it('keeps accepting tokens of cached keys and answers 503 + Retry-After for an unknown kid', async () => {
    const user = await issuer.createUser();
    api = await startTestApp(
      appEnv(issuer, { JWKS_COOLDOWN_SECONDS: '0', JWKS_TIMEOUT_MS: '1000' }),
    );
    // Signed now with the key the app loaded at startup, but never shown to the app before.
    const cachedKeyToken = await issuer.signRaw({}, issuer.claimsFor(user.id));
    await issuer.close();

    expectAccepted(await api.http.get('/api/profile', { token: cachedKeyToken }), user.id);

    await issuer.rotateKey();
    const newKeyToken = await issuer.signRaw({}, issuer.claimsFor(user.id));
    const response = await api.http.get('/api/profile', { token: newKeyToken });
    expectRefused(api, response, { status: 503, secrets: tokenSecrets(newKeyToken) });

    // Requests that fail before any key is needed are still 401s, not 503s.
    expectRefused(api, await api.http.get('/api/profile'), {});
    const none = compact({ alg: 'none' }, issuer.claimsFor(user.id));
    expectRefused(api, await api.http.get('/api/profile', { token: none }), {
      reason: 'algorithm not allowed',
      secrets: tokenSecrets(none),
    });
    expectAccepted(await api.http.get('/api/profile', { token: cachedKeyToken }), user.id);
  });

  it('answers 503 + Retry-After when no key could ever be loaded', async () => {
    const other = await BetterAuthIssuer.start();
    const user = await other.createUser();
    const token = await other.signRaw({}, other.claimsFor(user.id));
    await other.close();
    const deadPort = await freePort();
    api = await startTestApp({
      ...appEnv(other, { JWKS_TIMEOUT_MS: '1000' }),
      JWKS_URL: `http://127.0.0.1:${deadPort}/api/auth/jwks`,
    });
    expectRefused(api, await api.http.get('/api/profile', { token }), {
      status: 503,
      secrets: tokenSecrets(token),
    });
  });
});
