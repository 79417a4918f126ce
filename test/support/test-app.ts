import { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { createApp } from '../../src/app.setup';
import { validateEnv } from '../../src/config/env.validation';
import { HttpClient } from './http';
import { LogReader } from './logs';
import { testAppEnv } from './test-env';

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  /** An anonymous client for this app; `.as(token)` for a signed-in one. */
  http: HttpClient;
  /** Every log line the app wrote. */
  logs: LogReader;
  close(): Promise<void>;
}

/**
 * Starts the real app (createApp, as `npm start` does) on a free loopback port against the
 * test database, with the given environment on top of the test defaults. Logs are captured.
 */
export async function startTestApp(env: Record<string, string>): Promise<TestApp> {
  const config = validateEnv(testAppEnv(env));
  const logs = new LogReader();
  const logger = pino(
    { level: config.logLevel, formatters: { level: (label) => ({ level: label }) } },
    { write: (line: string) => logs.write(line) },
  );
  const app = await createApp(config, { logger });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = await app.getUrl();
  return { app, url, http: new HttpClient(url), logs, close: () => app.close() };
}
