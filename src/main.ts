import 'reflect-metadata';
import { ConfigValidationError } from './config/env.validation';
import { loadAppConfig } from './config/load-config';

async function bootstrap(): Promise<void> {
  const startedAt = performance.now();
  const config = loadConfigOrExit();
  // The app is imported only now, after tracing has started: OpenTelemetry's instrumentations patch
  // http, Fastify and pg as they are first loaded, so they must be in place before the app loads
  // them. A preload (`node --require`) would do the same but change every start command; this way
  // `node dist/src/main.js` stays the one command, and with tracing off no OpenTelemetry module is
  // ever loaded.
  const tracing = config.tracing.otlpEndpoint
    ? (await import('./tracing.js')).startTracing(config)
    : undefined;
  const { createApp } = await import('./app.setup.js');
  const app = await createApp(config, { tracing });
  await app.listen({ port: config.http.port, host: config.http.host });
  app
    .getHttpAdapter()
    .getInstance()
    .log.info(
      {
        url: await app.getUrl(),
        startupMs: Math.round(performance.now() - startedAt),
        tracing: tracing !== undefined,
      },
      'Todo API listening',
    );
}

function loadConfigOrExit() {
  try {
    return loadAppConfig();
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      for (const problem of error.problems) console.error(`Configuration error: ${problem}`);
      process.exit(1);
    }
    throw error;
  }
}

bootstrap().catch((error: unknown) => {
  console.error('Startup failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
