/**
 * A todo as TodosRepository reads it: a `todos` row (todo.entity.ts holds the schema) with its
 * times already as the API writes them, ISO 8601 in UTC with milliseconds.
 */
export interface TodoRecord {
  id: string;
  userId: string;
  title: string;
  description: string | null;
  completed: boolean;
  version: number;
  /** e.g. `2026-01-31T09:30:00.000Z`, exactly what `Date.prototype.toISOString` writes. */
  createdAt: string;
  updatedAt: string;
}
