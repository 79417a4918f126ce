import { createPublicKey, KeyObject, randomBytes } from 'node:crypto';
import { JWK } from 'jose';
import { compact, hmac, signInput } from '../support/jws';
import { SecurityHarness } from '../support/security-harness';

/**
 * RFC 8725 §2.1 / §3.1 and OWASP "algorithm confusion": the header's `alg` never chooses how a
 * key is used. HS* keyed with any public form of the real key, every spelling of `none`, an
 * algorithm that is supported but not configured, and a key used with an algorithm other than
 * its own are all refused.
 */

const NOT_ALLOWED = 'algorithm not allowed';
const NOT_FOUND = 'signing key not found in the JWKS';
const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

/** Every public form an attacker could feed an HMAC as its "secret". */
function publicForms(jwk: JWK): Array<[string, string | Buffer]> {
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const pem = key.export({ type: 'spki', format: 'pem' }) as string;
  const forms: Array<[string, string | Buffer]> = [
    ['PEM SPKI', pem],
    ['PEM SPKI without the final newline', pem.trimEnd()],
    ['JWK JSON', JSON.stringify(jwk)],
    ['DER SPKI', key.export({ type: 'spki', format: 'der' })],
  ];
  if (jwk.x) {
    forms.push(
      ['raw x (base64url text)', jwk.x],
      ['raw x (bytes)', Buffer.from(jwk.x, 'base64url')],
    );
  }
  if (jwk.n) {
    forms.push(
      ['PEM PKCS#1', key.export({ type: 'pkcs1', format: 'pem' })],
      ['raw n (base64url text)', jwk.n],
      ['raw n (bytes)', Buffer.from(jwk.n, 'base64url')],
    );
  }
  return forms;
}

