import { Injectable } from '@nestjs/common';
import { SqlClient } from '../database/sql-client';
import { TodoChanges } from './dto/update-todo.dto';
import { TodoCursor } from './todo-cursor';
import { TodoRecord } from './todo.record';

export interface NewTodo {
  title: string;
  description?: string | null;
  completed?: boolean;
}

export interface TodoListQuery {
  /** The most rows to return. */
  limit: number;
  completed?: boolean;
  /** Start after this todo, in list order. */
  after?: TodoCursor;
}

/** A row of COLUMNS, in their order, as node-postgres returns it (int4 as a number). */
type TodoRow = [
  id: string,
  userId: string,
  title: string,
  description: string | null,
  completed: boolean,
  version: number,
  createdUtc: string,
  updatedUtc: string,
];

/**
 * A timestamptz column as UTC text, `2026-01-31 09:30:00.5` (ISO DateStyle, which node-postgres
 * needs anyway): PostgreSQL's plain output, whatever the session's time zone. node-postgres would
 * otherwise parse each value into a Date for the API to format back, the largest share of the
 * app's own CPU on a page of todos (`npm run bench -- --cpu-prof`); `to_char` straight to the
 * API's format would do that work on the database instead, at three times the cost of this cast.
 * The result has its own name: under the column's, ORDER BY created_at would sort by the text and
 * lose the index.
 */
const utcText = (column: string) => `(${column} AT TIME ZONE 'UTC')::text AS ${column}_utc`;
const COLUMNS = `id, user_id, title, description, completed, version, ${utcText('created_at')}, ${utcText('updated_at')}`;
/** The start of every WHERE below: `$1` is always the owner (see `run`). */
const OWNED = 'WHERE user_id = $1';
/** The first key of the per-owner advisory lock that serialises creates (see insertWithinLimit). */
const TODO_LIMIT_LOCK = 0x746f646f;
/** The columns an update may set; TodoChanges' property names are the column names. */
const UPDATABLE = ['title', 'description', 'completed'] as const;

/**
 * Every SQL statement on the `todos` table.
 *
 * Ownership: every method takes the owner's id first, every statement goes through `run`, which
 * binds it as `$1`, and every statement filters on (or, for INSERT, writes) `user_id = $1`. No
 * code path can reach another user's row by forgetting a condition.
 *
 * The statements are fixed SQL (the list and update add fixed fragments) rather than query
 * builders and entity hydration: these are the hottest paths, and building a query and
 * hydrating entities on every request costs more than the statement itself (`npm run bench`
 * shows it). The schema still comes from the entity through migrations, and the drift test
 * holds the two together.
 */
@Injectable()
export class TodosRepository {
  constructor(private readonly sql: SqlClient) {}

  /**
   * The owner's todos, newest first. The WHERE and ORDER BY match the
   * (user_id, created_at DESC, id DESC) index, and the cursor's row comparison starts the index
   * range where the previous page ended.
   */
  async list(userId: string, query: TodoListQuery): Promise<TodoRecord[]> {
    const params: unknown[] = [query.limit];
    const placeholder = placeholders(params);
    let where = OWNED;
    if (query.completed !== undefined) where += ` AND completed = ${placeholder(query.completed)}`;
    if (query.after) {
      const { createdAt, id } = query.after;
      where += ` AND (created_at, id) < (${placeholder(createdAt)}, ${placeholder(id)})`;
    }
    const { rows } = await this.run(
      `SELECT ${COLUMNS} FROM todos ${where} ORDER BY created_at DESC, id DESC LIMIT $2`,
      userId,
      params,
    );
    return rows.map(toTodo);
  }

  /**
   * Inserts unless the owner already has `limit` todos; undefined when refused. Atomic: the
   * owner's advisory lock (held to the end of the transaction) serialises this user's inserts,
   * and the count runs in a later statement, whose snapshot sees what the previous holder
   * committed; so two concurrent creates at the limit cannot both pass. Other users never wait.
   */
  async insertWithinLimit(
    userId: string,
    limit: number,
    input: NewTodo,
  ): Promise<TodoRecord | undefined> {
    return this.sql.transaction(async (tx) => {
      // The first key namespaces these locks from any other advisory lock on the database.
      await tx.query(`SELECT pg_advisory_xact_lock(${TODO_LIMIT_LOCK}, hashtext($1))`, [userId]);
      const { rows } = await tx.queryArrays<TodoRow>(
        `INSERT INTO todos (user_id, title, description, completed)
         SELECT $1, $2, $3, $4
         WHERE (SELECT count(*) FROM todos ${OWNED}) < $5
         RETURNING ${COLUMNS}`,
        [userId, input.title, input.description ?? null, input.completed ?? false, limit],
      );
      return rows[0] && toTodo(rows[0]);
    });
  }

