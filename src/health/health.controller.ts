import { Controller, Get, HttpStatus } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../auth/decorators/public.decorator';
import { ApiProblemResponse } from '../common/api-problem-response.decorator';
import {
  DEFAULT_RETRY_AFTER_SECONDS,
  RetryableUnavailableException,
} from '../common/common.errors';
import { problemExample } from '../common/problem-example';
import { LivenessDto, ReadinessDto } from './health.dto';
import { HealthService } from './health.service';
import { ShutdownDelayService } from './shutdown-delay.service';

const SHUTTING_DOWN_DETAIL = 'Not ready: this instance is shutting down; use another one.';

@ApiTags('health')
@Public()
// Load balancers and orchestrators probe these constantly; a probe must never get 429.
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly shutdown: ShutdownDelayService,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'getLiveness',
    summary: 'Liveness: the process answers. Touches no dependency.',
  })
  @ApiOkResponse({ type: LivenessDto, description: 'The process is up.' })
  live(): LivenessDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Readiness: the database answers and a JWKS key set is loaded (503 from SIGTERM on).',
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready to serve requests.' })
  @ApiProblemResponse(HttpStatus.SERVICE_UNAVAILABLE, {
    description: 'A dependency is down, or the instance is shutting down; retry after Retry-After.',
    headers: {
      'Retry-After': {
        description: 'Seconds to wait.',
        schema: { type: 'integer', example: DEFAULT_RETRY_AFTER_SECONDS },
      },
    },
    examples: {
      notReady: problemExample(
        'The database is down',
        new RetryableUnavailableException(notReadyDetail(['database'])),
        '/api/health/ready',
      ),
      shuttingDown: problemExample(
        'The instance is shutting down',
        new RetryableUnavailableException(SHUTTING_DOWN_DETAIL),
        '/api/health/ready',
      ),
    },
  })
  async ready(): Promise<ReadinessDto> {
    // Checked first: a load balancer must stop routing here even though every dependency is up.
    if (this.shutdown.isShuttingDown) {
      throw new RetryableUnavailableException(SHUTTING_DOWN_DETAIL);
    }
    const checks = await this.health.readiness();
    const down = Object.entries(checks).filter(([, state]) => state === 'down');
    if (down.length > 0) {
      throw new RetryableUnavailableException(notReadyDetail(down.map(([name]) => name)));
    }
    return { status: 'ok', checks };
  }
}

function notReadyDetail(down: string[]): string {
  return `Not ready: ${down.join(' and ')} unavailable.`;
}
