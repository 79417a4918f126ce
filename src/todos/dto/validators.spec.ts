import fc from 'fast-check';
import { validateSync } from 'class-validator';
import { codePointLength, HasCodePointLength, IsStorableText } from './validators';

class Sample {
  @HasCodePointLength(1, 3)
  @IsStorableText()
  value!: unknown;
}

function errorsFor(value: unknown): string[] {
  const sample = Object.assign(new Sample(), { value });
  return validateSync(sample).flatMap((error) => Object.keys(error.constraints ?? {}));
}

describe('codePointLength', () => {
  it('counts what PostgreSQL counts: one per code point, whatever its UTF-16 length', () => {
    expect(codePointLength('')).toBe(0);
    expect(codePointLength('abc')).toBe(3);
    expect(codePointLength('\u{1F600}')).toBe(1);
    expect(codePointLength('\u2764\ufe0f')).toBe(2);
    expect(codePointLength('e\u0301')).toBe(2);
    expect(codePointLength('\u{1F468}\u200d\u{1F469}\u200d\u{1F467}')).toBe(5);
    expect(codePointLength('\ud800')).toBe(1);
    expect(codePointLength('\udc00\ud800')).toBe(2);
  });

  it('agrees with string iteration for any sequence of UTF-16 units', () => {
    const anyUnits = fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
      maxLength: 50,
    });
    fc.assert(
      fc.property(anyUnits, (value) => {
        expect(codePointLength(value)).toBe([...value].length);
      }),
    );
  });
});

describe('HasCodePointLength and IsStorableText', () => {
  it.each([['a'], ['\u{1F600}'.repeat(3)], ['e\u0301a']])('accept %p', (value) => {
    expect(errorsFor(value)).toEqual([]);
  });

  it.each([[''], ['abcd'], ['\u{1F600}'.repeat(4)], ['\u2764\ufe0f\u2764\ufe0f']])(
    'refuse the length of %p',
    (value) => {
      expect(errorsFor(value)).toEqual(['hasCodePointLength']);
    },
  );

  it.each([['a\u0000'], ['\ud83d'], ['a\udc00']])(
    'refuse text PostgreSQL cannot store: %p',
    (value) => {
      expect(errorsFor(value)).toEqual(['isStorableText']);
    },
  );

  it('leave non-strings to @IsString', () => {
    expect(errorsFor(42)).toEqual([]);
    expect(errorsFor(null)).toEqual([]);
  });
});
