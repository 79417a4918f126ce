import { isoFromUtcText } from './todos.repository';

describe('isoFromUtcText', () => {
  it.each([
    ['2026-01-31 09:30:00', '2026-01-31T09:30:00.000Z'],
    ['2026-01-31 09:30:00.5', '2026-01-31T09:30:00.500Z'],
    ['2026-01-31 09:30:00.25', '2026-01-31T09:30:00.250Z'],
    ['2026-12-31 23:59:59.999', '2026-12-31T23:59:59.999Z'],
  ])('writes %s as toISOString would', (text, iso) => {
    expect(isoFromUtcText(text)).toBe(iso);
    expect(new Date(iso).toISOString()).toBe(iso);
  });

  it.each([
    ['another DateStyle', '01/31/2026 09:30:00.125'],
    ['a year past 9999', '12026-01-31 09:30:00.125'],
    ['an offset', '2026-01-31 09:30:00.125+00'],
    ['microseconds', '2026-01-31 09:30:00.123456'],
  ])('refuses %s instead of writing a wrong time', (_, text) => {
    expect(() => isoFromUtcText(text)).toThrow('unexpected timestamp text');
  });
});
