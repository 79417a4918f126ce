import { constants, createHmac, KeyObject, sign } from 'node:crypto';

/**
 * Low-level JWS building blocks for the attacker-side tests: they assemble compact tokens byte
 * by byte so a test can put anything (malformed JSON, a foreign algorithm, a forged signature)
 * into any segment, which a JWT library would refuse to produce.
 */

export function b64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64url');
}

/** base64url(JSON) of a value, or a string that is already a segment. */
export function segment(value: unknown): string {
  return typeof value === 'string' ? value : b64url(JSON.stringify(value));
}

export function decodeSegment(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Signs a JWS signing input the way `alg` prescribes, with node:crypto (no JOSE library). */
export function signInput(alg: string, key: KeyObject, input: string | Uint8Array): Buffer {
  const data = Buffer.from(input);
  switch (alg) {
    case 'EdDSA':
    case 'Ed25519':
      return sign(null, data, key);
    case 'ES256':
    case 'ES384':
    case 'ES512':
      return sign(`sha${alg.slice(2)}`, data, { key, dsaEncoding: 'ieee-p1363' });
    case 'RS256':
    case 'RS384':
    case 'RS512':
      return sign(`sha${alg.slice(2)}`, data, key);
    case 'PS256':
    case 'PS384':
    case 'PS512':
      return sign(`sha${alg.slice(2)}`, data, {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: Number(alg.slice(2)) / 8,
      });
    default:
      throw new Error(`signInput: unsupported alg ${alg}`);
  }
}

/** HMAC as HS256/384/512 compute it, keyed with arbitrary bytes (e.g. a public key's PEM). */
export function hmac(alg: 'HS256' | 'HS384' | 'HS512', secret: string | Uint8Array, input: string) {
  return createHmac(`sha${alg.slice(2)}`, secret)
    .update(input)
    .digest();
}

/**
 * A compact token from a header and payload (objects are JSON-encoded, strings are taken as
 * ready-made segments) and a signer that gets the signing input; without a signer the signature
 * segment is empty.
 */
export function compact(
  header: unknown,
  payload: unknown,
  signer?: (signingInput: string) => Uint8Array | string,
): string {
  const input = `${segment(header)}.${segment(payload)}`;
  const signature = signer ? signer(input) : '';
  return `${input}.${typeof signature === 'string' ? signature : b64url(signature)}`;
}
