import { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { createApp } from '../../src/app.setup';
import { validateEnv } from '../../src/config/env.validation';

export interface LogLine {
  level: string;
  msg?: string;
  requestId?: string;
  reason?: string;
  context?: string;
  [key: string]: unknown;
}

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  /** Every log line the app wrote, parsed. */
  logs: LogLine[];
  /** The raw log text, for "never logs the token" assertions. */
  rawLogs(): string;
  close(): Promise<void>;
}

/**
 * Starts the real app (createApp, as `npm start` does) on a free loopback port against the
 * test database, with the given environment on top of test defaults. Logs are captured.
 */
export async function startTestApp(env: Record<string, string>): Promise<TestApp> {
  const config = validateEnv({
    DATABASE_URL: requireDatabaseUrl(),
    MIGRATIONS_RUN: 'false',
    LOG_LEVEL: 'info',
    ...env,
  });
  const raw: string[] = [];
  const logs: LogLine[] = [];
  const logger = pino(
    { level: config.logLevel, formatters: { level: (label) => ({ level: label }) } },
    {
      write(line: string) {
        raw.push(line);
        logs.push(JSON.parse(line) as LogLine);
      },
    },
  );
  const app = await createApp(config, { logger });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    url: await app.getUrl(),
    logs,
    rawLogs: () => raw.join(''),
    close: () => app.close(),
  };
}

function requireDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: the e2e global setup did not run');
  return url;
}
