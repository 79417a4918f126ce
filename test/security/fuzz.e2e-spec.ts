import fc from 'fast-check';
import { b64url, compact } from '../support/jws';
import { Reply } from '../support/http';
import { expectProblem } from '../support/problem';
import { SecurityHarness } from '../support/security-harness';

/**
 * Property-based: whatever an attacker puts in the Authorization header, in a token's header,
 * payload or signature, the answer is a 401 challenge, never a 2xx and never a 5xx, unless the
 * issuer's key signed it. Bounded runs keep the suite fast; a failure prints its seed and the
 * shrunk counterexample.
 */

const RUNS = 200;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function expectChallenge(response: Reply): void {
  expectProblem(response, {
    status: 401,
    wwwAuthenticate: expect.stringMatching(
      /^Bearer realm="api"(, error="invalid_token", error_description="[^"\\]+")?$/,
    ),
  });
}

describe('fuzzing the token check', () => {
  let h: SecurityHarness;

  beforeAll(async () => {
    h = await SecurityHarness.start({ alg: 'EdDSA' });
  });

  afterAll(async () => {
    // No request may have failed inside the app.
    expect(h.api.logs.failures()).toEqual([]);
    expect(
      h.api.logs.lines.filter(
        (line) => typeof line.statusCode === 'number' && line.statusCode >= 500,
      ),
    ).toEqual([]);
    await h?.close();
  });

  it('answers any printable Authorization value with a 401 challenge', async () => {
    const value = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ maxLength: 300 }).map((rest) => `Bearer ${rest}`),
      fc
        .tuple(
          fc.constantFrom('bearer', 'BEARER', 'Bearer', 'Basic', 'Digest'),
          fc.string(),
          fc.string(),
        )
        .map(([scheme, a, b]) => `${scheme} ${a}.${b}`),
    );
    await fc.assert(
      fc.asyncProperty(value, async (authorization) => {
        expectChallenge(await h.api.http.get('/api/profile', { authorization }));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses tokens with random headers, payloads and signatures (real kid and real claims included)', async () => {
    const claims = h.claims();
    const header = fc.record(
      {
        alg: fc.oneof(
          fc.constantFrom('EdDSA', 'Ed25519', 'ES256', 'RS256', 'HS256', 'none'),
          fc.jsonValue(),
        ),
        kid: fc.oneof(fc.constant(h.kid), fc.string(), fc.jsonValue()),
        typ: fc.oneof(fc.constantFrom('JWT', 'logout+jwt'), fc.jsonValue()),
        crit: fc.jsonValue(),
        b64: fc.jsonValue(),
        jku: fc.webUrl(),
      },
      { requiredKeys: [] },
    );
    const payload = fc.oneof(
      fc.constant(claims),
      fc.record(
        {
          sub: fc.oneof(fc.constant(claims.sub), fc.jsonValue()),
          iss: fc.oneof(fc.constant(claims.iss), fc.jsonValue()),
          aud: fc.oneof(fc.constant(claims.aud), fc.jsonValue()),
          exp: fc.oneof(fc.constant(claims.exp), fc.jsonValue(), fc.double()),
          nbf: fc.oneof(fc.integer(), fc.jsonValue()),
          iat: fc.oneof(fc.constant(claims.iat), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );
    const signature = fc.uint8Array({ maxLength: 300 });
    await fc.assert(
      fc.asyncProperty(header, payload, signature, async (head, body, sig) => {
        const token = `${b64url(JSON.stringify(head))}.${b64url(JSON.stringify(body))}.${b64url(sig)}`;
        expectChallenge(await h.profile(token));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses every one-character change of a genuine token', async () => {
    const token = h.user.jwt;
    const mutation = fc.tuple(
      fc.integer({ min: 0, max: token.length - 1 }),
      fc.constantFrom(...`${BASE64URL}.=+/`.split('')),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async ([index, char]) => {
        fc.pre(token[index] !== char);
        const mutated = `${token.slice(0, index)}${char}${token.slice(index + 1)}`;
        expectChallenge(await h.profile(mutated));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses genuine header and payload with any other signature, and any claims the key did not sign', async () => {
    const [encodedHeader, encodedPayload, genuineSignature] = h.user.jwt.split('.');
    const signatureLength = Buffer.from(genuineSignature, 'base64url').length;
    const forgedSignature = fc
      .uint8Array({ minLength: signatureLength, maxLength: signatureLength })
      .filter((bytes) => b64url(bytes) !== genuineSignature);
    const extraClaims = fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.jsonValue(), {
      maxKeys: 4,
    });
    await fc.assert(
      fc.asyncProperty(forgedSignature, extraClaims, async (sig, extra) => {
        expectChallenge(await h.profile(`${encodedHeader}.${encodedPayload}.${b64url(sig)}`));
        const otherClaims = compact(
          JSON.parse(Buffer.from(encodedHeader, 'base64url').toString()) as Record<string, unknown>,
          { ...h.claims(), ...extra },
          () => genuineSignature,
        );
        expectChallenge(await h.profile(otherClaims));
      }),
      { numRuns: RUNS / 2 },
    );
  });

  it('still accepts the genuine token afterwards', async () => {
    await h.accept(h.user.jwt);
  });
});
