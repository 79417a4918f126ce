import { inheritedKeys } from './inherited-keys';

describe('inheritedKeys', () => {
  it('finds keys named after Object.prototype members', () => {
    const body = JSON.parse('{"title":"x","constructor":1,"toString":"y","hasOwnProperty":{}}');
    expect(inheritedKeys(body)).toEqual(['constructor', 'toString', 'hasOwnProperty']);
  });

  it('finds an own __proto__ key (as a query string parser produces it)', () => {
    const query = Object.create(null) as Record<string, string>;
    Object.defineProperty(query, '__proto__', { value: '1', enumerable: true });
    query.limit = '5';
    expect(inheritedKeys(query)).toEqual(['__proto__']);
  });

  it('accepts ordinary keys, and values that are not objects', () => {
    expect(inheritedKeys({ title: 'x', description: null, completed: true })).toEqual([]);
    expect(inheritedKeys({ constructorName: 1, proto: 2 })).toEqual([]);
    for (const value of [undefined, null, 'constructor', 42, ['constructor']]) {
      expect(inheritedKeys(value)).toEqual([]);
    }
  });
});
