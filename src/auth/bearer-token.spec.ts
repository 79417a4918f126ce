import fc from 'fast-check';
import { FastifyRequest } from 'fastify';
import { InvalidTokenException, MissingTokenException } from './auth.errors';
import { extractBearerToken, hasAuthorizationHeader } from './bearer-token';

/** A request as Node hands it over: `headers` keeps the first Authorization, `rawHeaders` all. */
function request(...authorization: string[]): FastifyRequest {
  const rawHeaders = ['Host', 'api.test'];
  for (const value of authorization) rawHeaders.push('Authorization', value);
  return {
    headers: authorization.length > 0 ? { authorization: authorization[0] } : {},
    raw: { rawHeaders },
  } as unknown as FastifyRequest;
}

function reasonFor(req: FastifyRequest): string {
  try {
    extractBearerToken(req);
  } catch (error) {
    if (error instanceof InvalidTokenException || error instanceof MissingTokenException) {
      return error.reason;
    }
    throw error;
  }
  throw new Error('expected a refusal');
}

const TOKEN = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2ln';

describe('extractBearerToken', () => {
  it.each([
    `Bearer ${TOKEN}`,
    `bearer ${TOKEN}`,
    `BEARER ${TOKEN}`,
    `bEaReR ${TOKEN}`,
    `Bearer     ${TOKEN}`,
  ])('reads the token from %j', (value) => {
    expect(extractBearerToken(request(value))).toBe(TOKEN);
  });

  it('throws MissingTokenException without an Authorization header', () => {
    expect(() => extractBearerToken(request())).toThrow(MissingTokenException);
  });

  it.each([
    ['Bearer', 'empty bearer token'],
    ['Bearer ', 'empty bearer token'],
    ['bearer   ', 'empty bearer token'],
    ['', 'authorization header must be Bearer <token>'],
    ['Basic dXNlcjpwYXNz', 'authorization header must be Bearer <token>'],
    [`Bearer ${TOKEN} extra`, 'authorization header must be Bearer <token>'],
    [`Bearer\t${TOKEN}`, 'authorization header must be Bearer <token>'],
    [`Bearer${TOKEN}`, 'authorization header must be Bearer <token>'],
    [` Bearer ${TOKEN}`, 'authorization header must be Bearer <token>'],
    [`Bearer ${TOKEN}\t`, 'authorization header must be Bearer <token>'],
    [`Bearer: ${TOKEN}`, 'authorization header must be Bearer <token>'],
    [`Bearer-${TOKEN}`, 'authorization header must be Bearer <token>'],
  ])('refuses %j with %j', (value, reason) => {
    expect(reasonFor(request(value))).toBe(reason);
  });

  it('refuses a second Authorization header, whatever the two hold', () => {
    expect(reasonFor(request(`Bearer ${TOKEN}`, `Bearer ${TOKEN}`))).toBe(
      'multiple authorization headers',
    );
    expect(reasonFor(request(`Bearer ${TOKEN}`, ''))).toBe('multiple authorization headers');
  });

  it('counts Authorization header names in any case', () => {
    const req = request(`Bearer ${TOKEN}`);
    req.raw.rawHeaders.push('AUTHORIZATION', `Bearer ${TOKEN}`);
    expect(reasonFor(req)).toBe('multiple authorization headers');
  });

  it('returns exactly the token for any scheme casing and run of spaces (property)', () => {
    const tokenArb = fc.string({ minLength: 1, maxLength: 200 }).filter((s) => !/\s/.test(s));
    const schemeArb = fc
      .array(fc.boolean(), { minLength: 6, maxLength: 6 })
      .map((upper) => [...'bearer'].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));
    fc.assert(
      fc.property(schemeArb, fc.integer({ min: 1, max: 10 }), tokenArb, (scheme, spaces, token) => {
        expect(extractBearerToken(request(`${scheme}${' '.repeat(spaces)}${token}`))).toBe(token);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses anything else with a 401 exception, never another error (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (value) => {
        let result: string | undefined;
        try {
          result = extractBearerToken(request(value));
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidTokenException);
          return;
        }
        // Accepted only in the one allowed shape.
        expect(value).toMatch(/^bearer +\S+$/i);
        expect(value.endsWith(result)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('hasAuthorizationHeader', () => {
  it('is true for any Authorization header, even an empty one', () => {
    expect(hasAuthorizationHeader(request(''))).toBe(true);
    expect(hasAuthorizationHeader(request('Basic x'))).toBe(true);
    expect(hasAuthorizationHeader(request())).toBe(false);
  });
});
