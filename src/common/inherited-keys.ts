/** Names every plain object inherits: `__proto__`, `constructor`, `toString`, `hasOwnProperty`, … */
const INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * The top-level keys of a parsed query or JSON body that are named after Object.prototype
 * members. class-transformer skips such keys (they already hold a function, or `__proto__` hits
 * the setter), so the ValidationPipe's whitelist never sees them and `?constructor=1` or
 * `{"title":"x","toString":1}` passed as valid; no DTO field can have these names, so the
 * request is refused instead (test/todos-fuzz.e2e-spec.ts found it).
 */
export function inheritedKeys(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.keys(value).filter((key) => INHERITED.has(key));
}
