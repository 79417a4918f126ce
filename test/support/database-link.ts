import { createServer, Server, Socket } from 'node:net';
import { testDatabaseUrl } from './test-env';

/**
 * A loopback TCP proxy in front of the test PostgreSQL. Taking it down is what the app sees when
 * the database goes away (refused connections, open ones cut), without stopping the database
 * the other suites share.
 */
export class DatabaseLink {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly target: { host: string; port: number },
    private listenPort: number,
  ) {}

  /** A link in front of the test database (TEST_DATABASE_URL). */
  static async toTestDatabase(): Promise<DatabaseLink> {
    const database = new URL(testDatabaseUrl());
    const link = new DatabaseLink({ host: database.hostname, port: Number(database.port) }, 0);
    await link.up();
    return link;
  }

  /** The test database's URL through this link (its port stays the same across down and up). */
  get url(): string {
    const database = new URL(testDatabaseUrl());
    database.hostname = '127.0.0.1';
    database.port = String(this.listenPort);
    return database.toString();
  }

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.listenPort, '127.0.0.1', resolve));
    this.listenPort = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Refuses new connections and cuts the open ones, as a database crash would. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
  }
}
