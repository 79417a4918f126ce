import type { TodoRecord } from './todo.record';

/**
 * The position after which the next page starts: the last todo of the previous page, in the
 * list's order (created_at DESC, id DESC). Keyset pagination: a page is an index range scan from
 * here, whatever the depth, and todos inserted or deleted meanwhile neither repeat nor skip the
 * ones that remain.
 */
export interface TodoCursor {
  createdAt: Date;
  id: string;
}

/** The cursor of a page whose last todo is `todo`. */
export function cursorAfter(todo: Pick<TodoRecord, 'createdAt' | 'id'>): TodoCursor {
  return { createdAt: new Date(todo.createdAt), id: todo.id };
}

const CURSOR_PREFIX = 'v1';
const ENCODED = /^[A-Za-z0-9_-]{1,128}$/;
const DECODED = /^v1\.(\d{1,15})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
/** 9999-12-31T23:59:59.999Z: later instants do not round-trip through PostgreSQL's text form. */
const MAX_MILLIS = 253_402_300_799_999;

/**
 * Opaque to clients (base64url), versioned so the format can change. The time is whole
 * milliseconds, exactly what the timestamptz(3) column holds, so the comparison is exact.
 */
export function encodeTodoCursor(cursor: TodoCursor): string {
  return Buffer.from(`${CURSOR_PREFIX}.${cursor.createdAt.getTime()}.${cursor.id}`).toString(
    'base64url',
  );
}

/** The cursor, or undefined when `value` is not one this API issued. */
export function decodeTodoCursor(value: string): TodoCursor | undefined {
  if (!ENCODED.test(value)) return undefined;
  const match = DECODED.exec(Buffer.from(value, 'base64url').toString('latin1'));
  if (!match) return undefined;
  const millis = Number(match[1]);
  if (millis > MAX_MILLIS) return undefined;
  const cursor = { createdAt: new Date(millis), id: match[2] };
  // One spelling per cursor: base64url has several encodings of the same bytes.
  return encodeTodoCursor(cursor) === value ? cursor : undefined;
}
