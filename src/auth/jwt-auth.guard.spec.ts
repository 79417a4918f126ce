import { Controller, ExecutionContext, Get, HttpException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { ThrottlerException } from '@nestjs/throttler';
import { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfigService } from '../config/app-config.service';
import { MetricsService } from '../metrics/metrics.service';
import { FailedAuthLimiter } from '../rate-limit/failed-auth-limiter';
import { AuthRefusalLog } from './auth-refusal-log';
import {
  InvalidTokenException,
  KeysUnavailableException,
  MissingTokenException,
  TokenOutsideTimeWindowException,
} from './auth.errors';
import { AuthMetrics } from './auth.metrics';
import { AuthenticatedUser } from './authenticated-user';
import { sessionUser } from './authenticated-user.fixture';
import { OptionalAuth } from './decorators/optional-auth.decorator';
import { Public } from './decorators/public.decorator';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JwtStrategy } from './jwt.strategy';
import { TokenVerifier } from './token-verifier.service';

const ALICE = sessionUser({ email: 'alice@example.com', name: 'Alice', emailVerified: true });

@Controller()
class ProtectedController {
  @Get()
  handler(): void {}
}

@Controller()
class MixedController {
  @Public()
  @Get('public')
  open(): void {}

  @OptionalAuth()
  @Get('optional')
  optional(): void {}

  @Get('protected')
  protectedRoute(): void {}
}

@Public()
@Controller()
class PublicController {
  @Get()
  handler(): void {}
}

type TestRequest = FastifyRequest & { user?: AuthenticatedUser };

function fakeReply(): FastifyReply {
  const reply = { header: jest.fn() };
  reply.header.mockReturnValue(reply);
  return reply as unknown as FastifyReply;
}

function fakeRequest(authorization?: string): TestRequest {
  const rawHeaders = authorization === undefined ? [] : ['Authorization', authorization];
  return {
    headers: authorization === undefined ? {} : { authorization },
    raw: { rawHeaders },
    log: { warn: jest.fn() },
  } as unknown as TestRequest;
}

function contextFor(
  controller: new () => object,
  method: string,
  request: TestRequest,
  reply: FastifyReply = fakeReply(),
): ExecutionContext {
  const handler = (controller.prototype as Record<string, () => void>)[method];
  return new ExecutionContextHost([request, reply], controller, handler);
}

