import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { AppConfigService } from '../config/app-config.service';
import { MetricsServerStartError } from './metrics.errors';
import { MetricsService } from './metrics.service';

/**
 * Serves GET /metrics on METRICS_PORT, a server of its own: metrics reveal traffic and internals,
 * so they are never reachable on the public port, and the network (a NetworkPolicy, a firewall)
 * can open this one to Prometheus alone. It listens during bootstrap, before the API does.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server: Server | undefined;

  constructor(
    private readonly config: AppConfigService,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.metrics.enabled) return;
    const { port, host } = this.config.metrics;
    const server = createServer((request, response) => void this.answer(request, response));
    // A scraper holds one kept-alive connection; idle ones must not stall the shutdown.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new MetricsServerStartError(host, port, error)),
      );
      server.listen({ port, host }, resolve);
    });
    this.server = server;
    this.logger.log(`Metrics on http://${formatAddress(server.address() as AddressInfo)}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '').split('?', 1)[0];
    if (path !== '/metrics') return plain(response, 404, 'Not found: metrics are at /metrics.\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return plain(response, 405, 'Method not allowed.\n');
    }
    try {
      const body = await this.metrics.exposition();
      response.writeHead(200, { 'content-type': this.metrics.contentType });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch (error) {
      this.logger.error(error instanceof Error ? error : String(error));
      plain(response, 500, 'Collecting the metrics failed.\n');
    }
  }
}

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(text);
}

function formatAddress({ address, family, port }: AddressInfo): string {
  return family === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`;
}
