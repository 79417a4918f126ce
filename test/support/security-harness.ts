import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { JWK } from 'jose';
import { expectAccepted, expectRefused, tokenSecrets } from './auth-assertions';
import { BetterAuthAlgorithm, BetterAuthIssuer, IssuedUser } from './better-auth-issuer';
import { Reply } from './http';
import { startTestApp, TestApp } from './test-app';
import { testDatabaseUrl } from './test-env';

/**
 * One real Better Auth issuer and one app trusting it, for the attacker-side suites. `refuse`
 * checks the whole refusal contract on GET /api/profile and then proves on POST /api/todos that
 * the same token cannot write: the answer is the same 401 and no row with the request's marker
 * title exists in PostgreSQL.
 */
export class SecurityHarness {
  private constructor(
    readonly issuer: BetterAuthIssuer,
    readonly api: TestApp,
    readonly user: IssuedUser,
    readonly kid: string,
    readonly jwk: JWK,
    private readonly db: Client,
    /** JWKS requests the issuer received since start. */
    private readonly counters: { jwks: number },
  ) {}

  static async start(
    options: {
      alg?: BetterAuthAlgorithm;
      /** App environment on top of the defaults; a function receives the started issuer. */
      env?: Record<string, string> | ((issuer: BetterAuthIssuer) => Record<string, string>);
    } = {},
  ): Promise<SecurityHarness> {
    const counters = { jwks: 0 };
    const issuer = await BetterAuthIssuer.start({
      alg: options.alg,
      onRequest: (request) => {
        if (request.url?.startsWith('/api/auth/jwks')) counters.jwks += 1;
      },
    });
    const user = await issuer.createUser();
    const api = await startTestApp({
      BETTER_AUTH_URL: issuer.url,
      JWT_ALGORITHMS: issuer.alg,
      ...(typeof options.env === 'function' ? options.env(issuer) : options.env),
    });
    const jwk = (await issuer.jwks()).keys[0];
    const db = new Client({ connectionString: testDatabaseUrl() });
    await db.connect();
    return new SecurityHarness(issuer, api, user, jwk.kid as string, jwk, db, counters);
  }

  get jwksFetches(): number {
    return this.counters.jwks;
  }

  async close(): Promise<void> {
    await this.db.end();
    await this.api.close();
    await this.issuer.close();
  }

  /** Claims for the real user, with overrides. */
  claims(extra: Record<string, unknown> = {}) {
    return this.issuer.claimsFor(this.user.id, extra);
  }

  /** Signed with the issuer's real key (header merged over `{alg, kid}`). */
  sign(header: Record<string, unknown>, payload: Record<string, unknown>) {
    return this.issuer.signRaw(header, payload, {});
  }

  profile(token: string): Promise<Reply> {
    return this.api.http.get('/api/profile', { token });
  }

  async accept(token: string, sub = this.user.id): Promise<void> {
    expectAccepted(await this.profile(token), sub);
  }

  /** The exact refusal on GET /api/profile, and on POST /api/todos with nothing written. */
  async refuse(token: string, reason: string): Promise<void> {
    expectRefused(this.api, await this.profile(token), {
      reason,
      secrets: tokenSecrets(token),
    });
    const marker = `forged-${randomUUID()}`;
    const write = await this.postTodo(token, marker);
    expectRefused(this.api, write, {
      reason,
      secrets: tokenSecrets(token),
      path: '/api/todos',
    });
    expect(await this.countTodosTitled(marker)).toBe(0);
  }

  postTodo(token: string, title: string): Promise<Reply> {
    return this.api.http.post('/api/todos', { title }, { token });
  }

  async countTodosTitled(title: string): Promise<number> {
    const result = await this.db.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM todos WHERE title = $1',
      [title],
    );
    return result.rows[0].count;
  }
}
