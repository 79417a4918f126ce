import { b64url, segment } from '../support/jws';
import { expectRefused } from '../support/auth-assertions';
import { NOT_A_JWT } from '../support/auth-assertions';
import { SecurityHarness } from '../support/security-harness';

/**
 * OWASP "JWT parsing" and RFC 8725 §3.2: malformed base64url and JSON in each segment, numbers
 * JSON cannot hold, and oversized tokens and headers are refused with a 401 (or Node's own 431
 * for a header section over its limit), never a 5xx.
 */

const MALFORMED = 'malformed token';
const BAD_HEADER = 'malformed token header';
const BAD_PAYLOAD = 'malformed token payload';

describe('malformed tokens', () => {
  let h: SecurityHarness;
  let parts: [string, string, string];

  beforeAll(async () => {
    h = await SecurityHarness.start({ alg: 'EdDSA' });
    parts = h.user.jwt.split('.') as [string, string, string];
  });

  afterAll(async () => {
    await h?.close();
  });

  describe('base64url', () => {
    const variants: Array<[string, (segment: string) => string]> = [
      ['= padding', (s) => `${s}${'='.repeat((4 - (s.length % 4)) % 4 || 4)}`],
      ['a + (base64, not base64url)', (s) => `+${s.slice(1)}`],
      ['a / (base64, not base64url)', (s) => `${s.slice(0, 4)}/${s.slice(5)}`],
      ['a *', (s) => `${s.slice(0, 4)}*${s.slice(5)}`],
      ['a %', (s) => `${s.slice(0, 4)}%${s.slice(5)}`],
      ['a Latin-1 letter', (s) => `${s.slice(0, 4)}é${s.slice(5)}`],
      [
        'an impossible length (4n+1)',
        (s) => `${s}${'A'.repeat((((1 - s.length) % 4) + 4) % 4 || 4)}`,
      ],
    ];

    it.each(variants)('refuses %s in the header segment', async (_name, change) => {
      await h.refuse(`${change(parts[0])}.${parts[1]}.${parts[2]}`, MALFORMED);
    });

    it.each(variants)('refuses %s in the payload segment', async (_name, change) => {
      await h.refuse(`${parts[0]}.${change(parts[1])}.${parts[2]}`, MALFORMED);
    });

    it.each(variants)('refuses %s in the signature segment', async (_name, change) => {
      await h.refuse(`${parts[0]}.${parts[1]}.${change(parts[2])}`, MALFORMED);
    });

    it('refuses empty header or payload segments', async () => {
      await h.refuse(`.${parts[1]}.${parts[2]}`, MALFORMED);
      await h.refuse(`${parts[0]}..${parts[2]}`, MALFORMED);
      await h.refuse('..', MALFORMED);
    });
  });

  describe('JSON', () => {
    it.each<[string, string]>([
      ['not JSON', 'alg=EdDSA'],
      ['truncated JSON', '{"alg":"EdDSA"'],
      ['an array', '["EdDSA"]'],
      ['a string', '"EdDSA"'],
      ['a number', '42'],
      ['null', 'null'],
      ['true', 'true'],
      ['empty', ''],
    ])('refuses a header that is %s', async (_name, text) => {
      const token = await h.issuer.signRaw({}, h.claims(), { encodedHeader: b64url(text) });
      // An empty segment is a structural error, caught before any JSON is read.
      await h.refuse(token, text === '' ? MALFORMED : BAD_HEADER);
    });

    it.each<[string, string]>([
      ['not JSON', 'sub=me'],
      ['truncated JSON', '{"sub":"me"'],
      ['an array', '[{"sub":"me"}]'],
      ['a string', '"me"'],
      ['a number', '42'],
      ['null', 'null'],
      ['invalid UTF-8', '{"sub":"\xff\xfe"}'],
    ])('refuses a genuinely signed payload that is %s', async (_name, text) => {
      const token = await h.issuer.signRaw(
        {},
        {},
        {
          encodedPayload: b64url(Buffer.from(text, 'latin1')),
        },
      );
      await h.refuse(token, BAD_PAYLOAD);
    });

    it('refuses numeric dates JSON cannot represent (1e400 is Infinity)', async () => {
      // One claim set for every case, so the replaced text is always there (no second boundary).
      const base = h.claims() as { exp: number; iat: number };
      const { exp, iat } = base;
      const withRaw = (replace: string, by: string) => {
        const original = JSON.stringify(base);
        const text = original.replace(replace, by);
        expect(text).not.toBe(original);
        return h.issuer.signRaw({}, {}, { encodedPayload: b64url(text) });
      };
      await h.refuse(await withRaw(`"exp":${exp}`, '"exp":1e400'), 'invalid exp claim');
      await h.refuse(await withRaw(`"exp":${exp}`, '"exp":-1e400'), 'token expired');
      await h.refuse(await withRaw(`"iat":${iat}`, '"iat":1e400'), 'invalid iat claim');
      await h.refuse(await withRaw(`"iat":${iat}`, '"iat":-1e400'), 'invalid iat claim');
      await h.refuse(
        await withRaw(`"iat":${iat}`, `"iat":${iat},"nbf":1e400`),
        'token not yet valid',
      );
      await h.refuse(
        await withRaw(`"iat":${iat}`, `"iat":${iat},"nbf":-1e400`),
        'invalid nbf claim',
      );
    });
  });

  describe('size', () => {
    it('refuses a genuinely signed token over 8192 characters', async () => {
      const token = await h.sign({}, h.claims({ padding: 'p'.repeat(6500) }));
      expect(token.length).toBeGreaterThan(8192);
      await h.refuse(token, 'token too large');
    });

    it('accepts a genuinely signed token just under the limit', async () => {
      const token = await h.sign({}, h.claims({ padding: 'p'.repeat(5800) }));
      expect(token.length).toBeLessThanOrEqual(8192);
      expect(token.length).toBeGreaterThan(7500);
      await h.accept(token);
    });

    it.each([15_000, 16_000, 16_300])(
      'answers a %i-character token (near the 16 KiB header limit) with 401 or 431, never 5xx',
      async (size) => {
        const filler = 'A'.repeat(size - parts[0].length - parts[2].length - 2);
        const token = `${parts[0]}.${filler}.${parts[2]}`;
        const response = await h.profile(token);
        expect([401, 431]).toContain(response.status);
        if (response.status === 401) {
          expectRefused(h.api, response, { reason: 'token too large', secrets: [token] });
        }
        h.api.logs.expectNever(filler);
      },
    );

    it('answers a header section over 16 KiB with 431', async () => {
      const token = `${parts[0]}.${b64url('x'.repeat(20_000))}.${parts[2]}`;
      const response = await h.profile(token);
      expect(response.status).toBe(431);
      h.api.logs.expectNever(token);
    });

    it('refuses a bearer value of a single huge segment as not a JWT', async () => {
      await h.refuse('A'.repeat(8000), NOT_A_JWT);
      await h.refuse('A'.repeat(8193), 'token too large');
    });

    it('refuses a genuine token with a JSON payload of deeply nested arrays without a 5xx', async () => {
      const deep = `${'['.repeat(1000)}${']'.repeat(1000)}`;
      const text = JSON.stringify(h.claims()).replace('{', `{"deep":${deep},`);
      const token = await h.issuer.signRaw({}, {}, { encodedPayload: b64url(text) });
      expect(token.length).toBeLessThanOrEqual(8192);
      await h.accept(token);
      const header = segment({ alg: 'EdDSA', kid: h.kid, deep: JSON.parse(deep) as unknown });
      await h.refuse(`${header}.${parts[1]}.${parts[2]}`, 'signature verification failed');
    });
  });
});
