import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  FLUSH_INTERVAL_MS,
  PostgresThrottlerStorage,
  storedKey,
} from './postgres-throttler-storage';

const TTL = 60_000;
const LIMIT = 3;
const BLOCK = 60_000;
/** A window boundary, so "seconds into the window" is easy to read. */
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

/** Keys, window starts (epoch ms), hits, window ends (epoch ms), the totals expected back. */
type QueryParams = [string[], number[], number[], number[], number[]];

/** Stubs the one thing the storage calls: DataSource.query (plus the isInitialized flag). */
function fakeDataSource() {
  const query = jest.fn<Promise<unknown>, [string, unknown[]?]>();
  const dataSource = { isInitialized: true, query };
  /** The shared counters, by stored key and window start, as PostgreSQL would hold them. */
  const counters = new Map<string, number>();
  /**
   * Answers the next upsert as PostgreSQL would, after other instances added `others` hits
   * (given by the key the caller uses; PostgreSQL sees its hash): the new totals, only where
   * they differ from the expected ones.
   */
  const answerUpsert = (others: Record<string, number> = {}) =>
    query.mockImplementationOnce((_sql, params) => {
      const [keys, starts, hits, , expected] = params as QueryParams;
      const byStoredKey = new Map(
        Object.entries(others).map(([key, count]) => [storedKey(key), count]),
      );
      const rows: { key: string; hits: number }[] = [];
      keys.forEach((key, i) => {
        const counter = `${key}@${starts[i]}`;
        const total = (counters.get(counter) ?? 0) + (byStoredKey.get(key) ?? 0) + hits[i];
        counters.set(counter, total);
        if (total !== expected[i]) rows.push({ key, hits: total });
      });
      return Promise.resolve(rows);
    });
  return { dataSource, query, answerUpsert };
}

