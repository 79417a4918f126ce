import { STATUS_CODES } from 'node:http';
import { FieldError, ProblemException } from './problem.exception';

/** The fields of every problem+json body, as the global filter writes them. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  errors?: FieldError[];
}

/** One named example of an error response, as OpenAPI's Example Object. */
export interface ProblemExample {
  summary: string;
  value: ProblemBody;
}

/** The uuid the examples use for `{id}` in a path, and as their request id. */
export const EXAMPLE_TODO_ID = '0b6f4a5e-6c1d-4d8a-9a57-3e2f1c9d8b7a';
const EXAMPLE_REQUEST_ID = '5f1c2d3e-4b5a-4697-8a8b-9c0d1e2f3a4b';

/**
 * The body the filter answers with, for a status, a detail and optional field errors. The filter
 * and the OpenAPI examples share it, so an example shows exactly what a client receives.
 */
export function problemBody(
  status: number,
  detail: string,
  instance: string,
  requestId: string,
  errors?: readonly FieldError[],
): ProblemBody {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    instance,
    requestId,
    ...(errors ? { errors: [...errors] } : {}),
  };
}

/** A concrete request path for a templated one: `/api/todos/{id}` becomes a real-looking URL. */
export function exampleInstance(path: string): string {
  return path.replace(/\{[^}]+\}/g, EXAMPLE_TODO_ID);
}

/**
 * An example built from the exception a feature really throws (its status, detail and field
 * errors), so the documented answer cannot drift from the answer sent.
 */
export function problemExample(
  summary: string,
  error: ProblemException | { status: number; detail: string },
  path: string,
): ProblemExample {
  const value =
    error instanceof ProblemException
      ? problemBody(
          error.getStatus(),
          error.message,
          exampleInstance(path),
          EXAMPLE_REQUEST_ID,
          error.fieldErrors,
        )
      : problemBody(error.status, error.detail, exampleInstance(path), EXAMPLE_REQUEST_ID);
  return { summary, value };
}
