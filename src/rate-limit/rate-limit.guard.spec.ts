import { Controller, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { SkipThrottle, Throttle, ThrottlerException, ThrottlerStorage } from '@nestjs/throttler';
import { AppConfigService } from '../config/app-config.service';
import { MetricsService } from '../metrics/metrics.service';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitMetrics } from './rate-limit.metrics';

@Controller()
class RoutesController {
  @Get('plain')
  plain(): void {}

  @SkipThrottle()
  @Get('skipped')
  skipped(): void {}

  @Throttle({ default: { limit: 1, ttl: 1000 } })
  @Get('custom')
  custom(): void {}
}

const config = {
  throttle: { ttlSeconds: 60, userLimit: 5, anonymousLimit: 2, ipv6Prefix: 64 },
  http: { trustProxy: 0 },
} as unknown as AppConfigService;

function setUp(
  record = { totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 },
) {
  const increment = jest.fn().mockResolvedValue(record);
  const storage = { increment } as unknown as ThrottlerStorage;
  const metrics = new MetricsService({ metrics: { port: 0 } } as unknown as AppConfigService);
  const guard = new RateLimitGuard(
    { throttlers: [{ ttl: 60_000, limit: RateLimitGuard.limitFor(config) }] },
    storage,
    new Reflector(),
    config,
    new RateLimitMetrics(metrics),
  );
  return { guard, increment, limitedCounts: () => limitedCounts(metrics) };
}

async function limitedCounts(metrics: MetricsService): Promise<Record<string, number>> {
  const [counter] = (await metrics.registry.getMetricsAsJSON()).filter(
    (metric) => metric.name === 'todo_api_rate_limited_requests_total',
  );
  return Object.fromEntries(
    counter.values.map(({ labels, value }): [string, number] => [String(labels.bucket), value]),
  );
}

function context(handler: keyof RoutesController, user?: { id: string }) {
  const headers: Record<string, string> = {};
  const reply = {
    header: (name: string, value: string) => ((headers[name] = value), reply),
    headers: (values: Record<string, string>) => (Object.assign(headers, values), reply),
  };
  const request = {
    user,
    headers: {},
    raw: { socket: { remoteAddress: '203.0.113.7' } },
  };
  const ctx = new ExecutionContextHost(
    [request, reply],
    RoutesController,
    RoutesController.prototype[handler],
  );
  ctx.setType('http');
  return { ctx, headers };
}

describe('RateLimitGuard', () => {
  it('limits a signed-in user by user id with the user limit, and reports the budget', async () => {
    const { guard, increment } = setUp();
    await guard.onModuleInit();
    const { ctx, headers } = context('plain', { id: 'alice' });

    await expect(guard.canActivate(ctx)).resolves.toBe(true);

    expect(increment).toHaveBeenCalledWith('user:alice', 60_000, 5, 60_000, 'default');
    expect(headers).toEqual({
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '4',
      'x-ratelimit-reset': '60',
    });
  });

  it('limits an anonymous caller by address with the anonymous limit', async () => {
    const { guard, increment } = setUp();
    await guard.onModuleInit();

    await guard.canActivate(context('plain').ctx);

    expect(increment).toHaveBeenCalledWith('ip:203.0.113.7', 60_000, 2, 60_000, 'default');
  });

  it('answers a blocked caller with ThrottlerException and Retry-After, and counts it', async () => {
    const { guard, limitedCounts } = setUp({
      totalHits: 6,
      timeToExpire: 42,
      isBlocked: true,
      timeToBlockExpire: 42,
    });
    await guard.onModuleInit();
    const { ctx, headers } = context('plain', { id: 'alice' });

    await expect(guard.canActivate(ctx)).rejects.toBeInstanceOf(ThrottlerException);
    expect(headers['retry-after']).toBe('42');
    await expect(guard.canActivate(context('plain').ctx)).rejects.toBeInstanceOf(
      ThrottlerException,
    );
    expect(await limitedCounts()).toEqual({ user: 1, anonymous: 1, failed_auth: 0 });
  });

  it('never counts a @SkipThrottle() route', async () => {
    const { guard, increment } = setUp();
    await guard.onModuleInit();

    await expect(guard.canActivate(context('skipped').ctx)).resolves.toBe(true);
    await expect(guard.canActivate(context('skipped').ctx)).resolves.toBe(true);
    expect(increment).not.toHaveBeenCalled();
  });

  it('honours a route @Throttle() override through the standard throttler path', async () => {
    const { guard, increment } = setUp();
    await guard.onModuleInit();

    await guard.canActivate(context('custom', { id: 'alice' }).ctx);

    expect(increment).toHaveBeenCalledWith('user:alice', 1000, 1, 1000, 'default');
  });
});