describe('JwtAuthGuard', () => {
  // The real guard and the real Passport strategy; only the token check (TokenVerifier) and the
  // failure counter are stubbed, since those are what they call.
  const verify = jest.fn<Promise<AuthenticatedUser>, [string]>();
  const recordFailure = jest.fn<Promise<ThrottlerException | undefined>, unknown[]>();
  let guard: JwtAuthGuard;
  let refusalLog: AuthRefusalLog;
  let metrics: MetricsService;

  beforeAll(() => {
    const config = {
      auth: { refusalLogLinesPerSecond: 1000 },
      metrics: { port: 0 },
    } as unknown as AppConfigService;
    refusalLog = new AuthRefusalLog(config);
    metrics = new MetricsService(config);
    guard = new JwtAuthGuard(
      new Reflector(),
      { recordFailure } as unknown as FailedAuthLimiter,
      refusalLog,
      new AuthMetrics(metrics),
      new JwtStrategy({ verify } as unknown as TokenVerifier),
    );
  });

  afterAll(() => refusalLog.onModuleDestroy());

  async function refusalCounts(): Promise<Record<string, number>> {
    const [counter] = (await metrics.registry.getMetricsAsJSON()).filter(
      (metric) => metric.name === 'todo_api_auth_refusals_total',
    );
    return Object.fromEntries(
      counter.values.map(({ labels, value }): [string, number] => [String(labels.reason), value]),
    );
  }

  beforeEach(() => {
    verify.mockReset();
    recordFailure.mockReset().mockResolvedValue(undefined);
    verify.mockImplementation((token) =>
      token === 'good-token'
        ? Promise.resolve(ALICE)
        : Promise.reject(new InvalidTokenException('bad signature')),
    );
  });

  async function refusal(context: ExecutionContext): Promise<unknown> {
    try {
      await guard.canActivate(context);
    } catch (error) {
      return error;
    }
    throw new Error('expected the guard to refuse the request');
  }

  describe('@Public()', () => {
    it('lets a request without a token through and never consults the verifier', async () => {
      const request = fakeRequest();
      await expect(guard.canActivate(contextFor(MixedController, 'open', request))).resolves.toBe(
        true,
      );
      expect(request.user).toBeUndefined();
      expect(verify).not.toHaveBeenCalled();
    });

    it('leaves caching to the route (no Cache-Control from the guard)', async () => {
      const reply = fakeReply();
      await guard.canActivate(contextFor(MixedController, 'open', fakeRequest(), reply));
      expect(reply.header).not.toHaveBeenCalled();
    });

    it('ignores even a bad token (a public route does not read it)', async () => {
      const request = fakeRequest('Bearer garbage');
      await expect(guard.canActivate(contextFor(MixedController, 'open', request))).resolves.toBe(
        true,
      );
      expect(verify).not.toHaveBeenCalled();
    });

    it('opens every route of a @Public() controller', async () => {
      await expect(
        guard.canActivate(contextFor(PublicController, 'handler', fakeRequest())),
      ).resolves.toBe(true);
    });
  });

  describe('@OptionalAuth()', () => {
    it('passes without an Authorization header, with no user', async () => {
      const request = fakeRequest();
      await expect(
        guard.canActivate(contextFor(MixedController, 'optional', request)),
      ).resolves.toBe(true);
      expect(request.user).toBeUndefined();
      expect(verify).not.toHaveBeenCalled();
    });

    it('authenticates when a valid token is sent', async () => {
      const request = fakeRequest('Bearer good-token');
      await expect(
        guard.canActivate(contextFor(MixedController, 'optional', request)),
      ).resolves.toBe(true);
      expect(request.user).toEqual(ALICE);
      expect(verify).toHaveBeenCalledWith('good-token');
    });

    it('refuses a bad token with 401 instead of treating the caller as anonymous', async () => {
      const request = fakeRequest('Bearer forged');
      const error = await refusal(contextFor(MixedController, 'optional', request));
      expect(error).toBeInstanceOf(InvalidTokenException);
      expect(request.user).toBeUndefined();
      expect(recordFailure).toHaveBeenCalledTimes(1);
    });

    it('refuses an empty Authorization header (it is present, so it must be valid)', async () => {
      const error = await refusal(contextFor(MixedController, 'optional', fakeRequest('')));
      expect(error).toBeInstanceOf(InvalidTokenException);
    });
  });

  describe('protected routes (no decorator)', () => {
    it.each([
      ['a valid token', 'Bearer good-token'],
      ['a bad token', 'Bearer forged'],
      ['no token', undefined],
    ])('marks the answer no-store with %s, before authenticating', async (_case, header) => {
      const reply = fakeReply();
      await guard
        .canActivate(contextFor(ProtectedController, 'handler', fakeRequest(header), reply))
        .catch(() => undefined);
      expect(reply.header).toHaveBeenCalledWith('cache-control', 'no-store');
    });

    it('marks an @OptionalAuth() answer no-store too (it may hold the user)', async () => {
      const reply = fakeReply();
      await guard.canActivate(contextFor(MixedController, 'optional', fakeRequest(), reply));
      expect(reply.header).toHaveBeenCalledWith('cache-control', 'no-store');
    });

    it('refuses a request without a token with 401 and the plain challenge', async () => {
      const request = fakeRequest();
      const error = await refusal(contextFor(ProtectedController, 'handler', request));
      expect(error).toBeInstanceOf(MissingTokenException);
      expect((error as MissingTokenException).challenge).toBe('Bearer realm="api"');
      expect(verify).not.toHaveBeenCalled();
      expect(request.log.warn).toHaveBeenCalledWith(
        { reason: 'no bearer token', status: 401 },
        'authentication refused',
      );
    });

    it('authenticates a valid token and puts the user on the request', async () => {
      const request = fakeRequest('Bearer good-token');
      await expect(
        guard.canActivate(contextFor(MixedController, 'protectedRoute', request)),
      ).resolves.toBe(true);
      expect(request.user).toEqual(ALICE);
      expect(recordFailure).not.toHaveBeenCalled();
    });

    it('refuses a bad token with 401, logs the reason once and counts the failure', async () => {
      const request = fakeRequest('Bearer forged');
      const error = await refusal(contextFor(ProtectedController, 'handler', request));
      expect(error).toBeInstanceOf(InvalidTokenException);
      expect(request.log.warn).toHaveBeenCalledTimes(1);
      expect(request.log.warn).toHaveBeenCalledWith(
        { reason: 'bad signature', status: 401 },
        'authentication refused',
      );
      expect(JSON.stringify(jest.mocked(request.log.warn).mock.calls)).not.toContain('forged');
      expect(recordFailure).toHaveBeenCalledTimes(1);
    });

    it('counts each refusal once in the refusal metric, by reason', async () => {
      const before = await refusalCounts();
      await refusal(contextFor(ProtectedController, 'handler', fakeRequest('Bearer forged')));
      await refusal(contextFor(ProtectedController, 'handler', fakeRequest()));
      await refusal(contextFor(ProtectedController, 'handler', fakeRequest()));
      const after = await refusalCounts();
      expect((after.bad_signature ?? 0) - (before.bad_signature ?? 0)).toBe(1);
      expect((after.no_bearer_token ?? 0) - (before.no_bearer_token ?? 0)).toBe(2);
    });

    it('never counts a request without a token, nor answers it 429', async () => {
      recordFailure.mockResolvedValue(new ThrottlerException());
      const error = await refusal(contextFor(ProtectedController, 'handler', fakeRequest()));
      expect(error).toBeInstanceOf(MissingTokenException);
      expect(recordFailure).not.toHaveBeenCalled();
    });

    it.each(['token expired', 'token not yet valid', 'token issued in the future'])(
      'never counts a genuine token refused as "%s", nor answers it 429',
      async (reason) => {
        recordFailure.mockResolvedValue(new ThrottlerException());
        const outside = new TokenOutsideTimeWindowException(reason);
        verify.mockRejectedValue(outside);
        const error = await refusal(
          contextFor(ProtectedController, 'handler', fakeRequest('Bearer expired')),
        );
        expect(error).toBe(outside);
        expect(recordFailure).not.toHaveBeenCalled();
      },
    );

    it('answers 429 instead of 401 once the address is over its failure budget', async () => {
      const tooMany = new ThrottlerException();
      recordFailure.mockResolvedValue(tooMany);
      const error = await refusal(
        contextFor(ProtectedController, 'handler', fakeRequest('Bearer x')),
      );
      expect(error).toBe(tooMany);
    });

    it('passes a 503 (keys unobtainable) through without counting it against the client', async () => {
      verify.mockRejectedValue(new KeysUnavailableException());
      const error = await refusal(
        contextFor(ProtectedController, 'handler', fakeRequest('Bearer good-token')),
      );
      expect(error).toBeInstanceOf(KeysUnavailableException);
      expect((error as HttpException).getStatus()).toBe(503);
      expect(recordFailure).not.toHaveBeenCalled();
    });

    it('does not let a token in the query string or a cookie stand in for the header', async () => {
      const request = fakeRequest();
      Object.assign(request, {
        query: { access_token: 'good-token' },
        headers: { cookie: 'token=good-token' },
      });
      const error = await refusal(contextFor(ProtectedController, 'handler', request));
      expect(error).toBeInstanceOf(MissingTokenException);
      expect(verify).not.toHaveBeenCalled();
    });
  });
});
