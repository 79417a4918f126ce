import { Controller, Get } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../auth/decorators/public.decorator';
import { ProblemDto } from '../common/problem.dto';
import { RetryableUnavailableException } from '../common/retryable-unavailable.exception';
import { LivenessDto, ReadinessDto } from './health.dto';
import { HealthService } from './health.service';

@ApiTags('health')
@Public()
// Load balancers and orchestrators probe these constantly; a probe must never get 429.
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: the process answers. Touches no dependency.' })
  @ApiOkResponse({ type: LivenessDto })
  live(): LivenessDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the database answers and a JWKS key set is loaded.' })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ type: ProblemDto, description: 'A dependency is down.' })
  async ready(): Promise<ReadinessDto> {
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
