import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { JwksKeyStore } from '../auth/jwks/jwks-key-store';

export interface ReadinessChecks {
  database: 'up' | 'down';
  jwks: 'up' | 'down';
}

/** Bounds the readiness probe so a hung database cannot hang the probe too. */
const DATABASE_PROBE_TIMEOUT_MS = 2000;

/** How long one database check answers for every readiness probe that follows it. */
export const DATABASE_CHECK_CACHE_MS = 1000;

/**
 * Readiness for load balancers and orchestrators. The probe is public, so its database check is
 * shared: one check at a time, its answer reused for DATABASE_CHECK_CACHE_MS, so a flood of
 * probes costs about one query per second instead of one per probe.
 */
@Injectable()
export class HealthService {
  private lastCheck: { up: boolean; at: number } | undefined;
  private checking: Promise<boolean> | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keyStore: JwksKeyStore,
  ) {}

  async readiness(): Promise<ReadinessChecks> {
    // A key set that failed to load at startup is retried from here too (paced by the cooldown):
    // an instance held out of rotation gets no authenticated traffic, the other thing that
    // triggers a fetch, so without this it could stay unready for ever.
    this.keyStore.refreshIfStale();
    return {
      database: (await this.databaseUp()) ? 'up' : 'down',
      jwks: this.keyStore.isLoaded ? 'up' : 'down',
    };
  }

  private databaseUp(): Promise<boolean> {
    const last = this.lastCheck;
    if (last && Date.now() - last.at < DATABASE_CHECK_CACHE_MS) return Promise.resolve(last.up);
    this.checking ??= this.databaseAnswers().then((up) => {
      this.lastCheck = { up, at: Date.now() };
      this.checking = undefined;
      return up;
    });
    return this.checking;
  }

  private async databaseAnswers(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), DATABASE_PROBE_TIMEOUT_MS);
    });
    const probe = this.dataSource.query('SELECT 1').then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
