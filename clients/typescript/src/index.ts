export type { components, operations, paths } from './schema';
export type { CreateTodo, FieldError, Problem, Profile, Todo, TodoPage, UpdateTodo } from './types';
