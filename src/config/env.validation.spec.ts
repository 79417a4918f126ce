import { ConfigValidationError, validateEnv } from './env.validation';

function problemsOf(env: Record<string, string>): string[] {
  try {
    validateEnv(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('validateEnv', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = validateEnv({});
    expect(config.http).toEqual({
      host: '0.0.0.0',
      port: 8000,
      corsOrigins: ['http://localhost:3000', 'http://127.0.0.1:3000'],
      trustProxy: 0,
      requestTimeoutMs: 30_000,
      handlerTimeoutMs: 10_000,
      shutdownDelaySeconds: 0,
    });
    expect(config.database.url).toBeUndefined();
    expect(config.database.migrationsRun).toBe(true);
    expect(config.auth).toMatchObject({
      betterAuthUrl: 'http://localhost:3000',
      jwksUrl: 'http://localhost:3000/api/auth/jwks',
      issuer: 'http://localhost:3000',
      audiences: ['http://localhost:3000'],
      algorithms: ['EdDSA'],
      clockToleranceSeconds: 5,
      jwksCacheTtlSeconds: 600,
      jwksCooldownSeconds: 30,
      jwksTimeoutMs: 5000,
      jwksMaxStaleSeconds: 86_400,
    });
    expect(config.logLevel).toBe('info');
  });

  it('reads SHUTDOWN_DELAY_SECONDS', () => {
    expect(validateEnv({ SHUTDOWN_DELAY_SECONDS: '15' }).http.shutdownDelaySeconds).toBe(15);
  });

  it('derives the JWKS URL, issuer and audience from BETTER_AUTH_URL', () => {
    const config = validateEnv({ BETTER_AUTH_URL: 'https://auth.example.com/' });
    expect(config.auth.jwksUrl).toBe('https://auth.example.com/api/auth/jwks');
    expect(config.auth.issuer).toBe('https://auth.example.com');
    expect(config.auth.audiences).toEqual(['https://auth.example.com']);
  });

  it('reads a comma-separated audience list and algorithm list', () => {
    const config = validateEnv({
      JWT_AUDIENCE: 'https://api.example.com, https://other.example.com',
      JWT_ALGORITHMS: 'EdDSA,ES256,RS256',
    });
    expect(config.auth.audiences).toEqual(['https://api.example.com', 'https://other.example.com']);
    expect(config.auth.algorithms).toEqual(['EdDSA', 'ES256', 'RS256']);
  });

  it('falls back to the single-valued JWT_ALGORITHM only when JWT_ALGORITHMS is unset', () => {
    expect(validateEnv({ JWT_ALGORITHM: 'ES256' }).auth.algorithms).toEqual(['ES256']);
    expect(
      validateEnv({ JWT_ALGORITHM: 'ES256', JWT_ALGORITHMS: 'RS256' }).auth.algorithms,
    ).toEqual(['RS256']);
  });

  it.each(['HS256', 'none', 'EdDSA,HS512', 'RS257', ','])('refuses JWT_ALGORITHMS=%s', (value) => {
    const [problem] = problemsOf({ JWT_ALGORITHMS: value });
    expect(problem).toContain('JWT_ALGORITHMS=');
    expect(problem).toContain('HS* and none are refused');
  });

  it.each([
    ['PORT', '0', 'an integer from 1 to 65535'],
    ['PORT', '65536', 'an integer from 1 to 65535'],
    ['PORT', 'eighty', 'an integer from 1 to 65535'],
    ['BETTER_AUTH_URL', 'localhost:3000', 'an absolute http(s) URL'],
    ['BETTER_AUTH_URL', 'ftp://auth.example.com', 'an absolute http(s) URL'],
    ['JWKS_URL', 'not a url', 'an absolute http(s) URL'],
    ['DATABASE_URL', 'mysql://db/todos', 'a postgres:// or postgresql:// URL'],
    ['JWT_CLOCK_TOLERANCE_SECONDS', '301', 'an integer from 0 to 300'],
    ['JWT_CLOCK_TOLERANCE_SECONDS', '-1', 'an integer from 0 to 300'],
    ['JWKS_CACHE_TTL_SECONDS', '0', 'an integer from 1 to 86400'],
    ['JWKS_COOLDOWN_SECONDS', 'soon', 'an integer from 0 to 3600'],
    ['JWKS_TIMEOUT_MS', '5', 'an integer from 100 to 60000'],
    ['CORS_ORIGINS', 'app.example.com', 'comma-separated origins'],
    ['CORS_ORIGINS', 'https://app.example.com/path', 'comma-separated origins'],
    ['LOG_LEVEL', 'verbose', 'one of fatal, error, warn, info, debug, trace, silent'],
    ['NODE_ENV', 'staging', 'one of development, production, test'],
    ['MIGRATIONS_RUN', 'maybe', 'true or false'],
    ['TRUST_PROXY', 'everyone', 'false, true'],
    ['TRUST_PROXY', '11', 'a number of proxy hops (0-10)'],
    ['TRUST_PROXY', '10.0.0.1,proxy.internal', 'comma-separated proxy addresses/CIDRs'],
    ['TRUST_PROXY', '10.0.0.0/33', 'comma-separated proxy addresses/CIDRs'],
    ['TRUST_PROXY', '10.0.0.0/0', 'comma-separated proxy addresses/CIDRs'],
    ['TRUST_PROXY', '10.0.0.0/', 'comma-separated proxy addresses/CIDRs'],
    ['TRUST_PROXY', '10.0.0.0/8,', 'comma-separated proxy addresses/CIDRs'],
    ['TRUST_PROXY', 'fe80::1%eth0', 'comma-separated proxy addresses/CIDRs'],
    ['RATE_LIMIT_IPV6_PREFIX', '15', 'an integer from 16 to 128'],
    ['RATE_LIMIT_IPV6_PREFIX', '129', 'an integer from 16 to 128'],
    ['RATE_LIMIT_IPV6_PREFIX', '/64', 'an integer from 16 to 128'],
    ['HTTP_REQUEST_TIMEOUT_MS', '999', 'an integer from 1000 to 600000'],
    ['HTTP_REQUEST_TIMEOUT_MS', '1.5', 'an integer from 1000 to 600000'],
    ['HTTP_HANDLER_TIMEOUT_MS', '0', 'an integer from 1000 to 600000'],
    ['SHUTDOWN_DELAY_SECONDS', '-1', 'an integer from 0 to 300'],
    ['SHUTDOWN_DELAY_SECONDS', '301', 'an integer from 0 to 300'],
    ['SHUTDOWN_DELAY_SECONDS', '1.5', 'an integer from 0 to 300'],
  ])(
    'refuses %s=%s, naming the variable, the value and what is expected',
    (name, value, expected) => {
      const problems = problemsOf({ [name]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(`${name}=${JSON.stringify(value)}`);
      expect(problems[0]).toContain(expected);
    },
  );

  it('reads JWKS_MAX_STALE_SECONDS, and refuses one shorter than JWKS_CACHE_TTL_SECONDS', () => {
    expect(validateEnv({ JWKS_MAX_STALE_SECONDS: '3600' }).auth.jwksMaxStaleSeconds).toBe(3600);
    expect(problemsOf({ JWKS_MAX_STALE_SECONDS: '0' })).toEqual([
      'JWKS_MAX_STALE_SECONDS="0": expected an integer from 1 to 2592000',
    ]);
    expect(problemsOf({ JWKS_CACHE_TTL_SECONDS: '600', JWKS_MAX_STALE_SECONDS: '599' })).toEqual([
      'JWKS_MAX_STALE_SECONDS="599": expected at least JWKS_CACHE_TTL_SECONDS (600)',
    ]);
  });

  it.each<[string, number | string[]]>([
    ['false', 0],
    ['true', 1],
    ['0', 0],
    ['2', 2],
    ['10.0.0.7', ['10.0.0.7']],
    [
      ' 10.0.0.0/8 , 192.168.1.0/24,2001:db8::/32, ::1 ',
      ['10.0.0.0/8', '192.168.1.0/24', '2001:db8::/32', '::1'],
    ],
    ['loopback,uniquelocal', ['loopback', 'uniquelocal']],
  ])('reads TRUST_PROXY=%s', (value, expected) => {
    expect(validateEnv({ TRUST_PROXY: value }).http.trustProxy).toEqual(expected);
  });

  it('groups IPv6 clients by /64 unless RATE_LIMIT_IPV6_PREFIX says otherwise', () => {
    expect(validateEnv({}).throttle.ipv6Prefix).toBe(64);
    expect(validateEnv({ RATE_LIMIT_IPV6_PREFIX: '56' }).throttle.ipv6Prefix).toBe(56);
  });

  describe('a variable set to the empty string', () => {
    // A value, not an absence: each would otherwise silently fall back to its default.
    it.each([
      'JWT_AUDIENCE',
      'JWT_ISSUER',
      'JWKS_URL',
      'BETTER_AUTH_URL',
      'DATABASE_URL',
      'PORT',
      'DATABASE_POOL_SIZE',
      'EMBEDDED_POSTGRES_PORT',
      'JWT_CLOCK_TOLERANCE_SECONDS',
      'JWKS_CACHE_TTL_SECONDS',
      'JWKS_COOLDOWN_SECONDS',
      'JWKS_TIMEOUT_MS',
      'JWKS_MAX_STALE_SECONDS',
      'TODOS_MAX_PER_USER',
      'TOKEN_CACHE_MAX_ENTRIES',
      'TOKEN_CACHE_MAX_AGE_SECONDS',
      'HTTP_REQUEST_TIMEOUT_MS',
      'HTTP_HANDLER_TIMEOUT_MS',
      'THROTTLE_TTL_SECONDS',
      'THROTTLE_USER_LIMIT',
      'THROTTLE_ANONYMOUS_LIMIT',
      'RATE_LIMIT_IPV6_PREFIX',
      'JWT_ALGORITHMS',
      'JWT_ALGORITHM',
      'LOG_LEVEL',
      'NODE_ENV',
      'MIGRATIONS_RUN',
      'HOST',
      'CORS_ORIGINS',
      'EMBEDDED_POSTGRES_DATA_DIR',
    ])('refuses %s=, naming it once', (name) => {
      expect(problemsOf({ [name]: '' })).toEqual([
        `${name}="": expected a value (unset the variable to get its default)`,
      ]);
    });

    it('refuses blanks too, showing them as given', () => {
      expect(problemsOf({ JWT_AUDIENCE: '  ' })).toEqual([
        'JWT_AUDIENCE="  ": expected a value (unset the variable to get its default)',
      ]);
    });

    it('reports every empty variable at once, with the other problems', () => {
      const problems = problemsOf({ JWT_AUDIENCE: '', JWKS_URL: '', PORT: '', LOG_LEVEL: 'loud' });
      expect(problems).toHaveLength(4);
      for (const name of ['JWT_AUDIENCE', 'JWKS_URL', 'PORT', 'LOG_LEVEL']) {
        expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${name}=`)));
      }
    });

    it('still means "no proxy" for TRUST_PROXY', () => {
      expect(validateEnv({ TRUST_PROXY: '' }).http.trustProxy).toBe(0);
    });
  });

  it('reports every problem at once, not just the first', () => {
    const problems = problemsOf({ PORT: '0', LOG_LEVEL: 'loud', JWT_ALGORITHMS: 'HS256' });
    expect(problems).toHaveLength(3);
    for (const name of ['PORT', 'LOG_LEVEL', 'JWT_ALGORITHMS']) {
      expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${name}=`)));
    }
  });

  it('never shows a database password', () => {
    const [problem] = problemsOf({ DATABASE_URL: 'mysql://app:s3cret@db/todos' });
    expect(problem).not.toContain('s3cret');
    expect(problem).toContain('***');
  });

  describe('in production', () => {
    it('requires DATABASE_URL', () => {
      const [problem] = problemsOf({ NODE_ENV: 'production' });
      expect(problem).toMatch(/^DATABASE_URL is not set/);
    });

    it('refuses a plain-http JWKS on a non-loopback host', () => {
      const problems = problemsOf({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://db/todos',
        JWKS_URL: 'http://auth.example.com/api/auth/jwks',
      });
      expect(problems).toEqual([expect.stringContaining('JWKS_URL="http://auth.example.com')]);
    });

    it.each([
      'http://auth.localhost:3000',
      'http://localhost.example.com',
      'http://localhost.',
      'http://127.0.0.1.nip.io',
      'http://128.0.0.1',
      'http://[::2]',
      'http://[::ffff:127.0.0.1]',
      'http://0.0.0.0',
    ])('refuses plain http on %s: a name or address that is not literal loopback', (url) => {
      const problems = problemsOf({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://db/todos',
        JWKS_URL: `${url}/jwks`,
      });
      expect(problems).toEqual([
        `JWKS_URL=${JSON.stringify(`${url}/jwks`)}: expected an https URL (plain http is allowed only for loopback hosts in production)`,
      ]);
    });

    it('refuses a plain-http BETTER_AUTH_URL on *.localhost when the JWKS URL derives from it', () => {
      expect(
        problemsOf({
          NODE_ENV: 'production',
          DATABASE_URL: 'postgres://db/todos',
          BETTER_AUTH_URL: 'http://auth.localhost',
        }),
      ).toEqual([
        expect.stringMatching(/^BETTER_AUTH_URL="http:\/\/auth\.localhost\/api\/auth\/jwks"/),
      ]);
    });

    it.each([
      'http://localhost:3000',
      'http://LOCALHOST:3000',
      'http://127.0.0.1:3000',
      'http://127.255.0.9',
      'http://127.1',
      'http://[::1]:3000',
      'http://[0:0:0:0:0:0:0:1]:3000',
    ])('allows plain http on loopback (%s)', (betterAuthUrl) => {
      const config = validateEnv({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://db/todos',
        BETTER_AUTH_URL: betterAuthUrl,
      });
      expect(config.auth.jwksUrl).toBe(`${betterAuthUrl}/api/auth/jwks`);
      expect(new URL(config.auth.jwksUrl).protocol).toBe('http:');
    });
  });

  it('allows plain http to any host outside production', () => {
    expect(validateEnv({ JWKS_URL: 'http://auth.internal/jwks' }).auth.jwksUrl).toBe(
      'http://auth.internal/jwks',
    );
  });

  describe('OAuth access tokens', () => {
    it('are off unless OAUTH_RESOURCE is set', () => {
      expect(validateEnv({}).auth.oauth).toBeUndefined();
      expect(validateEnv({ OAUTH_ISSUER: 'https://auth.example.com/api/auth' }).auth.oauth).toBe(
        undefined,
      );
    });

    it('take their issuer from OAUTH_ISSUER, or JWT_ISSUER by default', () => {
      expect(
        validateEnv({ OAUTH_RESOURCE: 'https://api.example.com', JWT_ISSUER: 'https://a.example' })
          .auth.oauth,
      ).toEqual({ resource: 'https://api.example.com', issuer: 'https://a.example' });
      expect(
        validateEnv({
          OAUTH_RESOURCE: 'https://api.example.com/',
          OAUTH_ISSUER: 'https://a.example/api/auth',
        }).auth.oauth,
      ).toEqual({ resource: 'https://api.example.com/', issuer: 'https://a.example/api/auth' });
    });

    it.each([
      ['', 'OAUTH_RESOURCE=""'],
      ['api', 'OAUTH_RESOURCE="api"'],
      ['https://api.example.com/#x', 'OAUTH_RESOURCE="https://api.example.com/#x"'],
      ['https://api.example.com/"x', 'OAUTH_RESOURCE="https://api.example.com/\\"x"'],
    ])('refuses OAUTH_RESOURCE %j', (value, shown) => {
      expect(problemsOf({ OAUTH_RESOURCE: value })).toEqual([
        `${shown}: expected an absolute URI without a fragment, e.g. https://api.example.com`,
      ]);
    });

    it('refuses an empty OAUTH_ISSUER rather than reading it as unset', () => {
      expect(problemsOf({ OAUTH_RESOURCE: 'https://api.example.com', OAUTH_ISSUER: ' ' })).toEqual([
        'OAUTH_ISSUER="": expected a non-empty issuer (default: JWT_ISSUER)',
      ]);
    });
  });
});