describe('against an EdDSA issuer (JWT_ALGORITHMS=EdDSA)', () => {
  let h: SecurityHarness;

  beforeAll(async () => {
    h = await SecurityHarness.start({ alg: 'EdDSA' });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('accepts the genuine token (baseline)', async () => {
    await h.accept(h.user.jwt);
  });

  it('refuses HS256/384/512 keyed with every public form of the real key, with and without kid', async () => {
    const forms = publicForms(h.jwk);
    expect(forms.length).toBeGreaterThanOrEqual(6);
    for (const alg of HMAC_ALGORITHMS) {
      for (const [, secret] of forms) {
        for (const header of [{ alg, kid: h.kid }, { alg }]) {
          await h.refuse(
            compact(header, h.claims(), (input) => hmac(alg, secret, input)),
            NOT_ALLOWED,
          );
        }
      }
    }
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])(
    'refuses alg %j, unsigned and with a genuine signature attached',
    async (alg) => {
      await h.refuse(compact({ alg, kid: h.kid }, h.claims()), NOT_ALLOWED);
      await h.refuse(compact({ alg }, h.claims()), NOT_ALLOWED);
      await h.refuse(await h.sign({ alg }, h.claims()), NOT_ALLOWED);
    },
  );

  it.each<[string, unknown]>([
    ['absent', undefined],
    ['empty', ''],
    ['null', null],
    ['a number', 256],
    ['an array', ['EdDSA']],
    ['an object', { name: 'EdDSA' }],
    ['lower case', 'eddsa'],
    ['upper case', 'EDDSA'],
    ['padded', ' EdDSA '],
    ['with a NUL', 'EdDSA\u0000'],
    ['Ed448', 'Ed448'],
    ['RSA-OAEP (a JWE algorithm)', 'RSA-OAEP'],
    ['dir', 'dir'],
  ])('refuses alg %s over a genuine signature', async (_name, alg) => {
    await h.refuse(await h.sign({ alg }, h.claims()), NOT_ALLOWED);
  });

  it("accepts Ed25519, EdDSA's RFC 9864 name, for the same Ed25519 key", async () => {
    await h.accept(await h.sign({ alg: 'Ed25519' }, h.claims()));
  });
});

describe('against an EdDSA issuer with ES256 also configured (JWT_ALGORITHMS=EdDSA,ES256)', () => {
  let h: SecurityHarness;

  beforeAll(async () => {
    h = await SecurityHarness.start({ alg: 'EdDSA', env: { JWT_ALGORITHMS: 'EdDSA,ES256' } });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('refuses an ES256 header over the EdDSA key (with its genuine Ed25519 signature, and random bytes)', async () => {
    const ed25519 = (input: string, key: KeyObject) => signInput('EdDSA', key, input);
    await h.refuse(
      await h.issuer.signRaw({ alg: 'ES256' }, h.claims(), { sign: ed25519 }),
      NOT_FOUND,
    );
    await h.refuse(
      await h.issuer.signRaw({ alg: 'ES256', kid: undefined }, h.claims(), { sign: ed25519 }),
      NOT_FOUND,
    );
    await h.refuse(
      await h.issuer.signRaw({ alg: 'ES256' }, h.claims(), { sign: () => randomBytes(64) }),
      NOT_FOUND,
    );
  });

  it('refuses a supported algorithm that is not configured (ES384, RS256)', async () => {
    await h.refuse(await h.sign({ alg: 'ES384' }, h.claims()), NOT_ALLOWED);
    await h.refuse(await h.sign({ alg: 'RS256' }, h.claims()), NOT_ALLOWED);
  });

  it('still accepts the genuine EdDSA token', async () => {
    await h.accept(h.user.jwt);
  });
});

describe('against an EdDSA issuer when only ES256 is configured (JWT_ALGORITHMS=ES256)', () => {
  let h: SecurityHarness;

  beforeAll(async () => {
    h = await SecurityHarness.start({ alg: 'EdDSA', env: { JWT_ALGORITHMS: 'ES256' } });
  });

  afterAll(async () => {
    await h?.close();
  });

  it("refuses the issuer's genuine, validly signed EdDSA token", async () => {
    await h.refuse(h.user.jwt, NOT_ALLOWED);
  });
});

describe('against an RS256 issuer (JWT_ALGORITHMS=RS256)', () => {
  let h: SecurityHarness;

  beforeAll(async () => {
    h = await SecurityHarness.start({ alg: 'RS256' });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('refuses HS256/384/512 keyed with every public form of the RSA key', async () => {
    const forms = publicForms(h.jwk);
    expect(forms.length).toBeGreaterThanOrEqual(7);
    for (const alg of HMAC_ALGORITHMS) {
      for (const [, secret] of forms) {
        await h.refuse(
          compact({ alg, kid: h.kid }, h.claims(), (input) => hmac(alg, secret, input)),
          NOT_ALLOWED,
        );
      }
    }
  });

  it.each(['PS256', 'PS384', 'PS512', 'RS384', 'RS512'])(
    'refuses a valid %s signature by the real key (supported, not configured)',
    async (alg) => {
      const token = await h.issuer.signRaw({ alg }, h.claims(), {
        sign: (input, key) => signInput(alg, key, input),
      });
      await h.refuse(token, NOT_ALLOWED);
    },
  );
});

describe('against an RS256 issuer with more RSA algorithms configured (RS256,PS256,RS512)', () => {
  let h: SecurityHarness;

  beforeAll(async () => {
    h = await SecurityHarness.start({ alg: 'RS256', env: { JWT_ALGORITHMS: 'RS256,PS256,RS512' } });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('serves its key with alg RS256 (what makes the next refusals possible)', () => {
    expect(h.jwk.alg).toBe('RS256');
  });

  it.each(['PS256', 'RS512'])(
    'refuses a valid %s signature by the RS256 key: the JWK says RS256',
    async (alg) => {
      const sign = (input: string, key: KeyObject) => signInput(alg, key, input);
      await h.refuse(await h.issuer.signRaw({ alg }, h.claims(), { sign }), NOT_FOUND);
      await h.refuse(
        await h.issuer.signRaw({ alg, kid: undefined }, h.claims(), { sign }),
        NOT_FOUND,
      );
    },
  );

  it('accepts the genuine RS256 token', async () => {
    await h.accept(h.user.jwt);
  });
});
