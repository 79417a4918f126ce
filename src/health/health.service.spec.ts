import { DataSource } from 'typeorm';
import { JwksKeyStore } from '../auth/jwks/jwks-key-store';
import { DATABASE_CHECK_CACHE_MS, HealthService } from './health.service';

describe('HealthService', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2030, 0, 1) }));
  afterEach(() => jest.useRealTimers());

  function create() {
    const pending: Array<{ resolve: (value: unknown) => void; reject: (error: Error) => void }> =
      [];
    const query = jest.fn(
      () => new Promise((resolve, reject) => pending.push({ resolve, reject })),
    );
    const keyStore = { isLoaded: true, refreshIfStale: jest.fn() };
    const service = new HealthService(
      { query } as unknown as DataSource,
      keyStore as unknown as JwksKeyStore,
    );
    /** Lets the pending query answer (or fail) and the probes waiting on it settle. */
    const answer = async (ok = true) => {
      const next = pending.shift();
      if (ok) next?.resolve([{ '?column?': 1 }]);
      else next?.reject(new Error('connection refused'));
      await jest.advanceTimersByTimeAsync(0);
    };
    return { service, query, answer, keyStore };
  }

  it('runs one database check for any number of concurrent probes', async () => {
    const { service, query, answer } = create();
    const probes = Array.from({ length: 1000 }, () => service.readiness());
    expect(query).toHaveBeenCalledTimes(1);
    await answer();
    await expect(Promise.all(probes)).resolves.toEqual(
      Array.from({ length: 1000 }, () => ({ database: 'up', jwks: 'up' })),
    );
  });

  it('reuses the answer for a second, then checks again', async () => {
    const { service, query, answer } = create();
    const first = service.readiness();
    await answer();
    await first;
    jest.advanceTimersByTime(DATABASE_CHECK_CACHE_MS - 1);
    await expect(service.readiness()).resolves.toEqual({ database: 'up', jwks: 'up' });
    expect(query).toHaveBeenCalledTimes(1);

    jest.advanceTimersByTime(1);
    const later = service.readiness();
    expect(query).toHaveBeenCalledTimes(2);
    await answer(false);
    await expect(later).resolves.toEqual({ database: 'down', jwks: 'up' });
  });

  it('reports a database that stopped answering as down after the probe timeout, one check at a time', async () => {
    const { service, query } = create();
    const probes = [service.readiness(), service.readiness()];
    await jest.advanceTimersByTimeAsync(2000);
    await expect(Promise.all(probes)).resolves.toEqual([
      { database: 'down', jwks: 'up' },
      { database: 'down', jwks: 'up' },
    ]);
    expect(query).toHaveBeenCalledTimes(1);
  });

  it('reads the key set state and asks for a retry on every probe (no database work)', async () => {
    const { service, answer, keyStore } = create();
    const first = service.readiness();
    await answer();
    await first;
    keyStore.isLoaded = false;
    await expect(service.readiness()).resolves.toEqual({ database: 'up', jwks: 'down' });
    expect(keyStore.refreshIfStale).toHaveBeenCalledTimes(2);
  });
});
