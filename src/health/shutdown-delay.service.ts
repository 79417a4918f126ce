import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfigService } from '../config/app-config.service';

/**
 * The first step of a shutdown, before the HTTP drain: from SIGTERM on, readiness answers 503
 * for SHUTDOWN_DELAY_SECONDS while every request (new connections too) is still served, so that
 * a load balancer or Kubernetes takes the instance out of rotation before it stops listening.
 * Nest runs this hook after the signal and before it closes the HTTP server; the pool and the
 * embedded database are closed later still.
 */
@Injectable()
export class ShutdownDelayService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ShutdownDelayService.name);
  private shuttingDown = false;

  constructor(private readonly config: AppConfigService) {}

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.shuttingDown = true;
    const delaySeconds = this.config.http.shutdownDelaySeconds;
    // Only an orchestrator's SIGTERM waits: Ctrl+C (SIGINT) and a programmatic close() stop at once.
    if (signal !== 'SIGTERM' || delaySeconds === 0) return;
    this.logger.log(
      `Shutdown: readiness answers 503 for ${delaySeconds} s while requests are still served`,
    );
    await sleep(delaySeconds * 1000);
    this.logger.log('Shutdown: delay over; draining');
  }
}
