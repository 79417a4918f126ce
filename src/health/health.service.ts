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

@Injectable()
export class HealthService {
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
      database: (await this.databaseAnswers()) ? 'up' : 'down',
      jwks: this.keyStore.isLoaded ? 'up' : 'down',
    };
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
