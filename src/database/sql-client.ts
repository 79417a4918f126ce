import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { translateDatabaseError } from './database.errors';

/** Runs one statement: the pool's next connection, or the connection of a transaction. */
export interface SqlQuery {
  query<Row extends QueryResultRow>(text: string, values: unknown[]): Promise<SqlResult<Row>>;
  /**
   * The same, each row an array of its columns in the statement's order: node-postgres then
   * builds no object with a property per column, which on hot reads with many rows is a
   * measurable share of the CPU (`npm run bench`).
   */
  queryArrays<Row extends unknown[]>(text: string, values: unknown[]): Promise<SqlResult<Row>>;
}

export interface SqlResult<Row> {
  rows: Row[];
  /** Rows the statement inserted, updated, deleted or returned. */
  rowCount: number;
}

/**
 * Runs SQL as named prepared statements on the pool of TypeORM's own data source, so that
 * PostgreSQL parses and plans each statement shape once per connection instead of on every
 * request: the hot paths depend on it. TypeORM's query runner cannot name a statement, so this
 * is the one file that reaches the pg pool under TypeORM's driver.
 *
 * A statement's name is a hash of its text, so every SqlClient on the same pool agrees on it (pg
 * refuses one name for two texts). Callers pass a fixed set of texts, with every value as a
 * parameter, so the set of prepared statements on each connection stays bounded.
 *
 * A connection failure is rethrown as DatabaseUnavailableException (503 with Retry-After); any
 * other error as it is.
 */
@Injectable()
export class SqlClient implements SqlQuery {
  /** Saves hashing the text on every call. */
  private readonly names = new Map<string, string>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  query<Row extends QueryResultRow>(text: string, values: unknown[]): Promise<SqlResult<Row>> {
    return this.run(this.pool(), text, values);
  }

  queryArrays<Row extends unknown[]>(text: string, values: unknown[]): Promise<SqlResult<Row>> {
    return this.run(this.pool(), text, values, 'array');
  }

  /**
   * Runs `work` in one transaction on one pooled connection (BEGIN … COMMIT, ROLLBACK when it
   * throws), its statements still named prepared statements. For rules one statement cannot
   * hold alone: a statement's snapshot is taken before it waits for a lock, so a check that must
   * see what the lock's previous holder committed needs the lock taken by an earlier statement.
   */
  async transaction<T>(work: (sql: SqlQuery) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool().connect();
    } catch (error) {
      throw translateDatabaseError(error);
    }
    let broken: Error | undefined;
    try {
      await this.run(client, 'BEGIN', []);
      const result = await work({
        query: (text, values) => this.run(client, text, values),
        queryArrays: (text, values) => this.run(client, text, values, 'array'),
      });
      await this.run(client, 'COMMIT', []);
      return result;
    } catch (error) {
      // A connection that cannot even roll back is discarded rather than reused mid-transaction.
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error('ROLLBACK failed');
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  private pool(): Pool {
    return (this.dataSource.driver as PostgresDriver).master as Pool;
  }

  private async run<Row>(
    runner: Pool | PoolClient,
    text: string,
    values: unknown[],
    rowMode?: 'array',
  ): Promise<SqlResult<Row>> {
    try {
      const name = this.nameOf(text);
      const result = rowMode
        ? await runner.query({ name, text, values, rowMode })
        : await runner.query({ name, text, values });
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    } catch (error) {
      throw translateDatabaseError(error);
    }
  }

  private nameOf(text: string): string {
    let name = this.names.get(text);
    if (name === undefined) {
      name = `sql_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
      this.names.set(text, name);
    }
    return name;
  }
}
