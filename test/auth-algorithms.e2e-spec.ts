import { BetterAuthAlgorithm, BetterAuthIssuer } from './support/better-auth-issuer';
import { startTestApp, TestApp } from './support/test-app';

const ALGORITHMS: BetterAuthAlgorithm[] = ['EdDSA', 'ES256', 'ES512', 'RS256', 'PS256'];

describe.each(ALGORITHMS)('a real Better Auth token signed with %s', (alg) => {
  let issuer: BetterAuthIssuer;
  let api: TestApp;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start({ alg });
    api = await startTestApp({ BETTER_AUTH_URL: issuer.url, JWT_ALGORITHMS: alg });
  });

  afterAll(async () => {
    await api.close();
    await issuer.close();
  });

  it('is accepted on GET /api/profile with the right id and email', async () => {
    const user = await issuer.createUser({ name: `Ada ${alg}` });
    const header = JSON.parse(Buffer.from(user.jwt.split('.')[0], 'base64url').toString());
    expect(header.alg).toBe(alg);

    const response = await api.http.get('/api/profile', { token: user.jwt });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      id: user.id,
      email: user.email,
      name: `Ada ${alg}`,
      emailVerified: false,
      image: null,
    });
  });
});
