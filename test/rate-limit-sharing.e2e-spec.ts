import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { PostgresThrottlerStorage, storedKey } from '../src/rate-limit/postgres-throttler-storage';
import { rateLimitKey } from '../src/rate-limit/rate-limit.guard';
import { Reply } from './support/http';
import { SuitePostgres } from './support/postgres-faults';
import { startTestApp, TestApp } from './support/test-app';

/**
 * The failed-authentication counters two instances share through PostgreSQL, attacked: a key
 * PostgreSQL refuses must not stop the others from being shared; while PostgreSQL is down, a
 * flood from 10,000 addresses must not stay in memory after its window; and once PostgreSQL is
 * back the counters are shared again without restarting anything. The suite runs its own
 * PostgreSQL, so stopping it disturbs no other suite.
 */

jest.setTimeout(240_000);

const LIMIT = 4;
const FLOOD_ADDRESSES = 10_000;
/** The window of the instance flooded during the outage: short, so the test sees it end. */
const FLOOD_WINDOW_SECONDS = 3;

describe('rate-limit counters shared through PostgreSQL', () => {
  let postgres: SuitePostgres;
  let db: Client | undefined;
  /** Two instances behind the same (simulated) proxy, sharing the counters. */
  let first: TestApp;
  let second: TestApp;
  /** A third instance with a short window, for the flood during the outage. */
  let flooded: TestApp;
  const proxy = '127.0.0.1';
  let nextAddress = 0;

  /** A client address no other request of this suite uses. */
  function address(): string {
    const n = ++nextAddress;
    return `198.18.${n >> 8}.${n & 0xff}`;
  }

  function garbage(app: TestApp, client: string, agent?: Agent): Promise<Reply> {
    return app.http.get('/api/profile', {
      localAddress: proxy,
      token: 'garbage',
      headers: { 'x-forwarded-for': client },
      agent,
    });
  }

  async function openDb(): Promise<Client> {
    const client = new Client({ connectionString: postgres.url });
    await client.connect();
    return client;
  }

  /** The shared count of failed authentications for `client`, as PostgreSQL holds it. */
  async function sharedHits(client: string): Promise<number> {
    const result = await db!.query<{ hits: number }>(
      'SELECT coalesce(sum(hits), 0)::int AS hits FROM throttle_counters WHERE key = $1',
      [storedKey(rateLimitKey.failedAuth(client))],
    );
    return result.rows[0].hits;
  }

  async function waitForSharedHits(client: string, hits: number): Promise<number> {
    const deadline = performance.now() + 30_000;
    let seen = await sharedHits(client);
    while (seen < hits && performance.now() < deadline) {
      await sleep(100);
      seen = await sharedHits(client);
    }
    return seen;
  }

  /**
   * `client` spends its whole budget on the first instance; the second instance, which has
   * seen none of it, must refuse the client with 429 after at most two of its own attempts (one
   * may slip through before its next flush reads the shared total) instead of allowing LIMIT.
   */
  async function expectSharedLimit(client: string) {
    for (let i = 0; i < LIMIT; i++) expect((await garbage(first, client)).status).toBe(401);
    expect(await waitForSharedHits(client, LIMIT)).toBe(LIMIT);
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) {
      statuses.push((await garbage(second, client)).status);
      if (statuses.at(-1) === 429) break;
      await sleep(600);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.length).toBeLessThanOrEqual(2);
  }

  beforeAll(async () => {
    postgres = await SuitePostgres.start('rate-limit-sharing');
    db = await openDb();

    const env = {
      DATABASE_URL: postgres.url,
      TRUST_PROXY: proxy,
      THROTTLE_ANONYMOUS_LIMIT: String(LIMIT),
      THROTTLE_TTL_SECONDS: '3600',
    };
    first = await startTestApp(env);
    second = await startTestApp(env);
    flooded = await startTestApp({
      ...env,
      THROTTLE_ANONYMOUS_LIMIT: '1000000',
      THROTTLE_TTL_SECONDS: String(FLOOD_WINDOW_SECONDS),
    });
  });

  afterAll(async () => {
    await db?.end();
    await first?.close();
    await second?.close();
    await flooded?.close();
    await postgres?.close();
  });

  it('shares the limit between instances (baseline)', async () => {
    await expectSharedLimit(address());
  });

  it('keeps sharing every other key when PostgreSQL refuses one', async () => {
    const refused = address();
    // PostgreSQL itself refuses this one key, as it refused NUL bytes and over-long keys.
    await db!.query(`
      CREATE FUNCTION refuse_one_key() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.key = '${storedKey(rateLimitKey.failedAuth(refused))}' THEN
          RAISE EXCEPTION 'refused by the test' USING ERRCODE = '22023';
        END IF;
        RETURN NEW;
      END $$`);
    await db!.query(
      'CREATE TRIGGER refuse_one_key BEFORE INSERT OR UPDATE ON throttle_counters FOR EACH ROW EXECUTE FUNCTION refuse_one_key()',
    );
    try {
      const others = [address(), address(), address()];
      // The refused key is in every batch from now on, next to the others.
      for (let round = 0; round < 2; round++) {
        await Promise.all([refused, ...others].map((client) => garbage(first, client)));
        await sleep(300);
      }
      for (const client of others) expect(await waitForSharedHits(client, 2)).toBe(2);
      expect(await sharedHits(refused)).toBe(0);

      // The refused key is still limited on the instance that counts it.
      for (let i = 2; i < LIMIT; i++) expect((await garbage(first, refused)).status).toBe(401);
      expect((await garbage(first, refused)).status).toBe(429);

      // And a new key is shared as before, in batches that still carry the refused one.
      await expectSharedLimit(address());
      expect(first.logs.failures()).toEqual([]);
    } finally {
      await db!.query('DROP TRIGGER refuse_one_key ON throttle_counters');
      await db!.query('DROP FUNCTION refuse_one_key()');
    }
  });

  describe('while PostgreSQL is down', () => {
    beforeAll(async () => {
      await db!.end();
      db = undefined;
      await postgres.stop();
    });

    it(`holds a flood from ${FLOOD_ADDRESSES.toLocaleString('en')} addresses in memory only for its window`, async () => {
      const storage = flooded.app.get(PostgresThrottlerStorage);
      const agent = new Agent({ keepAlive: true, maxSockets: 50 });
      const heapBefore = process.memoryUsage().heapUsed;
      let peakEntries = 0;
      const statuses = new Map<number, number>();
      try {
        for (let sent = 0; sent < FLOOD_ADDRESSES; sent += 500) {
          const wave = await Promise.all(
            Array.from({ length: 500 }, (_, i) => {
              const n = sent + i;
              return garbage(flooded, `10.${n >> 16}.${(n >> 8) & 0xff}.${n & 0xff}`, agent);
            }),
          );
          for (const reply of wave)
            statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          peakEntries = Math.max(peakEntries, storage.size);
        }
      } finally {
        agent.destroy();
      }
      const heapAfterFlood = process.memoryUsage().heapUsed;
      // Every request got its 401: the outage changes nothing for authentication.
      expect(Object.fromEntries(statuses)).toEqual({ 401: FLOOD_ADDRESSES });
      expect(peakEntries).toBeGreaterThan(0);
      expect(peakEntries).toBeLessThanOrEqual(FLOOD_ADDRESSES);

      // The windows end; their buckets go although not one hit reached PostgreSQL.
      const deadline = performance.now() + 4 * FLOOD_WINDOW_SECONDS * 1000 + 10_000;
      while (storage.size > 0 && performance.now() < deadline) await sleep(250);
      expect(storage.size).toBe(0);
      process.stdout.write(
        `rate-limit outage: ${FLOOD_ADDRESSES} addresses, peak ${peakEntries} buckets in memory, ` +
          `heap +${((heapAfterFlood - heapBefore) / 1024 / 1024).toFixed(1)} MiB after the flood ` +
          `(test process and app together), 0 buckets once the ${FLOOD_WINDOW_SECONDS} s windows ended\n`,
      );
    });

    it('still limits on each instance alone', async () => {
      const client = address();
      for (let i = 0; i < LIMIT; i++) expect((await garbage(first, client)).status).toBe(401);
      expect((await garbage(first, client)).status).toBe(429);
    });
  });

  describe('after PostgreSQL comes back', () => {
    beforeAll(async () => {
      await postgres.restart();
      db = await openDb();
    });

    it('shares the limits again, without restarting the instances', async () => {
      await expectSharedLimit(address());
    });
  });
});
