import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerException,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
// The metadata keys of @SkipThrottle() and @Throttle(); the package's index does not re-export them.
import {
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TTL,
} from '@nestjs/throttler/dist/throttler.constants';
import { FastifyReply } from 'fastify';
import { RequestWithUser } from '../auth/authenticated-user';
import { PerRoute } from '../common/per-route';
import { AppConfigService } from '../config/app-config.service';
import { clientIp } from './client-ip';
import { RateLimitMetrics } from './rate-limit.metrics';

/** The one throttler this app configures (ThrottlerModule's default name). */
const THROTTLER_NAME = 'default';

/** How a route is throttled, read from its metadata once rather than on every request. */
type RouteMode = 'skip' | 'standard' | 'custom';

/** Bucket keys: a signed-in user, a client address, a client address's failed authentications. */
export const rateLimitKey = {
  user: (userId: string) => `user:${userId}`,
  ip: (ip: string) => `ip:${ip}`,
  /** Failed authentications by address: apart from the address's anonymous requests. */
  failedAuth: (ip: string) => `auth-failures:${ip}`,
};

/**
 * Runs after authentication (it is registered after the JWT guard): a signed-in user is limited
 * per user id, wherever they connect from; anonymous callers per client address. One bucket
 * per caller across all routes, so spreading requests over routes does not multiply the limit.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly routeModes = new PerRoute<RouteMode>((context) => {
    const targets = [context.getHandler(), context.getClass()];
    const has = (key: string) =>
      this.reflector.getAllAndOverride<unknown>(key + THROTTLER_NAME, targets) !== undefined;
    if (this.reflector.getAllAndOverride<boolean>(THROTTLER_SKIP + THROTTLER_NAME, targets)) {
      return 'skip';
    }
    return has(THROTTLER_LIMIT) || has(THROTTLER_TTL) ? 'custom' : 'standard';
  });

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly config: AppConfigService,
    private readonly metrics: RateLimitMetrics,
  ) {
    super(options, storage, reflector);
  }

  /**
   * The standard case (no @Throttle() override on the route) is handled here directly: the
   * base class resolves six metadata lookups and several promises per request, a large share of
   * what authentication adds to a request in `npm run bench`. Routes with @Throttle() overrides
   * still go through the base class.
   */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const mode = this.routeModes.get(context);
    if (mode === 'skip') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<RequestWithUser>();
    if (mode === 'custom') {
      try {
        return await super.canActivate(context);
      } catch (error) {
        if (error instanceof ThrottlerException) {
          this.metrics.limitedBy(request.user ? 'user' : 'anonymous');
        }
        throw error;
      }
    }

    const reply = http.getResponse<FastifyReply>();
    const { ttlSeconds, userLimit, anonymousLimit } = this.config.throttle;
    const limit = request.user ? userLimit : anonymousLimit;
    const ttl = ttlSeconds * 1000;
    const key = this.trackerOf(request);
    const record = await this.storageService.increment(key, ttl, limit, ttl, THROTTLER_NAME);
    if (record.isBlocked) {
      void reply.header('retry-after', String(record.timeToBlockExpire));
      this.metrics.limitedBy(request.user ? 'user' : 'anonymous');
      throw new ThrottlerException();
    }
    void reply.headers({
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - record.totalHits)),
      'x-ratelimit-reset': String(record.timeToExpire),
    });
    return true;
  }

  static limitFor(config: AppConfigService) {
    return (context: ExecutionContext): number =>
      context.switchToHttp().getRequest<RequestWithUser>().user
        ? config.throttle.userLimit
        : config.throttle.anonymousLimit;
  }

  protected override getTracker(request: Record<string, unknown>): Promise<string> {
    return Promise.resolve(this.trackerOf(request as unknown as RequestWithUser));
  }

  private trackerOf(request: RequestWithUser): string {
    return request.user
      ? rateLimitKey.user(request.user.id)
      : rateLimitKey.ip(clientIp(request, this.config.throttle.ipv6Prefix));
  }

  protected override generateKey(_context: ExecutionContext, tracker: string): string {
    return tracker;
  }
}
