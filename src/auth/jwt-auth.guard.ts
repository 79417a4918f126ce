import { ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { FastifyRequest } from 'fastify';
import { MissingTokenException } from './auth.errors';
import { AuthenticatedUser } from './authenticated-user';
import { hasAuthorizationHeader } from './bearer-token';
import { IS_OPTIONAL_AUTH_KEY } from './decorators/optional-auth.decorator';
import { IS_PUBLIC_KEY } from './decorators/public.decorator';
import { JWT_STRATEGY } from './jwt.strategy';

/**
 * The global guard (registered as APP_GUARD): deny by default, so a route added tomorrow is
 * protected without anyone remembering to protect it. Only @Public() opens a route.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (
      this.reflector.getAllAndOverride<boolean>(IS_OPTIONAL_AUTH_KEY, targets) &&
      !hasAuthorizationHeader(request)
    ) {
      return true;
    }
    return (await super.canActivate(context)) as boolean;
  }

  /** Logs each refusal once, with its reason and the request id (the token is never logged). */
  override handleRequest<TUser = AuthenticatedUser>(
    error: unknown,
    user: TUser | false,
    _info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (error || !user) {
      const request = context.switchToHttp().getRequest<FastifyRequest>();
      const reason = (error as { reason?: string } | undefined)?.reason ?? 'authentication failed';
      request.log.warn({ reason, status: statusOf(error) }, 'authentication refused');
      throw error instanceof Error ? error : new MissingTokenException();
    }
    return user;
  }
}

function statusOf(error: unknown): number {
  return error instanceof HttpException ? error.getStatus() : 401;
}
