import { randomUUID } from 'node:crypto';
import { claims, JwksServer, TestSigningKey } from './jwks-server';
import { startTestApp, TestApp } from './test-app';

/**
 * The app against a JwksServer, for the suites that make the key server fail or change its
 * keys: the issuer and audience the tokens carry, the app's environment, fresh tokens, and a
 * key server shared by a describe block with a new app per test.
 */
export const JWKS_ISSUER = 'https://issuer.example.test';
export const JWKS_AUDIENCE = 'https://api.example.test';

/** The app's environment for EdDSA tokens from `server`'s keys; `extra` adds or overrides. */
export function jwksAppEnv(
  server: JwksServer,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    BETTER_AUTH_URL: JWKS_ISSUER,
    JWT_AUDIENCE: JWKS_AUDIENCE,
    JWKS_URL: server.url,
    JWT_ALGORITHMS: 'EdDSA',
    ...extra,
  };
}

/** A token nobody has sent yet (so the verified-token cache cannot answer for it). */
export function freshToken(
  key: TestSigningKey,
  header: Record<string, unknown> = {},
  signAs?: string,
): string {
  return key.sign(claims(JWKS_ISSUER, JWKS_AUDIENCE, `user-${randomUUID()}`), header, signAs);
}

/** The `sub` claim of a token (read, not verified). */
export function subOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { sub: string })
    .sub;
}

/**
 * One key server for a describe block and a new app against it in each test. The block's hooks
 * call `open` (beforeAll), `closeApp` (afterEach: the app goes, the key server answers normally
 * again) and `close` (afterAll).
 */
export class JwksAppPerTest {
  private started: JwksServer | undefined;
  private api: TestApp | undefined;

  /** `env` is on top of jwksAppEnv for every app of the block. */
  constructor(private readonly env: Record<string, string> = {}) {}

  get server(): JwksServer {
    if (!this.started) throw new Error('open() the key server first');
    return this.started;
  }

  async open(): Promise<void> {
    this.started = await JwksServer.start();
  }

  /** Starts this test's app; `extra` on top of the block's environment. */
  async startApp(extra: Record<string, string> = {}): Promise<TestApp> {
    this.api = await startTestApp(jwksAppEnv(this.server, { ...this.env, ...extra }));
    return this.api;
  }

  async closeApp(): Promise<void> {
    await this.api?.close();
    this.api = undefined;
    this.started?.behave({ kind: 'ok' });
  }

  async close(): Promise<void> {
    await this.closeApp();
    await this.started?.close();
  }
}
