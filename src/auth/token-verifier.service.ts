import { Injectable } from '@nestjs/common';
import { errors, JWTPayload, jwtVerify } from 'jose';
import { JwtAlgorithm, OAuthConfig } from '../config/app-config';
import { AppConfigService } from '../config/app-config.service';
import {
  InvalidTokenException,
  KeysUnavailableException,
  TokenOutsideTimeWindowException,
} from './auth.errors';
import { AuthMetrics } from './auth.metrics';
import { ActiveOrganization, AuthenticatedUser, TokenKind } from './authenticated-user';
import { JwksKey, JwksKeyStore } from './jwks/jwks-key-store';
import { TokenTiming, VerifiedTokenCache } from './verified-token-cache';

/** Far above a Better Auth token (under 1 KiB with the whole user object) and far below abuse. */
export const MAX_TOKEN_LENGTH = 8192;

/** The longest `sub` accepted, in characters (Unicode code points); Better Auth's ids are 32. */
export const MAX_SUBJECT_LENGTH = 255;

/** C0 controls (NUL included), DEL and C1 controls. */
const CONTROL_CHARACTER = /\p{Cc}/u;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const BASE64URL_OR_EMPTY = /^[A-Za-z0-9_-]*$/;

/** Header parameters this API understands; anything listed in `crit` must be one of these. */
const UNDERSTOOD_CRITICAL_PARAMS: ReadonlySet<string> = new Set();

/** `typ` of a session JWT when present (RFC 7519 §5.1; the media type form too). */
const SESSION_TYP = /^(application\/)?jwt$/i;
/** `typ` of an OAuth 2.0 access token in JWT form (RFC 9068 §2.1). */
const ACCESS_TOKEN_TYP = /^(application\/)?at\+jwt$/i;

/**
 * Verifies Better Auth JWTs.
 *
 * Why jose and not jsonwebtoken (passport-jwt's verifier): Better Auth signs with EdDSA/Ed25519
 * by default, which jsonwebtoken cannot verify ("Unknown key type ed25519"). jose verifies every
 * algorithm Better Auth can use (EdDSA, Ed25519, ES256/384/512, RS256/384/512, PS256/384/512),
 * is already a dependency of jwks-rsa, and checks the registered claims.
 *
 * The header is checked here before any key is looked up, so nothing in a token (`jku`, `x5u`,
 * `jwk`, `x5c`) can make the API fetch a URL or choose a key outside the configured JWKS.
 */
@Injectable()
export class TokenVerifier {
  private readonly allowedAlgorithms: ReadonlySet<string>;
  private readonly cache: VerifiedTokenCache;
  private readonly oauth: OAuthConfig | undefined;

  constructor(
    private readonly config: AppConfigService,
    private readonly keyStore: JwksKeyStore,
    private readonly metrics: AuthMetrics,
  ) {
    const configured = config.auth.algorithms;
    const allowed = new Set<string>(configured);
    // EdDSA and Ed25519 (RFC 9864) are two names for the same Ed25519 signature.
    if (allowed.has('EdDSA') || allowed.has('Ed25519')) {
      allowed.add('EdDSA');
      allowed.add('Ed25519');
    }
    this.allowedAlgorithms = allowed;
    this.oauth = config.auth.oauth;
    const { maxEntries, maxAgeSeconds } = config.auth.tokenCache;
    this.cache = new VerifiedTokenCache(maxEntries, maxAgeSeconds * 1000, (key) =>
      keyStore.isCurrent(key),
    );
    metrics.observeTokenCache(() => this.cache.size);
  }

  async verify(token: string): Promise<AuthenticatedUser> {
    const now = Date.now();
    this.keyStore.refreshIfStale();
    const cached = this.cache.get(token, now);
    if (cached) {
      this.metrics.tokenCacheHit();
      return cached;
    }
    this.metrics.tokenCacheMiss();

    const { alg, kid, kind } = this.checkHeader(token);
    const lookup = await this.keyStore.findKey(alg, kid);
    if (lookup.status === 'unavailable') throw new KeysUnavailableException();
    if (lookup.status === 'unknown') {
      throw new InvalidTokenException('signing key not found in the JWKS');
    }

    const payload = await this.verifySignatureAndClaims(token, alg, kind, lookup.key);
    const timing = this.checkOwnClaims(payload, Date.now());
    const user = toAuthenticatedUser(payload, kind === 'access' ? accessTokenGrant(payload) : null);
    this.cache.set(token, user, lookup.key, timing, Date.now());
    return user;
  }

