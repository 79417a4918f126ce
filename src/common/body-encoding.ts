import { IncomingHttpHeaders } from 'node:http';
import { UnsupportedCharsetException, UnsupportedContentEncodingException } from './common.errors';
import { ProblemException } from './problem.exception';

/** Labels that mean UTF-8 (the WHATWG Encoding Standard's `utf8` alias included), lower case. */
const UTF8_LABELS: ReadonlySet<string> = new Set(['utf-8', 'utf8']);

/**
 * Why a request's body cannot be read as UTF-8 JSON, judged on its headers alone so the body is
 * refused before a byte of it is read: a content coding other than `identity`, or a `charset`
 * other than UTF-8 (several `charset` parameters are refused too: they contradict each other).
 * A request without a body is not judged.
 */
export function unreadableBody(headers: IncomingHttpHeaders): ProblemException | undefined {
  if (!hasBody(headers)) return undefined;
  const coding = headers['content-encoding'];
  if (coding !== undefined && !onlyIdentity(coding)) {
    return new UnsupportedContentEncodingException();
  }
  const type = headers['content-type'];
  if (type !== undefined) {
    const charsets = charsetsOf(type);
    if (charsets.length > 1 || charsets.some((charset) => !UTF8_LABELS.has(charset))) {
      return new UnsupportedCharsetException();
    }
  }
  return undefined;
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** `identity`, or a list of nothing else (Node joins repeated header lines with commas). */
function onlyIdentity(value: string): boolean {
  return value
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .every((item) => item === '' || item === 'identity');
}

/** Every `charset` parameter's value, unquoted and lower-cased (`""` for an empty one). */
function charsetsOf(contentType: string): string[] {
  const charsets: string[] = [];
  for (const parameter of contentType.split(';').slice(1)) {
    const equals = parameter.indexOf('=');
    const name = (equals === -1 ? parameter : parameter.slice(0, equals)).trim().toLowerCase();
    if (name !== 'charset') continue;
    let value = equals === -1 ? '' : parameter.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    charsets.push(value.toLowerCase());
  }
  return charsets;
}
