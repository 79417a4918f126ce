import type { Problem } from './types';

/** Whether a value is a problem+json body as the API sends it. */
export function isProblem(value: unknown): value is Problem {
  const candidate = value as Partial<Problem> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.status === 'number' &&
    typeof candidate.title === 'string' &&
    typeof candidate.detail === 'string'
  );
}

/** A validation problem's messages by field (`title`, `description`, …), first message first. */
export function fieldErrors(problem: Problem | undefined): Record<string, string[]> {
  const byField: Record<string, string[]> = {};
  for (const { field, message } of problem?.errors ?? []) {
    (byField[field] ??= []).push(message);
  }
  return byField;
}
