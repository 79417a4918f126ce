import { writeFile } from 'node:fs/promises';
import { createApp } from '../src/app.setup';
import { validateEnv } from '../src/config/env.validation';
import {
  CLIENT_SCHEMA_FILE,
  OPENAPI_FILE,
  renderClientSchema,
  renderOpenApiJson,
} from './openapi-files';

/**
 * `npm run openapi`: writes openapi.json, the document GET /docs/json serves under the default
 * configuration, and the TypeScript client's types generated from it. The app is built in
 * preview mode, so no database or key server is needed.
 */
async function main(): Promise<void> {
  const app = await createApp(validateEnv({ LOG_LEVEL: 'silent' }), { preview: true });
  // Asked over (injected) HTTP, so the file is exactly what the running app serves.
  const reply = await app.getHttpAdapter().getInstance().inject({ url: '/docs/json' });
  await app.close();
  if (reply.statusCode !== 200) throw new Error(`GET /docs/json answered ${reply.statusCode}`);
  await writeFile(OPENAPI_FILE, await renderOpenApiJson(reply.body));
  await writeFile(CLIENT_SCHEMA_FILE, await renderClientSchema(JSON.parse(reply.body)));
  console.log(`Wrote ${OPENAPI_FILE} and ${CLIENT_SCHEMA_FILE}`);
}

main().catch((error: unknown) => {
  console.error('openapi failed:', error);
  process.exit(1);
});
