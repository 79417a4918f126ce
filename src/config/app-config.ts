/** Signing algorithms this API can verify. HS* and `none` are deliberately absent. */
export const SUPPORTED_JWT_ALGORITHMS = [
  'EdDSA',
  'Ed25519',
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
] as const;

export type JwtAlgorithm = (typeof SUPPORTED_JWT_ALGORITHMS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type NodeEnv = 'development' | 'production' | 'test';

export interface HttpConfig {
  host: string;
  port: number;
  corsOrigins: string[];
  /**
   * Whose X-Forwarded-For is believed (TRUST_PROXY): a number of proxy hops (0 = none), or the
   * addresses and CIDR ranges of the proxies.
   */
  trustProxy: number | string[];
  /** Longest time a client may take to send one whole request (headers and body). */
  requestTimeoutMs: number;
  /** Longest time the server takes to answer a request once it has arrived; then 503. */
  handlerTimeoutMs: number;
  /**
   * On SIGTERM, how long readiness answers 503 while every request is still served, so that a
   * load balancer stops sending before the drain begins.
   */
  shutdownDelaySeconds: number;
}

export interface DatabaseConfig {
  /** Unset: the embedded PostgreSQL is started. */
  url: string | undefined;
  migrationsRun: boolean;
  poolSize: number;
  embedded: { dataDir: string; port: number };
}

export interface AuthConfig {
  betterAuthUrl: string;
  jwksUrl: string;
  issuer: string;
  audiences: string[];
  algorithms: JwtAlgorithm[];
  clockToleranceSeconds: number;
  jwksCacheTtlSeconds: number;
  jwksCooldownSeconds: number;
  jwksTimeoutMs: number;
  /** How long after the last successful JWKS fetch its keys may still verify tokens. */
  jwksMaxStaleSeconds: number;
  tokenCache: { maxEntries: number; maxAgeSeconds: number };
  /** OAuth access tokens (Better Auth's OAuth provider); undefined when OAUTH_RESOURCE is unset. */
  oauth: OAuthConfig | undefined;
}

export interface OAuthConfig {
  /** This API's resource identifier: access tokens must name it in `aud`. */
  resource: string;
  /** The `iss` of access tokens (Better Auth: `<baseURL>/api/auth` unless its jwt.issuer is set). */
  issuer: string;
}

export interface ThrottleConfig {
  /** Window length in seconds shared by both limits. */
  ttlSeconds: number;
  /** Requests per window for an authenticated user. */
  userLimit: number;
  /** Requests per window for an anonymous client or a failed authentication, per client IP. */
  anonymousLimit: number;
  /** IPv6 clients share one bucket per block of this many leading bits. */
  ipv6Prefix: number;
}

export interface TodosConfig {
  /** The most todos one user may hold; a create past it is refused. */
  maxPerUser: number;
}

export interface AppConfig {
  nodeEnv: NodeEnv;
  logLevel: LogLevel;
  http: HttpConfig;
  database: DatabaseConfig;
  auth: AuthConfig;
  throttle: ThrottleConfig;
  todos: TodosConfig;
}
