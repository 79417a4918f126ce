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

/** If-Match named a version that is no longer current: someone changed the todo meanwhile. */
export class TodoVersionMismatchException extends ProblemException {
  constructor() {
    super(
      412,
      'The todo has changed since the version named in If-Match; GET it again for the current ETag.',
    );
  }
}
