import { BenchUser } from './tokens';

export interface SeededTodos {
  /** For each seeded user (the first N bench users), the ids of their todos. */
  byUser: { user: BenchUser; todoIds: string[] }[];
  total: number;
  ms: number;
}

const SEED_CONCURRENCY = 16;

/** What the app answered when the todos API is not there yet (so todo scenarios are skipped). */
export class TodosApiMissingError extends Error {}

/**
 * Creates each seeded user's todos through the API (POST /api/todos, SPEC §5), as clients would,
 * so the data matches whatever the app's schema is. Bounded: one request per todo, fixed count.
 */
export async function seedTodos(
  appUrl: string,
  users: BenchUser[],
  todosPerUser: number,
): Promise<SeededTodos> {
  const startedAt = Date.now();
  const byUser = users.map((user) => ({ user, todoIds: [] as string[] }));
  const jobs: { userIndex: number; n: number }[] = [];
  for (let n = 0; n < todosPerUser; n++) {
    for (let userIndex = 0; userIndex < users.length; userIndex++) jobs.push({ userIndex, n });
  }
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < jobs.length) {
      const { userIndex, n } = jobs[next++];
      const { user, todoIds } = byUser[userIndex];
      const response = await fetch(`${appUrl}/api/todos`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          title: `Seeded todo ${n + 1} of ${user.name}`,
          description: n % 2 === 0 ? 'Seeded by npm run bench' : null,
          completed: n % 3 === 0,
        }),
      });
      const text = await response.text();
      if (response.status === 404 || response.status === 405) {
        throw new TodosApiMissingError(`POST /api/todos answered ${response.status}`);
      }
      if (response.status !== 201) {
        throw new Error(
          `seeding: POST /api/todos answered ${response.status}: ${text.slice(0, 300)}`,
        );
      }
      todoIds.push((JSON.parse(text) as { id: string }).id);
    }
  };
  const stopOthersOnFailure = () =>
    worker().catch((error: unknown) => {
      failed = true;
      throw error;
    });
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, stopOthersOnFailure));
  return { byUser, total: jobs.length, ms: Date.now() - startedAt };
}
