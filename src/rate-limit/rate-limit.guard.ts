import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { FastifyRequest } from 'fastify';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { AppConfigService } from '../config/app-config.service';
import { clientIp } from './client-ip';

type RequestWithUser = FastifyRequest & { user?: AuthenticatedUser };

/** Bucket key for a signed-in user, or for a client address. */
export const rateLimitKey = {
  user: (userId: string) => `user:${userId}`,
  ip: (ip: string) => `ip:${ip}`,
};

/**
 * Runs after authentication (it is registered after the JWT guard): a signed-in user is limited
 * per user id, wherever they connect from; anonymous callers per client address. One bucket
 * per caller across all routes, so spreading requests over routes does not multiply the limit.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly config: AppConfigService,
  ) {
    super(options, storage, reflector);
  }

  static limitFor(config: AppConfigService) {
    return (context: ExecutionContext): number =>
      context.switchToHttp().getRequest<RequestWithUser>().user
        ? config.throttle.userLimit
        : config.throttle.anonymousLimit;
  }

  protected override getTracker(request: Record<string, unknown>): Promise<string> {
    const typed = request as unknown as RequestWithUser;
    return Promise.resolve(
      typed.user
        ? rateLimitKey.user(typed.user.id)
        : rateLimitKey.ip(clientIp(typed, this.config.http.trustProxyHops)),
    );
  }

  protected override generateKey(_context: ExecutionContext, tracker: string): string {
    return tracker;
  }
}
