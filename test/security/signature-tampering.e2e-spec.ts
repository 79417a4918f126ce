import { randomBytes, randomUUID } from 'node:crypto';
import { BetterAuthAlgorithm } from '../support/better-auth-issuer';
import { b64url, decodeSegment, segment } from '../support/jws';
import { NOT_A_JWT } from '../support/auth-assertions';
import { SecurityHarness } from '../support/security-harness';

/**
 * RFC 8725 §2.1 / OWASP "signature not verified" and "signature stripping": a genuine Better
 * Auth token changed in any segment, or with its signature removed, truncated or replaced,
 * must be refused, for each key type Better Auth signs with.
 */

const BAD_SIGNATURE = 'signature verification failed';

describe.each<BetterAuthAlgorithm>(['EdDSA', 'ES256', 'RS256'])(
  'tampering with a real %s token',
  (alg) => {
    let h: SecurityHarness;
    let token: string;
    let parts: [string, string, string];

    beforeAll(async () => {
      h = await SecurityHarness.start({ alg });
      token = h.user.jwt;
      parts = token.split('.') as [string, string, string];
    });

    afterAll(async () => {
      await h?.close();
    });

    it('is accepted untouched, and can write a todo (positive control for the write checks)', async () => {
      await h.accept(token);
      const marker = `genuine-${randomUUID()}`;
      expect((await h.postTodo(token, marker)).status).toBe(201);
      expect(await h.countTodosTitled(marker)).toBe(1);
    });

    describe('in the header', () => {
      const cases: Array<[string, (header: Record<string, unknown>) => unknown]> = [
        ['an added typ', (header) => ({ ...header, typ: 'JWT' })],
        ['an added unknown parameter', (header) => ({ ...header, admin: true })],
        ['the same JSON with other whitespace', (header) => JSON.stringify(header, null, 1)],
        ['the same members in another order', (header) => ({ kid: header.kid, alg: header.alg })],
      ];
      it.each(cases)('refuses %s', async (_name, change) => {
        const header = decodeSegment(parts[0]);
        const changed = change(header);
        const encoded = typeof changed === 'string' ? b64url(changed) : segment(changed);
        await h.refuse(`${encoded}.${parts[1]}.${parts[2]}`, BAD_SIGNATURE);
      });
    });

    describe('in the payload', () => {
      const cases: Array<[string, (claims: Record<string, unknown>) => unknown]> = [
        ['another sub', (claims) => ({ ...claims, sub: 'victim-user-id', id: 'victim-user-id' })],
        ['a later exp', (claims) => ({ ...claims, exp: (claims.exp as number) + 86_400 })],
        ['an added role claim', (claims) => ({ ...claims, role: 'admin' })],
        ['a removed claim', ({ email: _email, ...claims }) => claims],
        ['the same JSON with other whitespace', (claims) => JSON.stringify(claims, null, 2)],
      ];
      it.each(cases)('refuses %s', async (_name, change) => {
        const changed = change(decodeSegment(parts[1]));
        const encoded = typeof changed === 'string' ? b64url(changed) : segment(changed);
        await h.refuse(`${parts[0]}.${encoded}.${parts[2]}`, BAD_SIGNATURE);
      });
    });

    describe('in the signature', () => {
      const signature = () => Buffer.from(parts[2], 'base64url');
      const withSignature = (value: string) => `${parts[0]}.${parts[1]}.${value}`;

      it('refuses a flipped bit in the middle', async () => {
        const bytes = signature();
        bytes[Math.floor(bytes.length / 2)] ^= 0x01;
        await h.refuse(withSignature(b64url(bytes)), BAD_SIGNATURE);
      });

      it('refuses a flipped bit in the last byte', async () => {
        const bytes = signature();
        bytes[bytes.length - 1] ^= 0x80;
        await h.refuse(withSignature(b64url(bytes)), BAD_SIGNATURE);
      });

      it('refuses a truncated signature (whole bytes dropped)', async () => {
        await h.refuse(withSignature(b64url(signature().subarray(0, -3))), BAD_SIGNATURE);
        await h.refuse(withSignature(b64url(signature().subarray(0, 1))), BAD_SIGNATURE);
      });

      it('refuses a signature cut to a length base64url cannot have', async () => {
        await h.refuse(withSignature(parts[2].slice(0, 1)), 'malformed token');
        await h.refuse(withSignature(parts[2].slice(0, 4 * 5 + 1)), 'malformed token');
      });

      it('refuses an empty signature (header.payload.) and a stripped one (header.payload)', async () => {
        await h.refuse(withSignature(''), 'missing signature');
        await h.refuse(`${parts[0]}.${parts[1]}`, NOT_A_JWT);
      });

      it('refuses a signature of zeros, of random bytes, and one twice as long', async () => {
        const length = signature().length;
        await h.refuse(withSignature(b64url(Buffer.alloc(length))), BAD_SIGNATURE);
        await h.refuse(withSignature(b64url(randomBytes(length))), BAD_SIGNATURE);
        await h.refuse(
          withSignature(b64url(Buffer.concat([signature(), signature()]))),
          BAD_SIGNATURE,
        );
      });

      it("refuses another genuine token's signature", async () => {
        const other = await h.issuer.createUser();
        await h.refuse(withSignature(other.jwt.split('.')[2]), BAD_SIGNATURE);
      });

      it('refuses the same signature bytes spelled non-canonically (pad bits, padding, base64 alphabet)', async () => {
        const bytes = signature();
        // The last character carries unused bits; setting one keeps the decoded bytes the same.
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const last = parts[2].at(-1) as string;
        const sibling = alphabet[alphabet.indexOf(last) ^ 1];
        const respelled = `${parts[2].slice(0, -1)}${sibling}`;
        expect(Buffer.from(respelled, 'base64url').equals(bytes)).toBe(true);
        await h.refuse(withSignature(respelled), 'malformed token');

        const padded = `${parts[2]}${'='.repeat((4 - (parts[2].length % 4)) % 4)}`;
        expect(padded).not.toBe(parts[2]);
        await h.refuse(withSignature(padded), 'malformed token');
        await h.refuse(withSignature(bytes.toString('base64')), 'malformed token');
      });

      it('refuses a signature moved or duplicated into another segment', async () => {
        await h.refuse(`${parts[0]}.${parts[2]}.${parts[1]}`, BAD_SIGNATURE);
        await h.refuse(`${parts[2]}.${parts[1]}.${parts[2]}`, 'malformed token header');
        await h.refuse(`${parts[0]}.${parts[1]}.${parts[2]}.${parts[2]}`, NOT_A_JWT);
        await h.refuse(`${token}.`, NOT_A_JWT);
      });
    });
  },
);
