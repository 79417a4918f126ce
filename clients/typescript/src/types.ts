import type { components } from './schema';

type Schemas = components['schemas'];

/** A todo as the API returns it. */
export type Todo = Schemas['Todo'];
/** One page of todos; `nextCursor` is null on the last page. */
export type TodoPage = Schemas['TodoPage'];
/** The body of createTodo. */
export type CreateTodo = Schemas['CreateTodo'];
/** The body of updateTodo: any of its fields. */
export type UpdateTodo = Schemas['UpdateTodo'];
/** The caller, as the token describes them. */
export type Profile = Schemas['Profile'];
/** Every error the API answers: RFC 9457 problem details. */
export type Problem = Schemas['Problem'];
/** One entry of a validation problem's `errors`. */
export type FieldError = Schemas['FieldError'];
