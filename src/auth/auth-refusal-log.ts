import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { LogBudget } from '../common/log-budget';
import { AppConfigService } from '../config/app-config.service';

/**
 * Logs each refused authentication once, at warn, with its reason and the request id, never
 * with the token. Under a flood, past LOG_REFUSALS_PER_SECOND lines per second and reason, the
 * rest are counted instead, and one summary line per second and reason says how many were left
 * out: whoever sends garbage tokens must not choose the log volume.
 */
@Injectable()
export class AuthRefusalLog implements OnModuleDestroy {
  private readonly logger = new Logger('AuthRefusals');
  private readonly budget: LogBudget;
  private readonly timer: NodeJS.Timeout;

  constructor(config: AppConfigService) {
    this.budget = new LogBudget(config.auth.refusalLogLinesPerSecond);
    this.timer = setInterval(() => this.summarise(false), 1000);
    this.timer.unref();
  }

  refused(request: FastifyRequest, reason: string, status: number): void {
    if (this.budget.allow(reason)) {
      request.log.warn({ reason, status }, 'authentication refused');
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.summarise(true);
  }

  private summarise(includeCurrent: boolean): void {
    for (const { reason, suppressed, second } of this.budget.takeSuppressed(includeCurrent)) {
      this.logger.warn({
        msg: 'authentication refusals not logged',
        reason,
        suppressed,
        second: new Date(second).toISOString(),
      });
    }
  }
}
