import fc from 'fast-check';
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { AppConfigService } from '../config/app-config.service';
import { InvalidTokenException } from './auth.errors';
import { JwksKey, JwksKeyStore, KeyLookup } from './jwks/jwks-key-store';
import { TokenVerifier } from './token-verifier.service';

/**
 * TokenVerifier on its own, with a real Ed25519 key behind a stub key store: the checks of
 * SPEC §4 one by one, and properties over random input (only the issuer's key can make a token
 * pass; every refusal is an InvalidTokenException whose reason is safe in a header).
 */

const ISSUER = 'https://issuer.example.test';
const KID = 'k1';
const issuerKeys = generateKeyPairSync('ed25519');
const attackerKeys = generateKeyPairSync('ed25519');
const jwksKey: JwksKey = { kid: KID, alg: 'EdDSA', key: issuerKeys.publicKey };

/** RFC 6750 error_description: %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash). */
const HEADER_SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;

function b64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

function token(
  header: unknown,
  payload: unknown,
  key = issuerKeys.privateKey,
  encode: (value: unknown) => string = (value) => b64url(JSON.stringify(value)),
): string {
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${b64url(cryptoSign(null, Buffer.from(input), key))}`;
}

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { sub: 'user-1', iss: ISSUER, aud: ISSUER, iat: now, exp: now + 900, ...extra };
}

function makeVerifier(): TokenVerifier {
  const keyStore = {
    findKey: (alg: string, kid: string | undefined): Promise<KeyLookup> =>
      Promise.resolve(
        (kid === KID || kid === undefined) && (alg === 'EdDSA' || alg === 'Ed25519')
          ? { status: 'found', key: jwksKey }
          : { status: 'unknown' },
      ),
    isCurrent: () => true,
    refreshIfStale: () => undefined,
  };
  const config = {
    auth: {
      algorithms: ['EdDSA'],
      issuer: ISSUER,
      audiences: [ISSUER],
      clockToleranceSeconds: 5,
      // No cache: every call runs every check.
      tokenCache: { maxEntries: 0, maxAgeSeconds: 0 },
    },
  } as unknown as AppConfigService;
  return new TokenVerifier(config, keyStore as unknown as JwksKeyStore);
}

async function refusal(verifier: TokenVerifier, value: string): Promise<InvalidTokenException> {
  try {
    await verifier.verify(value);
  } catch (error) {
    if (error instanceof InvalidTokenException) return error;
    throw error;
  }
  throw new Error(`accepted: ${value}`);
}

describe('TokenVerifier', () => {
  const verifier = makeVerifier();
  const header = { alg: 'EdDSA', kid: KID };

  it('accepts a token signed by the issuer key and maps the user from its claims', async () => {
    const user = await verifier.verify(
      token(header, claims({ email: 'ada@example.com', name: 'Ada', emailVerified: true })),
    );
    expect(user).toMatchObject({
      id: 'user-1',
      email: 'ada@example.com',
      name: 'Ada',
      emailVerified: true,
      image: null,
    });
  });

  it.each<[string, () => string, string]>([
    [
      'a session token',
      () => 'zyGFDmtYA8Wb6N5zio6rmuFx1td4Skbx',
      'not a JWT; send the JWT from GET /api/auth/token',
    ],
    ['two parts', () => 'abc.def', 'not a JWT; send the JWT from GET /api/auth/token'],
    ['five base64url parts', () => 'a.b.c.d.e', 'encrypted tokens (JWE) are not accepted'],
    [
      'an empty signature',
      () => token(header, claims()).replace(/\.[^.]+$/, '.'),
      'missing signature',
    ],
    [
      'an empty signature under alg none',
      () => `${b64url('{"alg":"none"}')}.${b64url(JSON.stringify(claims()))}.`,
      'algorithm not allowed',
    ],
    [
      'non-zero pad bits in the signature',
      () => respellLastChar(token(header, claims())),
      'malformed token',
    ],
    [
      'b64: false',
      () => token({ ...header, b64: false }, claims()),
      'unencoded payload (b64) not accepted',
    ],
    [
      'crit',
      () => token({ ...header, crit: ['b64'], b64: false }, claims()),
      'unsupported critical header',
    ],
    [
      'typ logout+jwt',
      () => token({ ...header, typ: 'logout+jwt' }, claims()),
      'unexpected token type',
    ],
    ['a numeric sub', () => token(header, claims({ sub: 7 })), 'invalid sub claim'],
    ['an empty sub', () => token(header, claims({ sub: '' })), 'missing or empty sub claim'],
    [
      'exp 1e400',
      () =>
        token(header, claims(), issuerKeys.privateKey, (value) =>
          b64url(JSON.stringify(value).replace(/"exp":\d+/, '"exp":1e400')),
        ),
      'invalid exp claim',
    ],
    [
      'iat in the future',
      () => token(header, claims({ iat: Math.floor(Date.now() / 1000) + 60 })),
      'token issued in the future',
    ],
    [
      'the attacker key',
      () => token(header, claims(), attackerKeys.privateKey),
      'signature verification failed',
    ],
  ])('refuses %s', async (_name, make, reason) => {
    expect((await refusal(verifier, make())).reason).toBe(reason);
  });

  describe('properties', () => {
    const anyHeader = fc.oneof(
      fc.record(
        {
          alg: fc.oneof(
            fc.constantFrom('EdDSA', 'Ed25519', 'none', 'HS256', 'ES256'),
            fc.jsonValue(),
          ),
          kid: fc.oneof(fc.constant(KID), fc.jsonValue()),
          typ: fc.jsonValue(),
          crit: fc.jsonValue(),
          b64: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );
    const anyPayload = fc.oneof(
      fc.record(
        {
          sub: fc.oneof(fc.constant('user-1'), fc.jsonValue()),
          iss: fc.oneof(fc.constant(ISSUER), fc.jsonValue()),
          aud: fc.oneof(fc.constant(ISSUER), fc.jsonValue()),
          exp: fc.oneof(
            fc.constant(Math.floor(Date.now() / 1000) + 900),
            fc.double(),
            fc.jsonValue(),
          ),
          nbf: fc.oneof(fc.integer(), fc.jsonValue()),
          iat: fc.oneof(fc.integer(), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );

    const expectSafeRefusal = async (value: string) => {
      const error = await refusal(verifier, value);
      expect(error.reason).toMatch(HEADER_SAFE);
      expect(error.getStatus()).toBe(401);
    };

    it('refuses any string with a header-safe reason', async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 400 }), expectSafeRefusal),
        { numRuns: 500 },
      );
    });

    it('refuses any header and payload signed with random bytes', async () => {
      await fc.assert(
        fc.asyncProperty(
          anyHeader,
          anyPayload,
          fc.uint8Array({ maxLength: 128 }),
          async (h, p, s) => {
            await expectSafeRefusal(
              `${b64url(JSON.stringify(h))}.${b64url(JSON.stringify(p))}.${b64url(s)}`,
            );
          },
        ),
        { numRuns: 500 },
      );
    });

    it('refuses any header and payload signed by another Ed25519 key', async () => {
      await fc.assert(
        fc.asyncProperty(anyHeader, anyPayload, async (h, p) => {
          await expectSafeRefusal(token(h, p, attackerKeys.privateKey));
        }),
        { numRuns: 300 },
      );
    });

    it('accepts any issuer-signed token whose claims hold, whatever else it carries, with id = sub', async () => {
      const extra = fc.dictionary(
        fc
          .string({ minLength: 1, maxLength: 8 })
          .filter((k) => !['sub', 'iss', 'aud', 'exp', 'nbf', 'iat'].includes(k)),
        fc.jsonValue(),
        { maxKeys: 5 },
      );
      await fc.assert(
        fc.asyncProperty(fc.string({ minLength: 1, maxLength: 64 }), extra, async (sub, rest) => {
          const user = await verifier.verify(token(header, { ...rest, ...claims({ sub }) }));
          expect(user.id).toBe(sub);
        }),
        { numRuns: 200 },
      );
    });

    it('refuses every one-character change of a genuine token', async () => {
      const genuine = token(header, claims());
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=';
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: genuine.length - 1 }),
          fc.constantFrom(...alphabet.split('')),
          async (index, char) => {
            fc.pre(genuine[index] !== char);
            await expectSafeRefusal(`${genuine.slice(0, index)}${char}${genuine.slice(index + 1)}`);
          },
        ),
        { numRuns: 500 },
      );
    });
  });
});

/** The same signature bytes with another spelling: flip an unused low bit of the last char. */
function respellLastChar(value: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = value.at(-1) as string;
  return `${value.slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ 1]}`;
}
