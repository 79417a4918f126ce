import { RequestValidationException } from '../common/common.errors';
import { formatEtag, ifNoneMatchMatches, parseIfMatch } from './todo-etag';

describe('formatEtag', () => {
  it('is a strong entity tag carrying the version', () => {
    expect(formatEtag(1)).toBe('"1"');
    expect(formatEtag(42)).toBe('"42"');
  });
});

describe('parseIfMatch', () => {
  it('is no precondition when the header is absent', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
  });

  it('reads * as "any current version"', () => {
    expect(parseIfMatch('*')).toEqual({ kind: 'any' });
    expect(parseIfMatch('  *  ')).toEqual({ kind: 'any' });
  });

  it.each([
    ['"3"', [3]],
    ['"3", "5"', [3, 5]],
    ['"3",\t"5" ,"7"', [3, 5, 7]],
    ['"3",', [3]],
    // Strong comparison: a weak tag never matches.
    ['W/"3"', []],
    ['W/"3", "4"', [4]],
    // Not a version this API issued: kept out, so it cannot match.
    ['"abc"', []],
    ['"03"', []],
    ['"0"', []],
    ['""', []],
    ['"1,2"', []],
    ['"9999999999"', []],
  ])('reads %s as versions %p', (header, versions) => {
    expect(parseIfMatch(header)).toEqual({ kind: 'versions', versions });
  });

  it.each([
    ['3'],
    ['"3'],
    ['W/3'],
    ['"3" "4"'],
    ['*, "3"'],
    [''],
    [' '],
    ['"a"b"'],
    ['"\u00e9\u0000"'],
  ])('refuses the malformed header %p with a 400 naming If-Match', (header) => {
    expect(() => parseIfMatch(header)).toThrow(RequestValidationException);
    try {
      parseIfMatch(header);
    } catch (error) {
      expect((error as RequestValidationException).fieldErrors).toEqual([
        { field: 'If-Match', message: expect.any(String) },
      ]);
    }
  });
});

describe('ifNoneMatchMatches', () => {
  it.each([
    ['"2"', true],
    ['W/"2"', true],
    ['"1", "2"', true],
    ['*', true],
    ['"1"', false],
    ['W/"1"', false],
    ['garbage', false],
  ])('%s against version 2 is %p (weak comparison)', (header, matches) => {
    expect(ifNoneMatchMatches(header, 2)).toBe(matches);
  });

  it('is false without the header', () => {
    expect(ifNoneMatchMatches(undefined, 2)).toBe(false);
  });
});