  private checkHeader(token: string): {
    alg: JwtAlgorithm;
    kid: string | undefined;
    kind: TokenKind;
  } {
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenException('token too large');
    const parts = token.split('.');
    if (parts.length === 5 && parts.every((part) => BASE64URL_OR_EMPTY.test(part))) {
      throw new InvalidTokenException('encrypted tokens (JWE) are not accepted');
    }
    if (parts.length !== 3) {
      // The reason is the error_description, so it alone must point the client to the JWT. Better
      // Auth's OAuth provider issues opaque access tokens when the client names no resource.
      if (this.oauth) {
        throw new InvalidTokenException(
          'not a JWT; send the JWT from GET /api/auth/token, or request the OAuth access token with resource',
          `The bearer value is not a JWT. Send the JWT from GET /api/auth/token, or, for an OAuth access token, request it with resource=${this.oauth.resource} so that it is issued as a JWT for this API.`,
        );
      }
      throw new InvalidTokenException(
        'not a JWT; send the JWT from GET /api/auth/token',
        'The bearer value is not a JWT (a Better Auth session token, perhaps). Send the JWT from GET /api/auth/token (or the set-auth-jwt header) instead.',
      );
    }
    const [encodedHeader, encodedPayload, signature] = parts;
    // Canonical base64url only: a segment with non-zero pad bits decodes like another string, so
    // one signed token would have many spellings (a cache or deny-list keyed by the string could
    // be sidestepped). The signature may be empty here so that `alg: none` is named as such below.
    if (
      !isCanonicalBase64url(encodedHeader) ||
      !isCanonicalBase64url(encodedPayload) ||
      (signature !== '' && !isCanonicalBase64url(signature))
    ) {
      throw new InvalidTokenException('malformed token');
    }

    const header = decodeJsonSegment(encodedHeader);
    if (!header) throw new InvalidTokenException('malformed token header');

    const { alg, kid, typ, crit } = header;
    if (typeof alg !== 'string' || !this.allowedAlgorithms.has(alg)) {
      throw new InvalidTokenException('algorithm not allowed');
    }
    if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > 256)) {
      throw new InvalidTokenException('invalid kid header');
    }
    const kind = this.tokenKind(typ);
    if (
      crit !== undefined &&
      (!Array.isArray(crit) ||
        crit.length === 0 ||
        crit.some((name) => typeof name !== 'string' || !UNDERSTOOD_CRITICAL_PARAMS.has(name)))
    ) {
      throw new InvalidTokenException('unsupported critical header');
    }
    // RFC 7797 unencoded payloads: never issued by Better Auth; refused even outside `crit` so
    // that no verifier in the chain can read the payload differently from this one.
    if (header.b64 !== undefined && header.b64 !== true) {
      throw new InvalidTokenException('unencoded payload (b64) not accepted');
    }
    if (signature === '') throw new InvalidTokenException('missing signature');
    return { alg: alg as JwtAlgorithm, kid, kind };
  }

  /**
   * The same keys sign every token Better Auth issues, so `typ` alone tells the kinds apart:
   * without this, a session JWT could pass as an access token with every scope, an access token
   * could get a session's full access, and other kinds (e.g. `logout+jwt`) could be replayed.
   * Types are compared case-insensitively, as media types are (RFC 7515 §4.1.9).
   */
  private tokenKind(typ: unknown): TokenKind {
    if (typ === undefined) return 'session';
    if (typeof typ === 'string' && SESSION_TYP.test(typ)) return 'session';
    if (typeof typ === 'string' && ACCESS_TOKEN_TYP.test(typ)) {
      if (this.oauth) return 'access';
      throw new InvalidTokenException('OAuth access tokens are not accepted by this API');
    }
    throw new InvalidTokenException('unexpected token type');
  }

  private async verifySignatureAndClaims(
    token: string,
    alg: JwtAlgorithm,
    kind: TokenKind,
    key: JwksKey,
  ): Promise<JWTPayload> {
    const { clockToleranceSeconds } = this.config.auth;
    // An access token must be issued for this resource by the authorization server; a session
    // JWT keeps its own issuer and audiences, so a session JWT that names the resource in `aud`
    // is still only a session JWT.
    const { issuer, audiences } =
      kind === 'access' && this.oauth
        ? { issuer: this.oauth.issuer, audiences: [this.oauth.resource] }
        : this.config.auth;
    try {
      const { payload } = await jwtVerify(token, key.key, {
        algorithms: [alg],
        issuer,
        audience: audiences,
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      });
      return payload;
    } catch (error) {
      // jose checks the signature, `iss` and `aud` before the times: a time failure is genuine.
      if (isTimeWindowFailure(error)) {
        throw new TokenOutsideTimeWindowException(describeJoseError(error));
      }
      throw new InvalidTokenException(describeJoseError(error));
    }
  }

  /** Checks jose leaves to the caller: finite times, `iat` not in the future, a usable `sub`. */
  private checkOwnClaims(payload: JWTPayload, now: number): TokenTiming {
    const toleranceMs = this.config.auth.clockToleranceSeconds * 1000;
    const { exp, nbf, iat, sub } = payload;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) {
      throw new InvalidTokenException('invalid exp claim');
    }
    for (const [name, value] of [
      ['nbf', nbf],
      ['iat', iat],
    ] as const) {
      if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
        throw new InvalidTokenException(`invalid ${name} claim`);
      }
    }
    if (iat !== undefined && iat * 1000 > now + toleranceMs) {
      throw new TokenOutsideTimeWindowException('token issued in the future');
    }
    if (typeof sub !== 'string') throw new InvalidTokenException('invalid sub claim');
    if (sub.length === 0) throw new InvalidTokenException('missing or empty sub claim');
    checkSubject(sub);
    return {
      validFromMs: Math.max(nbf ?? 0, iat ?? 0) * 1000 - toleranceMs,
      expiresAtMs: exp * 1000 + toleranceMs,
    };
  }
}

