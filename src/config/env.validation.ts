import { isIP } from 'node:net';
import {
  AppConfig,
  JwtAlgorithm,
  OAuthConfig,
  LOG_LEVELS,
  LogLevel,
  NodeEnv,
  SUPPORTED_JWT_ALGORITHMS,
} from './app-config';

export type RawEnv = Record<string, string | undefined>;

/** Thrown when the environment is invalid; holds one line per problem. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

const NODE_ENVS: readonly NodeEnv[] = ['development', 'production', 'test'];
const DEFAULT_BETTER_AUTH_URL = 'http://localhost:3000';
const DEFAULT_CORS_ORIGINS = 'http://localhost:3000,http://127.0.0.1:3000';
const SECRET_VARIABLES = new Set(['DATABASE_URL']);
/** Where an empty value has an obvious meaning of its own: no proxy to trust. */
const EMPTY_MEANS_UNSET = new Set(['TRUST_PROXY']);

/**
 * Reads every variable, collecting all problems before failing so that an operator fixes a
 * broken deployment in one pass rather than one restart per mistake.
 */
export function validateEnv(env: RawEnv): AppConfig {
  const problems: string[] = [];
  const refusedEmpty = new Set<string>();

  const fail = (name: string, value: string, expected: string): void => {
    problems.push(`${name}=${JSON.stringify(displayValue(name, value))}: expected ${expected}`);
  };
  // Set but empty is a value, not an absence: taking the default instead would quietly run with
  // something the operator did not ask for (JWT_AUDIENCE= must not mean "the default audience").
  const read = (name: string): string | undefined => {
    const value = env[name];
    if (value === undefined) return undefined;
    const trimmed = value.trim();
    if (trimmed !== '') return trimmed;
    if (!EMPTY_MEANS_UNSET.has(name) && !refusedEmpty.has(name)) {
      refusedEmpty.add(name);
      fail(name, value, 'a value (unset the variable to get its default)');
    }
    return undefined;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const value = read(name);
    if (value === undefined) return fallback;
    const parsed = /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      fail(name, value, `an integer from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  };
  const boolean = (name: string, fallback: boolean): boolean => {
    const value = read(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    fail(name, value, 'true or false');
    return fallback;
  };
  const oneOf = <T extends string>(name: string, fallback: T, allowed: readonly T[]): T => {
    const value = read(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      fail(name, value, `one of ${allowed.join(', ')}`);
      return fallback;
    }
    return value as T;
  };
  const list = (value: string): string[] =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');

  const nodeEnv = oneOf<NodeEnv>('NODE_ENV', 'development', NODE_ENVS);
  const production = nodeEnv === 'production';

  const httpUrl = (name: string, value: string, requireLoopbackForHttp: boolean): boolean => {
    const url = parseUrl(value);
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      fail(name, value, 'an absolute http(s) URL');
      return false;
    }
    if (requireLoopbackForHttp && url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      fail(
        name,
        value,
        'an https URL (plain http is allowed only for loopback hosts in production)',
      );
      return false;
    }
    return true;
  };

  const betterAuthUrlRaw = read('BETTER_AUTH_URL') ?? DEFAULT_BETTER_AUTH_URL;
  const betterAuthUrl = httpUrl('BETTER_AUTH_URL', betterAuthUrlRaw, false)
    ? betterAuthUrlRaw.replace(/\/+$/, '')
    : DEFAULT_BETTER_AUTH_URL;

  const jwksUrlRaw = read('JWKS_URL');
  const jwksUrl = jwksUrlRaw ?? `${betterAuthUrl}/api/auth/jwks`;
  // The JWKS decides which signatures are trusted: outside development it must come over TLS
  // unless it is fetched from this very machine.
  httpUrl(jwksUrlRaw === undefined ? 'BETTER_AUTH_URL' : 'JWKS_URL', jwksUrl, production);

  const issuer = read('JWT_ISSUER') ?? betterAuthUrl;
  const audienceRaw = read('JWT_AUDIENCE');
  const audiences = audienceRaw === undefined ? [betterAuthUrl] : list(audienceRaw);
  if (audienceRaw !== undefined && audiences.length === 0) {
    fail('JWT_AUDIENCE', audienceRaw, 'one or more comma-separated audiences');
  }

  const algorithmsName = read('JWT_ALGORITHMS') !== undefined ? 'JWT_ALGORITHMS' : 'JWT_ALGORITHM';
  const algorithmsRaw = read(algorithmsName);
  let algorithms: JwtAlgorithm[] = ['EdDSA'];
  if (algorithmsRaw !== undefined) {
    const requested = list(algorithmsRaw);
    const unknown = requested.filter(
      (alg) => !(SUPPORTED_JWT_ALGORITHMS as readonly string[]).includes(alg),
    );
    if (requested.length === 0 || unknown.length > 0) {
      // Symmetric algorithms would let anyone holding the public JWKS forge tokens; `none` needs no key.
      fail(
        algorithmsName,
        algorithmsRaw,
        `a comma-separated subset of ${SUPPORTED_JWT_ALGORITHMS.join(', ')} (HS* and none are refused)`,
      );
    } else {
      algorithms = [...new Set(requested as JwtAlgorithm[])];
    }
  }

  const oauth = oauthConfig(env, issuer, fail);

  const databaseUrl = read('DATABASE_URL');
  if (databaseUrl !== undefined) {
    const url = parseUrl(databaseUrl);
    if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
      fail('DATABASE_URL', databaseUrl, 'a postgres:// or postgresql:// URL');
    }
  } else if (production) {
    problems.push(
      'DATABASE_URL is not set: expected a postgres:// URL (required when NODE_ENV=production; the embedded database is for development only)',
    );
  }

  const corsRaw = read('CORS_ORIGINS') ?? DEFAULT_CORS_ORIGINS;
  const corsOrigins = list(corsRaw);
  for (const origin of corsOrigins) {
    const url = parseUrl(origin);
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== origin.replace(/\/$/, '')) {
      fail('CORS_ORIGINS', origin, 'comma-separated origins such as https://app.example.com');
    }
  }

  const jwksCacheTtlSeconds = integer('JWKS_CACHE_TTL_SECONDS', 600, 1, 86_400);
  const jwksMaxStaleSeconds = integer('JWKS_MAX_STALE_SECONDS', 86_400, 1, 2_592_000);
  // Keys must be asked for again before they stop verifying, or every TTL would end in 503s.
  if (jwksMaxStaleSeconds < jwksCacheTtlSeconds) {
    fail(
      'JWKS_MAX_STALE_SECONDS',
      String(jwksMaxStaleSeconds),
      `at least JWKS_CACHE_TTL_SECONDS (${jwksCacheTtlSeconds})`,
    );
  }

  const config: AppConfig = {
    nodeEnv,
    logLevel: oneOf<LogLevel>('LOG_LEVEL', 'info', LOG_LEVELS),
    http: {
      host: read('HOST') ?? '0.0.0.0',
      port: integer('PORT', 8000, 1, 65535),
      corsOrigins: corsOrigins.map((origin) => origin.replace(/\/$/, '')),
      trustProxy: trustProxy(read('TRUST_PROXY'), fail),
      requestTimeoutMs: integer('HTTP_REQUEST_TIMEOUT_MS', 30_000, 1000, 600_000),
      handlerTimeoutMs: integer('HTTP_HANDLER_TIMEOUT_MS', 10_000, 1000, 600_000),
      shutdownDelaySeconds: integer('SHUTDOWN_DELAY_SECONDS', 0, 0, 300),
    },
    database: {
      url: databaseUrl,
      migrationsRun: boolean('MIGRATIONS_RUN', true),
      poolSize: integer('DATABASE_POOL_SIZE', 10, 1, 200),
      embedded: {
        dataDir: read('EMBEDDED_POSTGRES_DATA_DIR') ?? '.data/postgres',
        port: integer('EMBEDDED_POSTGRES_PORT', 54329, 1, 65535),
      },
    },
    auth: {
      betterAuthUrl,
      jwksUrl,
      issuer,
      audiences,
      algorithms,
      clockToleranceSeconds: integer('JWT_CLOCK_TOLERANCE_SECONDS', 5, 0, 300),
      jwksCacheTtlSeconds,
      jwksCooldownSeconds: integer('JWKS_COOLDOWN_SECONDS', 30, 0, 3_600),
      jwksTimeoutMs: integer('JWKS_TIMEOUT_MS', 5000, 100, 60_000),
      jwksMaxStaleSeconds,
      tokenCache: {
        maxEntries: integer('TOKEN_CACHE_MAX_ENTRIES', 10_000, 0, 1_000_000),
        maxAgeSeconds: integer('TOKEN_CACHE_MAX_AGE_SECONDS', 300, 0, 3_600),
      },
      oauth,
    },
    throttle: {
      ttlSeconds: integer('THROTTLE_TTL_SECONDS', 60, 1, 3_600),
      userLimit: integer('THROTTLE_USER_LIMIT', 600, 1, 1_000_000),
      anonymousLimit: integer('THROTTLE_ANONYMOUS_LIMIT', 120, 1, 1_000_000),
      ipv6Prefix: integer('RATE_LIMIT_IPV6_PREFIX', 64, 16, 128),
    },
    // One account must not be able to fill the disk: a bound on what each user may store.
    todos: { maxPerUser: integer('TODOS_MAX_PER_USER', 10_000, 1, 1_000_000) },
  };

  if (problems.length > 0) throw new ConfigValidationError(problems);
  return config;
}

/**
 * OAUTH_RESOURCE turns OAuth access tokens on. An empty value is refused rather than read as
 * "off", so a deployment that meant to set it does not silently refuse every access token.
 */
function oauthConfig(
  env: RawEnv,
  jwtIssuer: string,
  fail: (n: string, v: string, e: string) => void,
): OAuthConfig | undefined {
  const resource = env.OAUTH_RESOURCE?.trim();
  const issuerRaw = env.OAUTH_ISSUER?.trim();
  if (issuerRaw === '') fail('OAUTH_ISSUER', '', 'a non-empty issuer (default: JWT_ISSUER)');
  if (resource === undefined) return undefined;
  const url = parseUrl(resource);
  // RFC 8707: a resource indicator is an absolute URI without a fragment. Quotes and
  // backslashes are refused too, because the value is echoed in WWW-Authenticate challenges.
  if (!url || url.hash !== '' || resource.includes('#') || /["\\\s]/.test(resource)) {
    fail(
      'OAUTH_RESOURCE',
      resource,
      'an absolute URI without a fragment, e.g. https://api.example.com',
    );
    return undefined;
  }
  return { resource, issuer: issuerRaw || jwtIssuer };
}

/**
 * TRUST_PROXY: unset or `false` for none, a hop count (`true` is one hop), or comma-separated
 * proxy addresses and CIDR ranges. `true` is not Fastify's "trust every hop": that would take
 * the leftmost X-Forwarded-For entry, which the client writes itself.
 */
function trustProxy(
  value: string | undefined,
  fail: (n: string, v: string, e: string) => void,
): number | string[] {
  if (value === undefined || value.toLowerCase() === 'false') return 0;
  if (value.toLowerCase() === 'true') return 1;
  if (/^\d+$/.test(value)) {
    if (Number(value) <= 10) return Number(value);
  } else {
    const entries = value.split(',').map((entry) => entry.trim());
    if (entries.every(isAddressOrCidr)) return entries;
  }
  fail(
    'TRUST_PROXY',
    value,
    'false, true (one proxy), a number of proxy hops (0-10), or comma-separated proxy addresses/CIDRs (e.g. 10.0.0.0/8,fd00::/8, or loopback, linklocal, uniquelocal)',
  );
  return 0;
}

/** Names Fastify's trustProxy (proxy-addr) expands to the matching private ranges. */
const TRUST_PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** `203.0.113.7`, `10.0.0.0/8`, `2001:db8::1`, `fd00::/8`, or a range name. */
function isAddressOrCidr(entry: string): boolean {
  if (TRUST_PROXY_RANGE_NAMES.has(entry)) return true;
  // A zone id (fe80::1%eth0) names an interface, not a proxy.
  if (entry.includes('%')) return false;
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return false;
  if (slash === -1) return true;
  const bits = entry.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) >= 1 && Number(bits) <= (version === 4 ? 32 : 128);
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/**
 * Literal loopback only: `localhost`, 127.0.0.0/8 and `::1`. Other names, `*.localhost` included,
 * are resolved through DNS, which inside a container or a hostile network may point anywhere.
 * The WHATWG URL parser has already normalised the host (`127.1`, `0x7f.0.0.1` and `[0::1]` arrive
 * here in their canonical spelling).
 */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Hides the password of a connection URL; other values are shown as given. */
function displayValue(name: string, value: string): string {
  if (!SECRET_VARIABLES.has(name) || value.trim() === '') return value;
  const url = parseUrl(value);
  if (url?.password) {
    url.password = '***';
    return url.toString();
  }
  return url ? value : '<not a URL>';
}
