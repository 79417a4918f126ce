import { randomBytes, randomInt } from 'node:crypto';
import { BetterAuthIssuer } from '../../test/support/better-auth-issuer';

export interface BenchUser {
  id: string;
  email: string;
  name: string;
  token: string;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Better Auth's user ids: 32 random alphanumeric characters, not UUIDs (SPEC §2). */
function betterAuthId(): string {
  let id = '';
  for (let i = 0; i < 32; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/**
 * Users with real tokens, signed by Better Auth's own signJWT with the issuer's current key and
 * the payload its `/api/auth/token` endpoint would put in them (the whole user object plus
 * `sub`, `iat`; Better Auth adds `exp` (15 min), `iss` and `aud`). No sign-up: that would spend
 * the benchmark's time hashing passwords.
 */
export class BenchUsers {
  readonly users: BenchUser[];
  private mintedAt = 0;

  private constructor(
    private readonly issuer: BetterAuthIssuer,
    count: number,
  ) {
    this.users = Array.from({ length: count }, (_, i) => {
      const id = betterAuthId();
      return {
        id,
        email: `bench-${i}-${id.slice(0, 6)}@example.com`,
        name: `Bench User ${i}`,
        token: '',
      };
    });
  }

  static async create(issuer: BetterAuthIssuer, count: number): Promise<BenchUsers> {
    const users = new BenchUsers(issuer, count);
    await users.mint();
    return users;
  }

  /** Tokens live 15 minutes; a long run re-mints them (as clients refresh) before they expire. */
  async refreshIfOlderThan(ageMs: number): Promise<boolean> {
    if (Date.now() - this.mintedAt < ageMs) return false;
    await this.mint();
    return true;
  }

  private async mint(): Promise<void> {
    const createdAt = new Date().toISOString();
    for (const user of this.users) {
      user.token = await this.issuer.signPayload({
        iat: Math.floor(Date.now() / 1000),
        id: user.id,
        name: user.name,
        email: user.email,
        emailVerified: true,
        createdAt,
        updatedAt: createdAt,
        sub: user.id,
      });
    }
    this.mintedAt = Date.now();
  }
}

/** Tokens shaped like the users' ones but naming a key id the JWKS has never held. */
export function unknownKidTokens(template: string, count: number): string[] {
  const [headerPart, payloadPart] = template.split('.');
  const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString()) as object;
  return Array.from({ length: count }, () => {
    const forged = Buffer.from(
      JSON.stringify({ ...header, kid: randomBytes(16).toString('base64url') }),
    ).toString('base64url');
    return `${forged}.${payloadPart}.${randomBytes(64).toString('base64url')}`;
  });
}

/**
 * Real tokens with the last signature bytes changed: known `kid`, valid claims, bad signature, so
 * every one costs the API a full signature check (and, being new bytes, is a token-cache miss).
 */
export function badSignatureTokens(valid: string[], count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const [header, payload, signature] = valid[i % valid.length].split('.');
    const bytes = Buffer.from(signature, 'base64url');
    bytes.writeUInt32BE((bytes.readUInt32BE(bytes.length - 8) ^ (i + 1)) >>> 0, bytes.length - 8);
    return `${header}.${payload}.${bytes.toString('base64url')}`;
  });
}
