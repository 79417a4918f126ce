import { Controller, Get, HttpStatus } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../auth/decorators/public.decorator';
import { ApiProblemResponse } from '../common/api-problem-response.decorator';
import { RetryableUnavailableException } from '../common/common.errors';
import { LivenessDto, ReadinessDto } from './health.dto';
import { HealthService } from './health.service';
import { ShutdownDelayService } from './shutdown-delay.service';

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
  @ApiOperation({ summary: 'Liveness: the process answers. Touches no dependency.' })
  @ApiOkResponse({ type: LivenessDto })
  live(): LivenessDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({
    summary:
      'Readiness: the database answers and a JWKS key set is loaded; 503 from SIGTERM on, while the instance still serves requests.',
  })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiProblemResponse(
    HttpStatus.SERVICE_UNAVAILABLE,
    'A dependency is down, or the instance is shutting down; retry after Retry-After.',
    { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } } },
  )
  async ready(): Promise<ReadinessDto> {
    // Checked first: a load balancer must stop routing here even though every dependency is up.
    if (this.shutdown.isShuttingDown) {
      throw new RetryableUnavailableException(
        'Not ready: this instance is shutting down; use another one.',
      );
    }
    const checks = await this.health.readiness();
    const down = Object.entries(checks).filter(([, state]) => state === 'down');
    if (down.length > 0) {
      throw new RetryableUnavailableException(
        `Not ready: ${down.map(([name]) => name).join(' and ')} unavailable.`,
      );
    }
    return { status: 'ok', checks };
  }
}
