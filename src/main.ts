import 'reflect-metadata';
import { createApp } from './app.setup';
import { ConfigValidationError } from './config/env.validation';
import { loadAppConfig } from './config/load-config';

async function bootstrap(): Promise<void> {
  const startedAt = performance.now();
  const config = loadConfigOrExit();
  const app = await createApp(config);
  await app.listen({ port: config.http.port, host: config.http.host });
  app
    .getHttpAdapter()
    .getInstance()
    .log.info(
      { url: await app.getUrl(), startupMs: Math.round(performance.now() - startedAt) },
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
