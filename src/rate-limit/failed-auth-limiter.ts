import { Inject, Injectable } from '@nestjs/common';
import { ThrottlerException, ThrottlerStorage } from '@nestjs/throttler';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfigService } from '../config/app-config.service';
import { clientIp } from './client-ip';
import { rateLimitKey } from './rate-limit.guard';
import { RateLimitMetrics } from './rate-limit.metrics';

/**
 * Counts failed authentications per client address, in a bucket of their own (a flood of
 * garbage tokens does not use up the address's budget for anonymous requests). The JWT guard
 * calls it for garbage and forged tokens only, before any database work, so a client guessing
 * or replaying tokens is slowed down by address; a valid token, a request without one and a
 * genuine token outside its time window are never refused for what others behind the same
 * address sent.
 */
@Injectable()
export class FailedAuthLimiter {
  constructor(
    @Inject(ThrottlerStorage) private readonly storage: ThrottlerStorage,
    private readonly config: AppConfigService,
    private readonly metrics: RateLimitMetrics,
  ) {}

  /** Records the failure; returns a 429 to throw instead of the 401 once the address is over. */
  async recordFailure(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<ThrottlerException | undefined> {
    const { ttlSeconds, anonymousLimit } = this.config.throttle;
    const ttl = ttlSeconds * 1000;
    const key = rateLimitKey.failedAuth(clientIp(request, this.config.throttle.ipv6Prefix));
    const record = await this.storage.increment(key, ttl, anonymousLimit, ttl, 'default');
    if (!record.isBlocked) return undefined;
    void reply.header('retry-after', String(record.timeToBlockExpire));
    this.metrics.limitedBy('failed_auth');
    return new ThrottlerException();
  }
}
