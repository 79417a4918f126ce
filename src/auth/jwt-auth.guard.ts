import { ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { FastifyReply, FastifyRequest } from 'fastify';
import { PerRoute } from '../common/per-route';
import { FailedAuthLimiter } from '../rate-limit/failed-auth-limiter';
import { AuthRefusalLog } from './auth-refusal-log';
import { MissingTokenException, TokenOutsideTimeWindowException } from './auth.errors';
import { AuthMetrics } from './auth.metrics';
import { AuthenticatedUser } from './authenticated-user';
import { hasAuthorizationHeader } from './bearer-token';
import { IS_OPTIONAL_AUTH_KEY } from './decorators/optional-auth.decorator';
import { IS_PUBLIC_KEY } from './decorators/public.decorator';
import { JWT_STRATEGY } from './jwt.strategy';

/** Whether a route needs a token: @Public() never, @OptionalAuth() when one is sent. */
type RouteMode = 'public' | 'optional' | 'required';

/**
 * The global guard (registered as APP_GUARD): deny by default, so a route added tomorrow is
 * protected without anyone remembering to protect it. Only @Public() opens a route.
 *
 * Every answer of a route that is not @Public() carries `Cache-Control: no-store`, errors
 * included, set here so a new protected route gets it without anyone remembering to.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
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
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const mode = this.routeModes.get(context);
    if (mode === 'public') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    // The answer is one user's data: neither a shared cache nor the browser's may keep it.
    void http.getResponse<FastifyReply>().header('cache-control', 'no-store');
    if (mode === 'optional' && !hasAuthorizationHeader(request)) return true;
    try {
      return (await super.canActivate(context)) as boolean;
    } catch (error) {
      // Garbage and forged tokens count against the client address (memory only: no database,
      // no JWKS), and an address over its limit gets 429 instead of yet another 401. 503s are our
      // fault, not its.
      if (countsAsFailedAttempt(error)) {
        const reply = context.switchToHttp().getResponse<FastifyReply>();
        throw (await this.failedAuthLimiter.recordFailure(request, reply)) ?? error;
      }
      throw error;
    }
  }

  /** Logs each refusal once (within the refusal log's budget), never with the token. */
  override handleRequest<TUser = AuthenticatedUser>(
    error: unknown,
    user: TUser | false,
    _info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (error || !user) {
      const request = context.switchToHttp().getRequest<FastifyRequest>();
      const reason = (error as { reason?: string } | undefined)?.reason ?? 'authentication failed';
      this.refusalLog.refused(request, reason, statusOf(error));
      this.metrics.refused(reason);
      throw error instanceof Error ? error : new MissingTokenException();
    }
    return user;
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
