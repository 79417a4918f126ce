import { ProblemException } from '../common/problem.exception';

/**
 * The todo does not exist, or belongs to someone else. Both get this exact answer: a 403 for
 * another user's todo would confirm that the id exists, leaking other users' data to guessers.
 */
export class TodoNotFoundException extends ProblemException {
  constructor() {
    super(404, 'Todo not found.');
  }
}

/**
 * The user already holds TODOS_MAX_PER_USER todos. 409 Conflict: the request is valid and the
 * caller may make it, but it conflicts with the current state of their collection, and they can
 * resolve that themselves (delete some, then retry). Not 403 (nothing about permission changes),
 * not 429 (waiting does not help), not 507 (a 5xx says the server is at fault and invites retries).
 */
export class TodoLimitReachedException extends ProblemException {
  constructor(readonly limit: number) {
    super(409, `You have reached the limit of ${limit} todos; delete some before creating more.`);
  }
}

/** If-Match named a version that is no longer current: someone changed the todo meanwhile. */
export class TodoVersionMismatchException extends ProblemException {
  constructor() {
    super(
      412,
      'The todo has changed since the version named in If-Match; GET it again for the current ETag.',
    );
  }
}
