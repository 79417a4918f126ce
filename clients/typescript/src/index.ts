export {
  bearerAuth,
  type BearerAuth,
  type BearerAuthOptions,
  isTokenExpired,
  retryAfterMs,
} from './bearer-auth';
export { createTodoApiClient, type TodoApiClient, type TodoApiClientOptions } from './client';
export { fieldErrors, isProblem } from './problem';
export type { components, operations, paths } from './schema';
export type { GetToken } from './token-source';
export type { CreateTodo, FieldError, Problem, Profile, Todo, TodoPage, UpdateTodo } from './types';
