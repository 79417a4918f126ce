import { SecurityHarness } from '../support/security-harness';

/**
 * RFC 8725 §3.8–3.10 and OWASP "claims not validated": time claims around now ± the clock
 * tolerance, `sub`, `iss` and `aud` of every type. Every token here carries a genuine
 * signature, so only the claim under test can be the reason.
 */

/** Set explicitly; cases sit MARGIN seconds inside or outside it, robust on a loaded machine. */
const TOLERANCE = 10;
const MARGIN = 4;
const SECOND_AUDIENCE = 'https://api.example.test';

describe('claims', () => {
  let h: SecurityHarness;
  const now = () => Math.floor(Date.now() / 1000);
  const token = (claims: Record<string, unknown>) => h.sign({}, h.claims(claims));
  const without = async (...names: string[]) => {
    const claims: Record<string, unknown> = { ...h.claims() };
    for (const name of names) delete claims[name];
    return h.sign({}, claims);
  };

  beforeAll(async () => {
    h = await SecurityHarness.start({
      alg: 'EdDSA',
      env: (issuer) => ({
        JWT_CLOCK_TOLERANCE_SECONDS: String(TOLERANCE),
        JWT_AUDIENCE: `${issuer.url},${SECOND_AUDIENCE}`,
      }),
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  describe('exp', () => {
    it('accepts a token that expired less than the tolerance ago', async () => {
      await h.accept(await token({ exp: now() - TOLERANCE + MARGIN }));
    });

    it('refuses a token that expired more than the tolerance ago', async () => {
      await h.refuse(await token({ exp: now() - TOLERANCE - MARGIN }), 'token expired');
      await h.refuse(await token({ exp: 0 }), 'token expired');
      await h.refuse(await token({ exp: -1 }), 'token expired');
    });

    it('refuses a token without exp', async () => {
      await h.refuse(await without('exp'), 'missing exp claim');
    });

    it.each<[string, unknown]>([
      ['a numeric string', String(Math.floor(Date.now() / 1000) + 900)],
      ['null', null],
      ['true', true],
      ['an array', [Math.floor(Date.now() / 1000) + 900]],
      ['an object', { seconds: 1 }],
    ])('refuses exp that is %s', async (_name, exp) => {
      await h.refuse(await token({ exp }), 'invalid exp claim');
    });

    it('accepts a fractional exp in the future (NumericDate allows fractions)', async () => {
      await h.accept(await token({ exp: now() + 900.5 }));
    });
  });

  describe('nbf', () => {
    it('accepts a token valid from less than the tolerance ahead', async () => {
      await h.accept(await token({ nbf: now() + TOLERANCE - MARGIN }));
    });

    it('refuses a token valid only from more than the tolerance ahead', async () => {
      await h.refuse(await token({ nbf: now() + TOLERANCE + MARGIN }), 'token not yet valid');
    });

    it.each<[string, unknown]>([
      ['a string', 'now'],
      ['null', null],
    ])('refuses nbf that is %s', async (_name, nbf) => {
      await h.refuse(await token({ nbf }), 'invalid nbf claim');
    });
  });

  describe('iat', () => {
    it('accepts a token issued less than the tolerance in the future (clock skew)', async () => {
      await h.accept(await token({ iat: now() + TOLERANCE - MARGIN }));
    });

    it('refuses a token issued more than the tolerance in the future', async () => {
      await h.refuse(
        await token({ iat: now() + TOLERANCE + MARGIN }),
        'token issued in the future',
      );
    });

    it('accepts a token without iat (only exp is required)', async () => {
      await h.accept(await without('iat'));
    });

    it.each<[string, unknown]>([
      ['a string', '0'],
      ['null', null],
    ])('refuses iat that is %s', async (_name, iat) => {
      await h.refuse(await token({ iat }), 'invalid iat claim');
    });
  });

  describe('sub', () => {
    it('refuses a token without sub', async () => {
      await h.refuse(await without('sub'), 'missing or empty sub claim');
    });

    it('refuses an empty sub', async () => {
      await h.refuse(await token({ sub: '' }), 'missing or empty sub claim');
    });

    it.each<[string, unknown]>([
      ['a number', 12345],
      ['an object', { id: 'x' }],
      ['an array', ['x']],
      ['null', null],
      ['true', true],
    ])('refuses sub that is %s', async (_name, sub) => {
      await h.refuse(await token({ sub }), 'invalid sub claim');
    });

    it('takes the user id from sub, not from the id claim', async () => {
      await h.accept(await token({ sub: h.user.id, id: 'someone-else' }), h.user.id);
    });
  });

  describe('iss', () => {
    it('refuses a token without iss', async () => {
      await h.refuse(await without('iss'), 'missing iss claim');
    });

    it.each<[string, (url: string) => unknown]>([
      ['another origin', () => 'https://evil.example.test'],
      ['a trailing slash', (url) => `${url}/`],
      ['other letter case', (url) => url.toUpperCase()],
      ['a path', (url) => `${url}/api/auth`],
      ['an array holding the issuer', (url) => [url]],
      ['a number', () => 1],
      ['null', () => null],
      ['an object', (url) => ({ iss: url })],
      ['empty', () => ''],
    ])('refuses iss with %s', async (_name, iss) => {
      await h.refuse(await token({ iss: iss(h.issuer.url) }), 'wrong issuer');
    });
  });

  describe('aud', () => {
    it('refuses a token without aud', async () => {
      await h.refuse(await without('aud'), 'missing aud claim');
    });

    it('accepts any configured audience, as a string or inside an array', async () => {
      await h.accept(await token({ aud: SECOND_AUDIENCE }));
      await h.accept(await token({ aud: ['https://other.example.test', SECOND_AUDIENCE] }));
      await h.accept(await token({ aud: [h.issuer.url] }));
    });

    it.each<[string, (url: string) => unknown]>([
      ['another audience', () => 'https://other.example.test'],
      ['an array without ours', () => ['https://other.example.test', 'https://x.example.test']],
      ['an empty array', () => []],
      ['a trailing slash', (url) => `${url}/`],
      ['both audiences joined by a comma', (url) => `${url},${SECOND_AUDIENCE}`],
      ['a number', () => 1],
      ['null', () => null],
      ['an object', (url) => ({ aud: url })],
      ['a nested array', (url) => [[url]]],
      ['empty', () => ''],
    ])('refuses aud with %s', async (_name, aud) => {
      await h.refuse(await token({ aud: aud(h.issuer.url) }), 'wrong audience');
    });
  });
});
