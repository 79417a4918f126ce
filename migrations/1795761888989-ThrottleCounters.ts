import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rate-limit counters shared by all API instances. UNLOGGED: counters are
 * short-lived and rebuilt by traffic, so they skip the write-ahead log (faster, and losing
 * them in a crash only resets the current window).
 */
export class ThrottleCounters1795761888989 implements MigrationInterface {
  name = 'ThrottleCounters1795761888989';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE UNLOGGED TABLE "throttle_counters" (
        "key" text NOT NULL,
        "window_start" timestamptz NOT NULL,
        "hits" integer NOT NULL,
        "expires_at" timestamptz NOT NULL,
        CONSTRAINT "PK_throttle_counters" PRIMARY KEY ("key", "window_start")
      )`);
    await queryRunner.query(
      `CREATE INDEX "IDX_throttle_counters_expires_at" ON "throttle_counters" ("expires_at")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "throttle_counters"`);
  }
}