  async findById(userId: string, id: string): Promise<TodoRecord | undefined> {
    const { rows } = await this.run(`SELECT ${COLUMNS} FROM todos ${OWNED} AND id = $2`, userId, [
      id,
    ]);
    return rows[0] && toTodo(rows[0]);
  }

  async exists(userId: string, id: string): Promise<boolean> {
    const { rows } = await this.run(`SELECT 1 FROM todos ${OWNED} AND id = $2`, userId, [id]);
    return rows.length > 0;
  }

  /**
   * Applies the changes and bumps the version in one statement; with `versions`, only if the row
   * is at one of them. The check is part of the WHERE, so of two concurrent updates naming the
   * same version exactly one matches. Undefined when no row matched.
   */
  async update(
    userId: string,
    id: string,
    changes: TodoChanges,
    versions?: number[],
  ): Promise<TodoRecord | undefined> {
    const params: unknown[] = [id];
    const placeholder = placeholders(params);
    const assignments = UPDATABLE.filter((column) => changes[column] !== undefined).map(
      (column) => `${column} = ${placeholder(changes[column])}`,
    );
    const versionCheck = versions ? ` AND version = ANY(${placeholder(versions)})` : '';
    const { rows } = await this.run(
      `UPDATE todos SET ${assignments.join(', ')}, version = version + 1, updated_at = now()
       ${OWNED} AND id = $2${versionCheck} RETURNING ${COLUMNS}`,
      userId,
      params,
    );
    return rows[0] && toTodo(rows[0]);
  }

  /** Deletes the row; with `versions`, only if it is at one of them. Whether a row went. */
  async delete(userId: string, id: string, versions?: number[]): Promise<boolean> {
    const versionCheck = versions ? ' AND version = ANY($3)' : '';
    const { rowCount } = await this.run(
      `DELETE FROM todos ${OWNED} AND id = $2${versionCheck}`,
      userId,
      versions ? [id, versions] : [id],
    );
    return rowCount > 0;
  }

  /** Runs one statement with the owner bound as `$1` and `params` as `$2`, `$3`, … */
  private run(sql: string, userId: string, params: unknown[]) {
    return this.sql.queryArrays<TodoRow>(sql, [userId, ...params]);
  }
}

/** Appends a value to `params` (which follow the owner's `$1`) and returns its placeholder. */
function placeholders(params: unknown[]): (value: unknown) => string {
  return (value) => `$${params.push(value) + 1}`;
}

function toTodo([
  id,
  userId,
  title,
  description,
  completed,
  version,
  createdUtc,
  updatedUtc,
]: TodoRow): TodoRecord {
  return {
    id,
    userId,
    title,
    description,
    completed,
    version,
    createdAt: isoFromUtcText(createdUtc),
    updatedAt: isoFromUtcText(updatedUtc),
  };
}

/**
 * What follows the seconds in PostgreSQL's text of a timestamp(3), by its length: nothing when
 * the milliseconds are zero, else `.5`, `.25` or `.125` (trailing zeros dropped).
 */
const MILLISECONDS_PADDING: Readonly<Record<number, string>> = {
  19: '.000',
  21: '00',
  22: '0',
  23: '',
};

/** `2026-01-31 09:30:00.5` (UTC) as `toISOString` writes it: `2026-01-31T09:30:00.500Z`. */
export function isoFromUtcText(text: string): string {
  const padding = MILLISECONDS_PADDING[text.length];
  if (padding === undefined || text[4] !== '-' || text[7] !== '-' || text[10] !== ' ') {
    // Another DateStyle, or a year past 9999: not something this API writes or can read back.
    throw new Error(`unexpected timestamp text from PostgreSQL: ${text}`);
  }
  return `${text.slice(0, 10)}T${text.slice(11)}${padding}Z`;
}