/**
 * `sub` becomes the owner id of stored rows and a rate-limit key, so it is checked here, before
 * any database work: PostgreSQL cannot store a NUL (the query would fail with a 500), and a lone
 * surrogate would be stored as U+FFFD, so two different subjects would own the same rows.
 */
function checkSubject(sub: string): void {
  if (sub.length > MAX_SUBJECT_LENGTH && [...sub].length > MAX_SUBJECT_LENGTH) {
    throw new InvalidTokenException('sub claim too long');
  }
  if (CONTROL_CHARACTER.test(sub)) {
    throw new InvalidTokenException('control characters in sub claim');
  }
  if (!sub.isWellFormed()) throw new InvalidTokenException('malformed sub claim');
}

function isCanonicalBase64url(segment: string): boolean {
  return (
    BASE64URL.test(segment) && Buffer.from(segment, 'base64url').toString('base64url') === segment
  );
}

function decodeJsonSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function isTimeWindowFailure(error: unknown): boolean {
  return (
    error instanceof errors.JWTExpired ||
    (error instanceof errors.JWTClaimValidationFailed &&
      error.claim === 'nbf' &&
      error.reason === 'check_failed')
  );
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return error.reason === 'missing' ? 'missing iss claim' : 'wrong issuer';
      case 'aud':
        return error.reason === 'missing' ? 'missing aud claim' : 'wrong audience';
      case 'nbf':
        return error.reason === 'check_failed' ? 'token not yet valid' : 'invalid nbf claim';
      case 'exp':
        return error.reason === 'missing' ? 'missing exp claim' : 'invalid exp claim';
      case 'sub':
        return error.reason === 'missing' ? 'missing or empty sub claim' : 'invalid sub claim';
      case 'iat':
        return 'invalid iat claim';
      default:
        return `invalid ${error.claim} claim`;
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return 'signature verification failed';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JOSENotSupported) return 'unsupported token feature';
  if (error instanceof errors.JWTInvalid) return 'malformed token payload';
  if (error instanceof errors.JWSInvalid) return 'malformed token';
  // Anything else (e.g. a JWKS key too weak for its algorithm) is still the token's failure.
  return 'token could not be verified';
}

interface AccessTokenGrant {
  clientId: string;
  scopes: string[];
}

/**
 * The claims that make an access token usable (RFC 9068 §2.2): the client it was issued to and
 * the scopes it carries. `scope` must be the space-separated string the standard defines; an
 * array or any other shape is refused rather than guessed at, so no spelling of the claim can
 * widen what a token may do.
 */
function accessTokenGrant(payload: JWTPayload): AccessTokenGrant {
  const clientId = [payload.azp, payload.client_id].find(
    (value): value is string => typeof value === 'string' && value !== '',
  );
  if (clientId === undefined) throw new InvalidTokenException('missing azp or client_id claim');
  // Better Auth's client-credentials tokens carry the client id as `sub`: they act for no user,
  // and every route here serves a user's own data, so taking the client for a user is refused.
  if (payload.sub === clientId || payload.sub === payload.client_id) {
    throw new InvalidTokenException('client credentials tokens (no user) are not accepted');
  }
  if (typeof payload.scope !== 'string') throw new InvalidTokenException('invalid scope claim');
  return { clientId, scopes: payload.scope.split(' ').filter((scope) => scope !== '') };
}

/** A comma-separated claim (Better Auth's role lists) as its trimmed, non-empty items. */
function commaList(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function activeOrganization(payload: JWTPayload): ActiveOrganization | null {
  const id = payload.activeOrganizationId;
  if (typeof id !== 'string' || id === '') return null;
  return Object.freeze({ id, roles: Object.freeze(commaList(payload.organizationRole)) });
}

function toAuthenticatedUser(
  payload: JWTPayload,
  grant: AccessTokenGrant | null,
): AuthenticatedUser {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return Object.freeze({
    id: payload.sub as string,
    email: text(payload.email),
    name: text(payload.name),
    emailVerified: typeof payload.emailVerified === 'boolean' ? payload.emailVerified : null,
    image: text(payload.image),
    tokenKind: grant ? 'access' : 'session',
    scopes: Object.freeze(grant?.scopes ?? []),
    clientId: grant?.clientId ?? null,
    roles: Object.freeze(commaList(payload.role)),
    organization: activeOrganization(payload),
    claims: Object.freeze({ ...payload }),
  });
}
