import { jsonNestsDeeperThan } from './json-depth';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('jsonNestsDeeperThan', () => {
  it.each([
    ['a scalar', '42', 0],
    ['a flat object', '{"title":"x","completed":true}', 1],
    ['an object holding an array', '{"tags":["a","b"]}', 2],
    ['arrays at the limit', nested(32), 32],
    ['objects at the limit', nestedObjects(32), 32],
  ])('accepts %s (depth %i)', (_, text, depth) => {
    expect(jsonNestsDeeperThan(text, depth)).toBe(false);
    if (depth > 0) expect(jsonNestsDeeperThan(text, depth - 1)).toBe(true);
  });

  it('refuses arrays and objects one level past the limit', () => {
    expect(jsonNestsDeeperThan(nested(33), 32)).toBe(true);
    expect(jsonNestsDeeperThan(nestedObjects(33), 32)).toBe(true);
  });

  it('measures depth, not the number of siblings', () => {
    expect(jsonNestsDeeperThan(`[${'[],'.repeat(10_000)}[]]`, 2)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonNestsDeeperThan(JSON.stringify({ title: '[[[[{{{{' }), 1)).toBe(false);
    expect(jsonNestsDeeperThan(JSON.stringify({ title: 'say "[[[[" \\' }), 1)).toBe(false);
    expect(jsonNestsDeeperThan(JSON.stringify({ title: '\\', next: [[1]] }), 2)).toBe(true);
  });

  it('handles a 64 KiB body of brackets in one pass', () => {
    expect(jsonNestsDeeperThan(nested(32 * 1024), 32)).toBe(true);
  });
});
