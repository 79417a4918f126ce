import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { createServer, Server } from 'node:net';
import { b64url, compact, segment, signInput } from '../support/jws';
import { NOT_A_JWT } from '../support/auth-assertions';
import { SecurityHarness } from '../support/security-harness';

/**
 * RFC 8725 §3.10 (`kid`, `jku`, `x5u`, `jwk`, `x5c`), RFC 7515 §4.1.11 (`crit`), RFC 7797
 * (`b64`), RFC 8725 §3.11 (`typ`), JWE-shaped and nested tokens. Everything in the header is
 * attacker-controlled: it may choose a key only by `kid` among the JWKS's keys, and nothing in
 * it ever makes the API open a connection.
 */

const NOT_FOUND = 'signing key not found in the JWKS';
const BAD_SIGNATURE = 'signature verification failed';
const INVALID_KID = 'invalid kid header';
const CRIT = 'unsupported critical header';
const TYP = 'unexpected token type';
const JWE = 'encrypted tokens (JWE) are not accepted';

/** A TCP listener that counts every connection: proof that no token made the API dial out. */
async function startListener(): Promise<{
  url: string;
  connections: () => number;
  close(): Promise<void>;
}> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    socket.end(
      'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"keys":[]}',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('header parameters', () => {
  let h: SecurityHarness;

  beforeAll(async () => {
    h = await SecurityHarness.start({ alg: 'EdDSA' });
  });

  afterAll(async () => {
    await h?.close();
  });

  describe('kid', () => {
    let fetchesBefore: number;

    beforeAll(() => {
      fetchesBefore = h.jwksFetches;
    });

    const unknownKids = [
      '../../etc/passwd',
      '../../../../../../dev/null',
      '/etc/passwd',
      'file:///etc/passwd',
      "' OR '1'='1",
      "x' UNION SELECT 'secret' --",
      '1; DROP TABLE todos; --',
      '$(touch /tmp/kid-injection)',
      '`id`',
      '| cat /etc/passwd',
      'http://127.0.0.1:1/jwks',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'prototype',
      '*',
      '.*',
      '%s%s%s%n',
      '\u0000',
      'x'.repeat(256),
    ];
    it.each(unknownKids)('refuses kid %j (signed by the real key)', async (kid) => {
      await h.refuse(await h.sign({ kid }, h.claims()), NOT_FOUND);
    });

    it('refuses near misses of the real kid', async () => {
      for (const kid of [`${h.kid} `, ` ${h.kid}`, `${h.kid}\u0000`, `${h.kid}x`, h.kid.slice(1)]) {
        await h.refuse(await h.sign({ kid }, h.claims()), NOT_FOUND);
      }
    });

    it.each<[string, unknown]>([
      ['null', null],
      ['zero', 0],
      ['a number', 42],
      ['a negative number', -1],
      ['a float', 1.5],
      ['true', true],
      ['an empty object', {}],
      ['an object holding the real kid', { kid: 'REAL' }],
      ['an array holding the real kid', ['REAL']],
      ['an empty array', []],
      ['empty', ''],
      ['257 characters', 'x'.repeat(257)],
    ])('refuses a kid that is %s', async (_name, value) => {
      const kid = JSON.parse(JSON.stringify(value).replace('REAL', h.kid)) as unknown;
      await h.refuse(await h.sign({ kid }, h.claims()), INVALID_KID);
    });

    it('refuses a kid long enough to push the token over 8192 characters', async () => {
      await h.refuse(await h.sign({ kid: 'k'.repeat(9000) }, h.claims()), 'token too large');
    });

    it('made the issuer serve its JWKS at most once for all those kids (cooldown)', () => {
      expect(h.jwksFetches - fetchesBefore).toBeLessThanOrEqual(1);
    });

    it('left the todos table intact', async () => {
      expect(await h.countTodosTitled('anything')).toBe(0);
    });
  });

  describe('jwk, jku, x5u, x5c', () => {
    let listener: Awaited<ReturnType<typeof startListener>>;
    let attacker: { privateKey: KeyObject; publicKey: KeyObject };
    let attackerJwk: Record<string, unknown>;
    let attackerDer: string;
    const signed = (header: Record<string, unknown>) =>
      compact({ alg: 'EdDSA', ...header }, h.claims(), (input) =>
        signInput('EdDSA', attacker.privateKey, input),
      );

    beforeAll(async () => {
      listener = await startListener();
      attacker = generateKeyPairSync('ed25519');
      attackerJwk = {
        ...attacker.publicKey.export({ format: 'jwk' }),
        kid: 'attacker',
        alg: 'EdDSA',
        use: 'sig',
      };
      attackerDer = attacker.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    });

    afterAll(async () => {
      await listener.close();
    });

    it('refuses an embedded jwk of the attacker', async () => {
      await h.refuse(signed({ jwk: attackerJwk, kid: 'attacker' }), NOT_FOUND);
      await h.refuse(signed({ jwk: attackerJwk, kid: h.kid }), BAD_SIGNATURE);
      await h.refuse(signed({ jwk: attackerJwk }), BAD_SIGNATURE);
    });

    it.each(['jku', 'x5u'])(
      'refuses a %s pointing at a listener, without connecting to it',
      async (name) => {
        for (const url of [`${listener.url}/jwks.json`, listener.url.replace('http:', 'https:')]) {
          await h.refuse(signed({ [name]: url, kid: 'attacker' }), NOT_FOUND);
          await h.refuse(signed({ [name]: url, kid: h.kid }), BAD_SIGNATURE);
          await h.refuse(signed({ [name]: url }), BAD_SIGNATURE);
        }
      },
    );

    it("refuses an x5c chain holding the attacker's key", async () => {
      await h.refuse(signed({ x5c: [attackerDer], kid: 'attacker' }), NOT_FOUND);
      await h.refuse(signed({ x5c: [attackerDer], kid: h.kid }), BAD_SIGNATURE);
      await h.refuse(signed({ x5c: [attackerDer] }), BAD_SIGNATURE);
    });

    it('refuses all of them at once', async () => {
      const all = { jwk: attackerJwk, jku: listener.url, x5u: listener.url, x5c: [attackerDer] };
      await h.refuse(signed({ ...all, kid: 'attacker' }), NOT_FOUND);
      await h.refuse(signed({ ...all, kid: h.kid }), BAD_SIGNATURE);
    });

    it('ignores them on a token the real key signed (they never choose the key)', async () => {
      const all = { jwk: attackerJwk, jku: listener.url, x5u: listener.url, x5c: [attackerDer] };
      await h.accept(await h.sign(all, h.claims()));
    });

    it('never opened a connection to the listener', async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(listener.connections()).toBe(0);
    });
  });

  describe('crit and b64', () => {
    it.each<[string, Record<string, unknown>]>([
      ['an unknown parameter', { crit: ['exp-policy'], 'exp-policy': 1 }],
      ['a parameter that is absent', { crit: ['nope'] }],
      ['an empty array', { crit: [] }],
      ['a string instead of an array', { crit: 'exp-policy', 'exp-policy': 1 }],
      ['a number inside', { crit: [1] }],
      ['null', { crit: null }],
      ['a registered parameter', { crit: ['alg'] }],
      ['b64 with b64: false', { crit: ['b64'], b64: false }],
      ['b64 with b64: true', { crit: ['b64'], b64: true }],
    ])('refuses crit holding %s', async (_name, header) => {
      await h.refuse(await h.sign(header, h.claims()), CRIT);
    });

    it('refuses b64: false outside crit, whichever way the payload was signed', async () => {
      const reason = 'unencoded payload (b64) not accepted';
      await h.refuse(await h.sign({ b64: false }, h.claims()), reason);
      await h.refuse(await h.sign({ b64: 'false' }, h.claims()), reason);
      // RFC 7797 style: the signature covers the raw JSON, the token carries it encoded.
      const payload = JSON.stringify(h.claims());
      const header = segment({ alg: 'EdDSA', kid: h.kid, b64: false });
      const rfc7797 = await h.issuer.signRaw(
        {},
        {},
        {
          encodedHeader: header,
          encodedPayload: b64url(payload),
          sign: (_input, key) => signInput('EdDSA', key, `${header}.${payload}`),
        },
      );
      await h.refuse(rfc7797, reason);
    });

    it('accepts b64: true (the default, spelled out)', async () => {
      await h.accept(await h.sign({ b64: true }, h.claims()));
    });
  });

  describe('typ', () => {
    it.each<[string, unknown]>([
      ['logout+jwt', 'logout+jwt'],
      ['application/logout+jwt', 'application/logout+jwt'],
      ['JWS', 'JWS'],
      ['JOSE', 'JOSE'],
      ['JOSE+JSON', 'JOSE+JSON'],
      ['empty', ''],
      ['JWT with a trailing space', 'JWT '],
      ['a number', 1],
      ['null', null],
      ['an array', ['JWT']],
    ])('refuses typ %s', async (_name, typ) => {
      await h.refuse(await h.sign({ typ }, h.claims()), TYP);
    });

    // An OAuth access token is a known kind, refused with its own reason while OAUTH_RESOURCE is unset.
    it('refuses typ at+jwt, naming OAuth access tokens', async () => {
      await h.refuse(
        await h.sign({ typ: 'at+jwt' }, h.claims()),
        'OAuth access tokens are not accepted by this API',
      );
    });

    it.each(['JWT', 'jwt', 'application/jwt', 'Application/JWT'])('accepts typ %j', async (typ) => {
      await h.accept(await h.sign({ typ }, h.claims()));
    });

    it('accepts a token without typ (Better Auth sends none)', async () => {
      await h.accept(await h.sign({ typ: undefined }, h.claims()));
    });

    it('accepts unknown, non-critical header parameters', async () => {
      await h.accept(await h.sign({ x5t: 'abc', cty: 'json', 'x-custom': { a: 1 } }, h.claims()));
    });
  });

  describe('duplicate header names (RFC 7515 §5.2: the lexically last one counts)', () => {
    const withHeaderText = async (text: string) =>
      h.issuer.signRaw({}, h.claims(), { encodedHeader: b64url(text.replace('KID', h.kid)) });

    it('refuses when the last alg is none', async () => {
      await h.refuse(
        await withHeaderText('{"alg":"EdDSA","kid":"KID","alg":"none"}'),
        'algorithm not allowed',
      );
    });

    it('accepts when the last alg is the real one (every JOSE parser sees the same)', async () => {
      await h.accept(await withHeaderText('{"alg":"none","kid":"KID","alg":"EdDSA"}'));
    });
  });

  describe('JWE-shaped and nested tokens', () => {
    const iv = () => b64url(Buffer.alloc(12, 1));
    const tag = () => b64url(Buffer.alloc(16, 2));

    it('refuses five-part (JWE) tokens', async () => {
      const ciphertext = b64url(JSON.stringify(h.claims()));
      await h.refuse(
        `${segment({ alg: 'dir', enc: 'A256GCM' })}..${iv()}.${ciphertext}.${tag()}`,
        JWE,
      );
      await h.refuse(
        `${segment({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: h.kid })}.${b64url(Buffer.alloc(256, 3))}.${iv()}.${ciphertext}.${tag()}`,
        JWE,
      );
      const [header, payload, signature] = h.user.jwt.split('.');
      await h.refuse(`${header}.${payload}.${signature}.${iv()}.${tag()}`, JWE);
    });

    it('refuses other part counts as not a JWT', async () => {
      const [header, payload, signature] = h.user.jwt.split('.');
      await h.refuse(`${header}.${payload}.${signature}.${tag()}`, NOT_A_JWT);
      await h.refuse(`${header}.${payload}.${signature}.${iv()}.${tag()}.${tag()}`, NOT_A_JWT);
      await h.refuse('.....', NOT_A_JWT);
    });

    it('refuses a genuine token wrapped as the payload of another signed token (cty: JWT)', async () => {
      const nested = await h.issuer.signRaw(
        {},
        {},
        {
          encodedHeader: segment({ alg: 'EdDSA', kid: h.kid, cty: 'JWT' }),
          encodedPayload: b64url(h.user.jwt),
        },
      );
      await h.refuse(nested, 'malformed token payload');
      const asJsonString = await h.issuer.signRaw(
        { cty: 'JWT' },
        {},
        {
          encodedPayload: b64url(JSON.stringify(h.user.jwt)),
        },
      );
      await h.refuse(asJsonString, 'malformed token payload');
    });

    it('refuses a genuine token wrapped in an unsigned one', async () => {
      await h.refuse(
        compact({ alg: 'none', cty: 'JWT' }, b64url(h.user.jwt)),
        'algorithm not allowed',
      );
    });
  });
});
