import { generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { compact, signInput } from './jws';

/** How the JWKS endpoint answers; every behaviour is a way a real key server can fail. */
export type JwksBehaviour =
  /** 200 with the current key set, optionally after a delay. */
  | { kind: 'ok'; delayMs?: number }
  /** The key set, but only after `delayMs` (longer than the app's JWKS_TIMEOUT_MS). */
  | { kind: 'slow-headers'; delayMs: number }
  /** Headers and the first bytes at once, the rest of the body after `delayMs`. */
  | { kind: 'slow-body'; delayMs: number }
  /** The key set as the body, but with this status. */
  | { kind: 'status'; status: number }
  /** Any fixed body (HTML, broken JSON, JSON without a `keys` array, …). */
  | { kind: 'body'; body: string; contentType: string }
  /** The key set padded with whitespace to more than `bytes` (valid JSON when read in full). */
  | { kind: 'huge'; bytes: number; declareLength: boolean }
  /** 302 to the second endpoint of this server, which serves the key set (and is counted). */
  | { kind: 'redirect' };

/**
 * A JWKS endpoint the test controls: it serves a key set the test can change, switches between
 * failure behaviours, and counts the requests it receives (and how many overlap), so tests can
 * assert how often the app fetched. Not Better Auth: a fault injector with real Ed25519 keys.
 */
export class JwksServer {
  private behaviour: JwksBehaviour = { kind: 'ok' };
  private keys: object[] = [];
  private inFlight = 0;
  private readonly sockets = new Set<Socket>();
  /** Requests to the JWKS path. */
  requests = 0;
  /** Requests to the redirect target (must stay 0: redirects are not followed). */
  redirectTargetRequests = 0;
  /** The most JWKS requests that were open at the same time. */
  maxConcurrent = 0;

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<JwksServer> {
    const holder: { self?: JwksServer } = {};
    const server = createServer((req, res) => holder.self?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const self = new JwksServer(server, `http://127.0.0.1:${port}`);
    server.on('connection', (socket) => {
      self.sockets.add(socket);
      socket.on('close', () => self.sockets.delete(socket));
    });
    holder.self = self;
    return self;
  }

  get url(): string {
    return `${this.origin}/jwks`;
  }

  setKeys(keys: object[]): void {
    this.keys = keys;
  }

  behave(behaviour: JwksBehaviour): void {
    this.behaviour = behaviour;
  }

  resetCounters(): void {
    this.requests = 0;
    this.redirectTargetRequests = 0;
    this.maxConcurrent = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private document(): string {
    return JSON.stringify({ keys: this.keys });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    res.on('error', () => undefined);
    if (req.url === '/elsewhere') {
      this.redirectTargetRequests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(this.document());
      return;
    }
    if (req.url !== '/jwks') {
      res.writeHead(404).end();
      return;
    }
    this.requests += 1;
    this.inFlight += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.inFlight);
    res.on('close', () => {
      this.inFlight -= 1;
    });
    const behaviour = this.behaviour;
    const json = { 'content-type': 'application/json' };
    switch (behaviour.kind) {
      case 'ok':
        later(behaviour.delayMs ?? 0, () => res.writeHead(200, json).end(this.document()));
        return;
      case 'slow-headers':
        later(behaviour.delayMs, () => res.writeHead(200, json).end(this.document()));
        return;
      case 'slow-body': {
        const body = this.document();
        res.writeHead(200, json);
        res.write(body.slice(0, 5));
        later(behaviour.delayMs, () => res.end(body.slice(5)));
        return;
      }
      case 'status':
        res.writeHead(behaviour.status, json).end(this.document());
        return;
      case 'body':
        res.writeHead(200, { 'content-type': behaviour.contentType }).end(behaviour.body);
        return;
      case 'huge':
        streamHuge(res, this.document(), behaviour.bytes, behaviour.declareLength);
        return;
      case 'redirect':
        res.writeHead(302, { location: `${this.origin}/elsewhere` }).end();
        return;
    }
  }
}

function later(ms: number, action: () => void): void {
  if (ms <= 0) action();
  else setTimeout(action, ms).unref();
}

/** `{"keys":[…]` + whitespace + `}`: valid JSON of more than `bytes`, written in 64 KiB chunks. */
function streamHuge(res: ServerResponse, document: string, bytes: number, declareLength: boolean) {
  const head = document.slice(0, -1);
  const tail = '}';
  const padding = Math.max(0, bytes + 1 - head.length - tail.length);
  res.writeHead(200, {
    'content-type': 'application/json',
    ...(declareLength ? { 'content-length': String(head.length + padding + tail.length) } : {}),
  });
  res.write(head);
  const chunk = ' '.repeat(64 * 1024);
  let left = padding;
  const pump = (): void => {
    while (left > 0 && !res.destroyed) {
      const size = Math.min(left, chunk.length);
      left -= size;
      if (!res.write(size === chunk.length ? chunk : chunk.slice(0, size))) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end(tail);
  };
  pump();
}

export type TestKeyType = 'Ed25519' | 'P-256' | 'P-384';

/** A real key pair for the fault-injecting JWKS server, and tokens signed with it. */
export class TestSigningKey {
  private constructor(
    readonly kid: string,
    readonly alg: 'EdDSA' | 'ES256' | 'ES384',
    readonly privateKey: KeyObject,
    readonly publicKey: KeyObject,
  ) {}

  static generate(type: TestKeyType = 'Ed25519', kid = `kid-${randomUUID()}`): TestSigningKey {
    if (type === 'Ed25519') {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      return new TestSigningKey(kid, 'EdDSA', privateKey, publicKey);
    }
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: type });
    return new TestSigningKey(kid, type === 'P-256' ? 'ES256' : 'ES384', privateKey, publicKey);
  }

  /** The public JWK as a JWKS would serve it (with `kid`, `alg` and `use: sig` unless overridden). */
  jwk(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      ...this.publicKey.export({ format: 'jwk' }),
      kid: this.kid,
      alg: this.alg,
      use: 'sig',
      ...overrides,
    };
  }

  /** A token signed by this key; `header` may replace `alg`/`kid` (the signature follows `signAs`). */
  sign(
    claims: Record<string, unknown>,
    header: Record<string, unknown> = {},
    signAs: string = this.alg,
  ): string {
    return compact({ alg: this.alg, kid: this.kid, ...header }, claims, (input) =>
      signInput(signAs, this.privateKey, input),
    );
  }
}

/** Claims a Better Auth token would carry, for an app configured with `issuer`/`audience`. */
export function claims(
  issuer: string,
  audience: string,
  sub: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { sub, iss: issuer, aud: audience, iat: now, exp: now + 900, ...extra };
}
