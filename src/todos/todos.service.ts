import { Injectable } from '@nestjs/common';
import { AppConfigService } from '../config/app-config.service';
import { TodoChanges } from './dto/update-todo.dto';
import { cursorAfter, TodoCursor } from './todo-cursor';
import { VersionPrecondition } from './todo-etag';
import { TodoRecord } from './todo.record';
import {
  TodoLimitReachedException,
  TodoNotFoundException,
  TodoVersionMismatchException,
} from './todos.errors';
import { NewTodo, TodosRepository } from './todos.repository';

export interface ListTodosOptions {
  limit: number;
  completed?: boolean;
  /** Start after this todo (the previous page's last). */
  after?: TodoCursor;
}

export interface TodoPage {
  todos: TodoRecord[];
  /** Where the next page starts; null when this page is the last. */
  next: TodoCursor | null;
}

/**
 * The rules of each user's todos: paging, If-Match preconditions, and which error a write that
 * changed nothing deserves. The SQL, and the owner check in every statement, live in
 * TodosRepository.
 */
@Injectable()
export class TodosService {
  constructor(
    private readonly todos: TodosRepository,
    private readonly config: AppConfigService,
  ) {}

  /** The caller's todos, newest first, one keyset page at a time. */
  async list(userId: string, options: ListTodosOptions): Promise<TodoPage> {
    // One more than asked: whether it exists says whether there is a next page.
    const rows = await this.todos.list(userId, { ...options, limit: options.limit + 1 });
    const todos = rows.slice(0, options.limit);
    const last = todos.at(-1);
    return {
      todos,
      next: rows.length > options.limit && last ? cursorAfter(last) : null,
    };
  }

  async create(userId: string, input: NewTodo): Promise<TodoRecord> {
    // The owner comes from the verified token only; the DTO has no field that could set it.
    const { maxPerUser } = this.config.todos;
    const todo = await this.todos.insertWithinLimit(userId, maxPerUser, input);
    if (!todo) throw new TodoLimitReachedException(maxPerUser);
    return todo;
  }

  async findOne(userId: string, id: string): Promise<TodoRecord> {
    const todo = await this.todos.findById(userId, id);
    if (!todo) throw new TodoNotFoundException();
    return todo;
  }

  /** Applies the changes; with If-Match, only if the todo is still at a named version (atomically). */
  async update(
    userId: string,
    id: string,
    changes: TodoChanges,
    precondition?: VersionPrecondition,
  ): Promise<TodoRecord> {
    const versions = expectedVersions(precondition);
    if (versions?.length === 0) throw await this.whyUnchanged(userId, id);
    const todo = await this.todos.update(userId, id, changes, versions);
    if (!todo) throw await this.whyUnchanged(userId, id);
    return todo;
  }

  /** Deletes the todo; with If-Match, only if it is still at a named version (atomically). */
  async remove(userId: string, id: string, precondition?: VersionPrecondition): Promise<void> {
    const versions = expectedVersions(precondition);
    if (versions?.length === 0) throw await this.whyUnchanged(userId, id);
    if (!(await this.todos.delete(userId, id, versions))) throw await this.whyUnchanged(userId, id);
  }

  /** After a write matched no row: 412 if the caller's todo exists (at another version), else 404. */
  private async whyUnchanged(userId: string, id: string): Promise<Error> {
    return (await this.todos.exists(userId, id))
      ? new TodoVersionMismatchException()
      : new TodoNotFoundException();
  }
}

/** undefined: no precondition; []: none of the named versions can match. */
function expectedVersions(precondition: VersionPrecondition | undefined): number[] | undefined {
  return precondition?.kind === 'versions' ? precondition.versions : undefined;
}
