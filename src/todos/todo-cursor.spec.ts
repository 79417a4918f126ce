import fc from 'fast-check';
import { decodeTodoCursor, encodeTodoCursor } from './todo-cursor';

describe('todo cursor', () => {
  const id = '0b9f4a53-2f6c-4c55-9a43-7d3e5f7c1a20';

  it('round-trips any millisecond instant up to year 9999 and any UUID', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), fc.uuid(), (millis, uuid) => {
        const cursor = { createdAt: new Date(millis), id: uuid };
        expect(decodeTodoCursor(encodeTodoCursor(cursor))).toEqual(cursor);
      }),
    );
  });

  it('is opaque URL-safe text', () => {
    const encoded = encodeTodoCursor({ createdAt: new Date('2026-01-31T09:30:00.123Z'), id });
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(encoded).not.toContain(id);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['another format', Buffer.from('{"offset":20}').toString('base64url')],
    ['an unknown version', Buffer.from(`v2.1769851800000.${id}`).toString('base64url')],
    ['a bad id', Buffer.from('v1.1769851800000.zzz').toString('base64url')],
    ['an uppercase id', Buffer.from(`v1.1769851800000.${id.toUpperCase()}`).toString('base64url')],
    ['a negative time', Buffer.from(`v1.-5.${id}`).toString('base64url')],
    ['a time past year 9999', Buffer.from(`v1.253402300800000.${id}`).toString('base64url')],
    ['trailing bytes', Buffer.from(`v1.1769851800000.${id}\n`).toString('base64url')],
    ['over 128 characters', 'A'.repeat(129)],
  ])('refuses %s', (_, value) => {
    expect(decodeTodoCursor(value)).toBeUndefined();
  });

  it('refuses a second spelling of the same bytes', () => {
    const encoded = encodeTodoCursor({ createdAt: new Date(1769851800000), id });
    // The last base64url character carries unused low bits: flipping them decodes the same.
    const last = encoded.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1];
    const variant = encoded.slice(0, -1) + sibling;
    expect(Buffer.from(variant, 'base64url')).toEqual(Buffer.from(encoded, 'base64url'));
    expect(decodeTodoCursor(variant)).toBeUndefined();
  });
});
