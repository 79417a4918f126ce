import { Injectable } from '@nestjs/common';
import { SqlClient } from '../database/sql-client';

export interface TodoStats {
  usersWithTodos: number;
  todos: number;
  todosCreatedLast24h: number;
}

interface StatsRow {
  users_with_todos: string;
  todos: string;
  todos_created_last_24h: string;
}

/**
 * Counts across every user, for administrators. Only aggregates leave this class: no statement
 * here selects a row's content, so no caller can turn it into a view of another user's todos.
 */
@Injectable()
export class AdminRepository {
  constructor(private readonly sql: SqlClient) {}

  async todoStats(): Promise<TodoStats> {
    // One pass over the table; counts come back as bigint text (pg does not narrow them).
    const { rows } = await this.sql.query<StatsRow>(
      `SELECT count(DISTINCT user_id) AS users_with_todos,
              count(*) AS todos,
              count(*) FILTER (WHERE created_at > now() - interval '24 hours') AS todos_created_last_24h
         FROM todos`,
      [],
    );
    const [row] = rows;
    return {
      usersWithTodos: Number(row.users_with_todos),
      todos: Number(row.todos),
      todosCreatedLast24h: Number(row.todos_created_last_24h),
    };
  }
}
