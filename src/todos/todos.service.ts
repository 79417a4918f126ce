import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DeleteQueryBuilder, Repository, SelectQueryBuilder, UpdateQueryBuilder } from 'typeorm';
import { TodoChanges } from './dto/update-todo.dto';
import { VersionPrecondition } from './todo-etag';
import { TodoCursor } from './todo-cursor';
import { Todo } from './todo.entity';
import { TodoNotFoundException, TodoVersionMismatchException } from './todos.errors';

export interface NewTodo {
  title: string;
  description?: string | null;
  completed?: boolean;
}

export interface ListTodosOptions {
  limit: number;
  completed?: boolean;
  /** Start after this todo (the previous page's last). */
  after?: TodoCursor;
}

export interface TodoPage {
  todos: Todo[];
  /** Where the next page starts; null when this page is the last. */
  next: TodoCursor | null;
}

/** A `todos` row as RETURNING gives it. */
interface TodoRow {
  id: string;
  user_id: string;
  title: string;
  description: string | null;
  completed: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/**
 * Each user's todos. Every method takes the caller's id, and every statement is built from one of
 * the three owner-scoped builders below (`selectOwned`, `updateOwned`, `deleteOwned`), whose WHERE starts with
 * `user_id = :userId`: no code path can read or write another user's row by forgetting it.
 */
@Injectable()
export class TodosService {
  constructor(@InjectRepository(Todo) private readonly todos: Repository<Todo>) {}

  /** The caller's todos, newest first, one keyset page at a time. */
  async list(userId: string, options: ListTodosOptions): Promise<TodoPage> {
    const query = this.selectOwned(userId)
      .orderBy('todo.createdAt', 'DESC')
      .addOrderBy('todo.id', 'DESC')
      // One more than asked: whether it exists says whether there is a next page.
      .limit(options.limit + 1);
    if (options.completed !== undefined) {
      query.andWhere('todo.completed = :completed', { completed: options.completed });
    }
    if (options.after) {
      // A row comparison, which the (user_id, created_at DESC, id DESC) index serves as a range.
      query.andWhere('(todo.createdAt, todo.id) < (:afterCreatedAt, :afterId)', {
        afterCreatedAt: options.after.createdAt,
        afterId: options.after.id,
      });
    }
    const rows = await query.getMany();
    const todos = rows.slice(0, options.limit);
    const last = todos.at(-1);
    return {
      todos,
      next: rows.length > options.limit && last ? { createdAt: last.createdAt, id: last.id } : null,
    };
  }

  async create(userId: string, input: NewTodo): Promise<Todo> {
    const result = await this.todos
      .createQueryBuilder()
      .insert()
      .into(Todo)
      .values({
        // The owner comes from the verified token only; the DTO has no field that could set it.
        userId,
        title: input.title,
        description: input.description ?? null,
        completed: input.completed ?? false,
      })
      .returning('*')
      .execute();
    return toTodo((result.raw as TodoRow[])[0]);
  }

  async findOne(userId: string, id: string): Promise<Todo> {
    const todo = await this.selectOwned(userId).andWhere('todo.id = :id', { id }).getOne();
    if (!todo) throw new TodoNotFoundException();
    return todo;
  }

  /**
   * Applies the changes and bumps the version in one statement. The If-Match check is part of its
   * WHERE, so two concurrent updates naming the same version cannot both succeed.
   */
  async update(
    userId: string,
    id: string,
    changes: TodoChanges,
    precondition?: VersionPrecondition,
  ): Promise<Todo> {
    const versions = expectedVersions(precondition);
    if (versions?.length === 0) throw await this.whyUnchanged(userId, id);
    const query = this.updateOwned(userId, id).set(changes);
    if (versions) query.andWhere('version = ANY(:versions)', { versions });
    const result = await query.returning('*').updateEntity(false).execute();
    const row = (result.raw as TodoRow[])[0];
    if (!row) throw await this.whyUnchanged(userId, id);
    return toTodo(row);
  }

  /** Deletes the todo; with If-Match, only if it is still at the named version (atomically). */
  async remove(userId: string, id: string, precondition?: VersionPrecondition): Promise<void> {
    const versions = expectedVersions(precondition);
    if (versions?.length === 0) throw await this.whyUnchanged(userId, id);
    const query = this.deleteOwned(userId, id);
    if (versions) query.andWhere('version = ANY(:versions)', { versions });
    const result = await query.execute();
    if (!result.affected) throw await this.whyUnchanged(userId, id);
  }

  /** After a write matched no row: 412 if the caller's todo exists (another version), else 404. */
  private async whyUnchanged(userId: string, id: string): Promise<Error> {
    const exists = await this.selectOwned(userId).andWhere('todo.id = :id', { id }).getExists();
    return exists ? new TodoVersionMismatchException() : new TodoNotFoundException();
  }

  private selectOwned(userId: string): SelectQueryBuilder<Todo> {
    return this.todos.createQueryBuilder('todo').where('todo.userId = :userId', { userId });
  }

  private updateOwned(userId: string, id: string): UpdateQueryBuilder<Todo> {
    return this.todos
      .createQueryBuilder()
      .update(Todo)
      .where('user_id = :userId AND id = :id', { userId, id });
  }

  private deleteOwned(userId: string, id: string): DeleteQueryBuilder<Todo> {
    return this.todos
      .createQueryBuilder()
      .delete()
      .from(Todo)
      .where('user_id = :userId AND id = :id', { userId, id });
  }
}

/** undefined: no precondition; []: none of the named versions can match. */
function expectedVersions(precondition: VersionPrecondition | undefined): number[] | undefined {
  return precondition?.kind === 'versions' ? precondition.versions : undefined;
}

function toTodo(row: TodoRow): Todo {
  return Object.assign(new Todo(), {
    id: row.id,
    userId: row.user_id,
    title: row.title,
    description: row.description,
    completed: row.completed,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}
