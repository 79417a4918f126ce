import { CanActivate, ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { FastifyReply, FastifyRequest } from 'fastify';
import { PerRoute } from '../common/per-route';
import { FailedAuthLimiter } from '../rate-limit/failed-auth-limiter';
import { AuthRefusalLog } from './auth-refusal-log';
import { MissingTokenException, TokenOutsideTimeWindowException } from './auth.errors';
import { AuthMetrics } from './auth.metrics';
import { AuthenticatedUser, RequestWithUser } from './authenticated-user';
import { hasAuthorizationHeader } from './bearer-token';
import { IS_OPTIONAL_AUTH_KEY } from './decorators/optional-auth.decorator';
import { IS_PUBLIC_KEY } from './decorators/public.decorator';
import { JwtStrategy } from './jwt.strategy';

/** Whether a route needs a token: @Public() never, @OptionalAuth() when one is sent. */
type RouteMode = 'public' | 'optional' | 'required';

/**
 * One run of a Passport strategy: the strategy's `authenticate` reports through the actions
 * Passport puts on a per-request instance of it (passport-strategy's contract).
 */
interface StrategyRun {
  authenticate(request: FastifyRequest, options: object): void;
  success(user: AuthenticatedUser): void;
  fail(): void;
  error(error: unknown): void;
  pass(): void;
  redirect(): void;
}

/** Bearer tokens only: no session is read or written. */
const PASSPORT_OPTIONS = Object.freeze({ session: false });

/**
 * The global guard (registered as APP_GUARD): deny by default, so a route added tomorrow is
 * protected without anyone remembering to protect it. Only @Public() opens a route. The token is
 * checked by the Passport strategy JwtStrategy (registered with Passport by @nestjs/passport).
 *
 * Every answer of a route that is not @Public() carries `Cache-Control: no-store`, errors
 * included, set here so a new protected route gets it without anyone remembering to.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly routeModes = new PerRoute<RouteMode>((context) => {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return 'public';
    if (this.reflector.getAllAndOverride<boolean>(IS_OPTIONAL_AUTH_KEY, targets)) return 'optional';
    return 'required';
  });

  constructor(
    private readonly reflector: Reflector,
    private readonly failedAuthLimiter: FailedAuthLimiter,
    private readonly refusalLog: AuthRefusalLog,
    private readonly metrics: AuthMetrics,
    private readonly strategy: JwtStrategy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const mode = this.routeModes.get(context);
    if (mode === 'public') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<RequestWithUser>();
    const reply = http.getResponse<FastifyReply>();
    // The answer is one user's data: neither a shared cache nor the browser's may keep it.
    void reply.header('cache-control', 'no-store');
    if (mode === 'optional' && !hasAuthorizationHeader(request)) return true;
    let user: AuthenticatedUser | undefined;
    let failure: unknown;
    try {
      user = await this.runStrategy(request);
    } catch (error) {
      failure = error;
    }
    if (user) {
      request.user = user;
      return true;
    }
    const refusal = this.refused(request, failure);
    // Garbage and forged tokens count against the client address (memory only: no database, no
    // JWKS), and an address over its limit gets 429 instead of yet another 401. 503s are our
    // fault, not its.
    if (countsAsFailedAttempt(refusal)) {
      throw (await this.failedAuthLimiter.recordFailure(request, reply)) ?? refusal;
    }
    throw refusal;
  }

  /**
   * Runs the strategy as passport.authenticate() runs a single one: a per-request instance with
   * the success, fail and error actions. The rest of passport.authenticate() is left out: its
   * session helpers set on every request (req.login, req.logout, …; there is no session here)
   * and its options merged per call. Measured by `npm run bench`, authenticating through
   * passport.authenticate() made authenticated load promote its garbage to the old generation,
   * so the heap grew to about 1.7 × that of unauthenticated load, with more CPU per request.
   */
  private runStrategy(request: FastifyRequest): Promise<AuthenticatedUser | undefined> {
    return new Promise((resolve, reject) => {
      const run = Object.create(this.strategy) as StrategyRun;
      run.success = resolve;
      run.error = reject;
      run.fail = run.pass = run.redirect = () => resolve(undefined);
      run.authenticate(request, PASSPORT_OPTIONS);
    });
  }

  /** Logs each refusal once (within the refusal log's budget), never with the token. */
  private refused(request: FastifyRequest, error: unknown): Error {
    const reason = (error as { reason?: string } | undefined)?.reason ?? 'authentication failed';
    this.refusalLog.refused(request, reason, statusOf(error));
    this.metrics.refused(reason);
    return error instanceof Error ? error : new MissingTokenException();
  }
}

/**
 * Behind a shared proxy or NAT one attacker's garbage puts everybody's address over the limit;
 * a request without a token and a genuine token outside its time window must still get their
 * 401 then, or honest clients never learn to sign in or refresh. Neither proves an attack.
 */
function countsAsFailedAttempt(error: unknown): boolean {
  return (
    error instanceof HttpException &&
    error.getStatus() === 401 &&
    !(error instanceof MissingTokenException) &&
    !(error instanceof TokenOutsideTimeWindowException)
  );
}

function statusOf(error: unknown): number {
  return error instanceof HttpException ? error.getStatus() : 401;
}
