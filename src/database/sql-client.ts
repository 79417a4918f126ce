import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { translateDatabaseError } from './database.errors';

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
export class SqlClient {
  /** Saves hashing the text on every call. */
  private readonly names = new Map<string, string>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async query<Row extends QueryResultRow>(
    text: string,
    values: unknown[],
  ): Promise<SqlResult<Row>> {
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool;
    try {
      const result = await pool.query<Row>({ name: this.nameOf(text), text, values });
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
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