describe('PostgresThrottlerStorage', () => {
  let warn: jest.SpyInstance;

  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.useRealTimers();
    warn.mockRestore();
  });

  function create() {
    const fake = fakeDataSource();
    const storage = new PostgresThrottlerStorage(fake.dataSource as unknown as DataSource);
    const hit = (key = 'user:a') => storage.increment(key, TTL, LIMIT, BLOCK);
    return { ...fake, storage, hit };
  }

  describe('fixed window', () => {
    it('counts hits in the window and reports the time left in it', async () => {
      const { hit } = create();
      jest.setSystemTime(T0 + 20_000);
      expect(await hit()).toEqual({
        totalHits: 1,
        timeToExpire: 40,
        isBlocked: false,
        timeToBlockExpire: 0,
      });
      expect((await hit()).totalHits).toBe(2);
    });

    it('starts from zero in the next window', async () => {
      const { hit } = create();
      await hit();
      await hit();
      jest.setSystemTime(T0 + TTL + 1);
      expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
    });

    it('keeps keys apart', async () => {
      const { hit } = create();
      await hit('user:a');
      await hit('user:a');
      expect((await hit('user:b')).totalHits).toBe(1);
    });
  });

  describe('blocking', () => {
    it('blocks the hit over the limit for the block duration', async () => {
      const { hit } = create();
      for (let i = 0; i < LIMIT; i++) expect((await hit()).isBlocked).toBe(false);
      expect(await hit()).toMatchObject({
        totalHits: LIMIT + 1,
        isBlocked: true,
        timeToBlockExpire: BLOCK / 1000,
      });
    });

    it('does not count hits while blocked, and reports the time left in the block', async () => {
      const { hit } = create();
      for (let i = 0; i <= LIMIT; i++) await hit();
      jest.setSystemTime(T0 + 15_000);
      expect(await hit()).toMatchObject({
        totalHits: LIMIT + 1,
        isBlocked: true,
        timeToBlockExpire: 45,
      });
    });

    it('keeps the block across a window boundary, then lifts it', async () => {
      const { hit } = create();
      jest.setSystemTime(T0 + 50_000);
      for (let i = 0; i <= LIMIT; i++) await hit();
      jest.setSystemTime(T0 + TTL + 5_000);
      expect(await hit()).toMatchObject({ isBlocked: true, timeToBlockExpire: 45 });
      jest.setSystemTime(T0 + 50_000 + BLOCK + 1);
      expect(await hit()).toMatchObject({ isBlocked: false, totalHits: 1 });
    });
  });

  describe('sharing through PostgreSQL', () => {
    it('sends pending hits in one upsert and adopts the shared total', async () => {
      const { hit, storage, query, answerUpsert } = create();
      await hit('user:a');
      await hit('user:a');
      await hit('ip:1.2.3.4');
      answerUpsert({ 'user:a': 1 });
      await storage.flush();

      expect(query).toHaveBeenCalledTimes(1);
      const [sql, params] = query.mock.calls[0];
      expect(sql).toMatch(/INSERT INTO throttle_counters[\s\S]*ON CONFLICT/);
      const [keys, starts, hits, expires, expected] = params as QueryParams;
      const sent = Object.fromEntries(keys.map((key, i) => [key, hits[i]]));
      expect(sent).toEqual({ [storedKey('user:a')]: 2, [storedKey('ip:1.2.3.4')]: 1 });
      expect(keys).toEqual([...keys].sort());
      expect(starts).toEqual([T0, T0]);
      expect(expires).toEqual([T0 + TTL, T0 + TTL]);
      expect(expected).toEqual(hits);

      // Another instance already counted one hit for user:a: 2 + 1, then this one.
      expect((await hit('user:a')).totalHits).toBe(4);
      expect((await hit('user:a')).isBlocked).toBe(true);
    });

    it('tells PostgreSQL the total it expects, so only counters others added to come back', async () => {
      const { hit, storage, query, answerUpsert } = create();
      await hit('user:a');
      await hit('ip:1.2.3.4');
      answerUpsert({ 'user:a': 1 });
      await storage.flush();
      await hit('user:a');
      await hit('ip:1.2.3.4');
      answerUpsert();
      await storage.flush();

      const [keys, , hits, , expected] = query.mock.calls[1][1] as QueryParams;
      const sentAndExpected = Object.fromEntries(
        keys.map((key, i) => [key, [hits[i], expected[i]]]),
      );
      // user:a: 1 sent + 1 from elsewhere came back, 1 more sent; ip: its own 1 known, 1 sent.
      expect(sentAndExpected).toEqual({
        [storedKey('user:a')]: [1, 3],
        [storedKey('ip:1.2.3.4')]: [1, 2],
      });
      expect((await hit('user:a')).totalHits).toBe(4);
      expect((await hit('ip:1.2.3.4')).totalHits).toBe(3);
    });

    it('flushes on its own every FLUSH_INTERVAL_MS', async () => {
      const { hit, query, answerUpsert } = create();
      await hit();
      answerUpsert();
      await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS);
      expect(query).toHaveBeenCalledTimes(1);
    });

    it('does not query when nothing is pending', async () => {
      const { storage, query } = create();
      await storage.flush();
      expect(query).not.toHaveBeenCalled();
    });

    it('runs one flush at a time', async () => {
      const { hit, storage, query, answerUpsert } = create();
      await hit();
      answerUpsert();
      const first = storage.flush();
      const second = storage.flush();
      expect(second).toBe(first);
      await first;
      expect(query).toHaveBeenCalledTimes(1);
    });

    it('counts hits that arrive while a flush is on its way, and sends them next time', async () => {
      const { hit, storage, query } = create();
      await hit();
      let answer!: (rows: unknown[]) => void;
      query.mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
      const flushing = storage.flush();
      // One hit is "sending", one more arrives: both still count.
      expect((await hit()).totalHits).toBe(2);
      answer([]);
      await flushing;
      expect((await hit()).totalHits).toBe(3);

      query.mockResolvedValueOnce([]);
      await storage.flush();
      expect((query.mock.calls[1][1] as QueryParams)[2]).toEqual([2]);
    });
  });

  describe('when PostgreSQL fails', () => {
    it('keeps the hits (pending again), still enforces the limit locally, and resends them', async () => {
      const { hit, storage, query, answerUpsert } = create();
      await hit();
      await hit();
      query.mockRejectedValueOnce(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
      await expect(storage.flush()).resolves.toBeUndefined();

      // Nothing was lost: the two hits still count, and the local limit still applies.
      expect((await hit()).totalHits).toBe(3);
      expect((await hit()).isBlocked).toBe(true);

      answerUpsert();
      await storage.flush();
      expect((query.mock.calls[1][1] as QueryParams)[2]).toEqual([4]);
    });

    it('logs the failure at most once per 10 s', async () => {
      const { hit, storage, query } = create();
      query.mockRejectedValue(new Error('Connection terminated unexpectedly'));
      for (let i = 0; i < 5; i++) {
        await hit(`ip:${i}`);
        await storage.flush();
      }
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toMatch(/limiting per instance/);
      jest.setSystemTime(T0 + 10_001);
      await hit('ip:x');
      await storage.flush();
      expect(warn).toHaveBeenCalledTimes(2);
    });

    it('does not query an uninitialised (destroyed) DataSource, and keeps the hits', async () => {
      const { hit, storage, query, dataSource } = create();
      await hit();
      dataSource.isInitialized = false;
      await storage.flush();
      expect(query).not.toHaveBeenCalled();
      expect((await hit()).totalHits).toBe(2);
    });
  });

  describe('keys', () => {
    it.each([
      ['a NUL byte', 'user:a\u0000b'],
      ['a lone surrogate', 'user:\ud800'],
      ['10,000 characters', `ip:${'x'.repeat(10_000)}`],
      ['quotes and SQL', "ip:1.2.3.4'); DROP TABLE todos; --"],
    ])('reach PostgreSQL hashed, whatever they hold (%s)', async (_name, key) => {
      const { hit, storage, query, answerUpsert } = create();
      await hit(key);
      answerUpsert();
      await storage.flush();
      const [keys] = query.mock.calls[0][1] as QueryParams;
      expect(keys).toEqual([storedKey(key)]);
      expect(keys[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('keep distinct keys apart after hashing', () => {
      expect(storedKey('user:a')).not.toBe(storedKey('user:b'));
      expect(storedKey('user:a')).toBe(storedKey('user:a'));
    });
  });

  describe('when PostgreSQL refuses one key', () => {
    const refused = Object.assign(new Error('index row size exceeds maximum'), { code: '54000' });

    it('retries key by key: the others are shared, the refused one is counted locally', async () => {
      const { hit, storage, query } = create();
      await hit('user:good');
      await hit('user:bad');
      await hit('user:also-good');
      const bad = storedKey('user:bad');
      query.mockImplementation((_sql, params) => {
        const [keys, , hits] = params as QueryParams;
        if (keys.includes(bad)) return Promise.reject(refused);
        return Promise.resolve(keys.map((key, i) => ({ key, hits: hits[i] + 10 })));
      });
      await storage.flush();

      // The batch, then each key on its own.
      expect(query).toHaveBeenCalledTimes(4);
      expect((await hit('user:good')).totalHits).toBe(12);
      expect((await hit('user:also-good')).totalHits).toBe(12);
      expect((await hit('user:bad')).totalHits).toBe(2);

      // From then on the refused key stays out of the batch: the others flush in one query.
      query.mockClear();
      await storage.flush();
      expect(query).toHaveBeenCalledTimes(1);
      expect((query.mock.calls[0][1] as QueryParams)[0]).not.toContain(bad);
    });

    it('stops retrying key by key when PostgreSQL goes away meanwhile, and keeps the hits', async () => {
      const { hit, storage, query, answerUpsert } = create();
      await hit('user:x');
      await hit('user:y');
      query.mockRejectedValueOnce(refused);
      query.mockRejectedValueOnce(new Error('Connection terminated unexpectedly'));
      await storage.flush();
      expect(query).toHaveBeenCalledTimes(2);
      answerUpsert();
      await storage.flush();
      const [keys, , hits] = query.mock.calls[2][1] as QueryParams;
      expect(keys).toHaveLength(2);
      expect(hits).toEqual([1, 1]);
    });
  });

  describe('housekeeping', () => {
    it('drops buckets whose window is over even while PostgreSQL is down', async () => {
      const { hit, storage, query } = create();
      query.mockRejectedValue(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
      for (let i = 0; i < 1000; i++) await hit(`ip:10.0.${i >> 8}.${i & 0xff}`);
      await storage.flush();
      expect(storage.size).toBe(1000);
      jest.setSystemTime(T0 + TTL);
      await storage.flush();
      expect(storage.size).toBe(0);
    });

    it('drops them on its timer even when a flush never returns (a frozen database)', async () => {
      const { hit, storage, query } = create();
      query.mockImplementation(() => new Promise(() => undefined));
      await hit('ip:1');
      await hit('ip:2');
      await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS);
      expect(query).toHaveBeenCalledTimes(1);
      jest.setSystemTime(T0 + TTL);
      await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS);
      expect(storage.size).toBe(0);
    });

    it('keeps a blocked bucket past its window until the block ends', async () => {
      const { hit, storage, query } = create();
      query.mockRejectedValue(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
      jest.setSystemTime(T0 + 50_000);
      for (let i = 0; i <= LIMIT; i++) await hit();
      jest.setSystemTime(T0 + TTL + 1);
      await storage.flush();
      expect(storage.size).toBe(1);
      jest.setSystemTime(T0 + 50_000 + BLOCK);
      await storage.flush();
      expect(storage.size).toBe(0);
    });

    it('forgets buckets whose window and block are over, without sending them', async () => {
      const { hit, storage, query, answerUpsert } = create();
      await hit();
      answerUpsert();
      await storage.flush();
      jest.setSystemTime(T0 + TTL + 1);
      await storage.flush();
      expect(query).toHaveBeenCalledTimes(1);
      // A fresh bucket: the old window's hits are gone.
      expect((await hit()).totalHits).toBe(1);
    });

    it('deletes expired shared counters at most once a minute', async () => {
      const { hit, storage, query, answerUpsert } = create();
      jest.setSystemTime(T0 + 61_000);
      await hit();
      answerUpsert();
      query.mockResolvedValueOnce([]);
      await storage.flush();
      expect(query).toHaveBeenCalledTimes(2);
      expect(query.mock.calls[1][0]).toMatch(
        /DELETE FROM throttle_counters WHERE expires_at < now\(\)/,
      );

      await hit();
      answerUpsert();
      await storage.flush();
      expect(query).toHaveBeenCalledTimes(3);
    });

    it('on shutdown waits for a flush under way, then sends the hits that came meanwhile', async () => {
      const { hit, storage, query, answerUpsert } = create();
      await hit();
      let answer!: (rows: unknown[]) => void;
      query.mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
      const underWay = storage.flush();
      await hit();
      answerUpsert();
      const shutdown = storage.onApplicationShutdown();
      answer([]);
      await underWay;
      await shutdown;
      expect(query).toHaveBeenCalledTimes(2);
      expect((query.mock.calls[1][1] as QueryParams)[2]).toEqual([1]);
    });

    it('on shutdown skips the database once it is closed', async () => {
      const { hit, storage, query, dataSource } = create();
      await hit();
      dataSource.isInitialized = false;
      await storage.onApplicationShutdown();
      expect(query).not.toHaveBeenCalled();
    });

    it('on shutdown stops the timer and sends what is pending', async () => {
      const { hit, storage, query, answerUpsert } = create();
      await hit();
      answerUpsert();
      await storage.onApplicationShutdown();
      expect(query).toHaveBeenCalledTimes(1);
      await hit();
      await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS * 4);
      expect(query).toHaveBeenCalledTimes(1);
    });
  });
});
