import { RequestValidationException } from '../common/common.errors';

/**
 * ETags are strong and carry the row's version: `"3"`. Strong because If-Match must use strong
 * comparison (RFC 9110 §13.1.1) and a given version always has the same representation (every
 * change bumps it). The version, not a hash of the body, so the If-Match check is a plain
 * `version = $n` inside the UPDATE/DELETE statement: atomic, with no read before the write.
 */
export function formatEtag(version: number): string {
  return `"${version}"`;
}

/** What an If-Match header asks for: any current version (`*`), or one of these versions. */
export type VersionPrecondition = { kind: 'any' } | { kind: 'versions'; versions: number[] };

interface EntityTag {
  weak: boolean;
  opaque: string;
}

/**
 * Parses If-Match. Absent: no precondition. Tags that are weak, or not one of our versions, can
 * never match (strong comparison), so they are dropped and a list of only such tags leaves no
 * version: the request then fails with 412 if the todo exists. A header that is not an
 * entity-tag list at all is a client bug worth naming: 400.
 */
export function parseIfMatch(header: string | undefined): VersionPrecondition | undefined {
  if (header === undefined) return undefined;
  const tags = parseEntityTags(header);
  if (tags === undefined) {
    throw new RequestValidationException([
      {
        field: 'If-Match',
        message: 'If-Match must be * or a list of entity tags such as "3", as sent in ETag',
      },
    ]);
  }
  if (tags === '*') return { kind: 'any' };
  const versions = tags
    .filter((tag) => !tag.weak && /^[1-9]\d{0,8}$/.test(tag.opaque))
    .map((tag) => Number(tag.opaque));
  return { kind: 'versions', versions };
}

/**
 * Whether If-None-Match matches the current version (weak comparison, RFC 9110 §13.1.2), so a
 * GET may answer 304. A malformed header is ignored: the full response is always a safe answer.
 */
export function ifNoneMatchMatches(header: string | undefined, version: number): boolean {
  if (header === undefined) return false;
  const tags = parseEntityTags(header);
  if (tags === undefined) return false;
  return tags === '*' || tags.some((tag) => tag.opaque === String(version));
}

/** `*`, or a comma-separated list of entity tags (RFC 9110 §8.8.3); undefined when malformed. */
function parseEntityTags(header: string): '*' | EntityTag[] | undefined {
  const value = header.trim();
  if (value === '*') return '*';
  const tags: EntityTag[] = [];
  let i = 0;
  while (i < value.length) {
    const weak = value.startsWith('W/', i);
    if (weak) i += 2;
    if (value[i] !== '"') return undefined;
    const end = value.indexOf('"', i + 1);
    if (end === -1) return undefined;
    const opaque = value.slice(i + 1, end);
    // etagc = %x21 / %x23-7E / obs-text
    if (!/^[\x21\x23-\x7e\x80-\xff]*$/.test(opaque)) return undefined;
    tags.push({ weak, opaque });
    i = end + 1;
    while (value[i] === ' ' || value[i] === '\t') i++;
    if (i === value.length) break;
    if (value[i] !== ',') return undefined;
    i++;
    while (value[i] === ' ' || value[i] === '\t' || value[i] === ',') i++;
  }
  return tags.length > 0 ? tags : undefined;
}
