import openapiTS, { astToString, COMMENT_HEADER, OpenAPI3 } from 'openapi-typescript';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { format, resolveConfig } from 'prettier';

/** The repository root, whether this runs from scripts/ (tests) or dist/scripts/ (npm run). */
function repositoryRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'nest-cli.json'))) {
    if (dirname(dir) === dir) throw new Error('repository root not found');
    dir = dirname(dir);
  }
  return dir;
}

const ROOT = repositoryRoot();
/** The committed OpenAPI document. */
export const OPENAPI_FILE = join(ROOT, 'openapi.json');
/** The TypeScript client's types, generated from that document. */
export const CLIENT_SCHEMA_FILE = join(ROOT, 'clients', 'typescript', 'src', 'schema.d.ts');

async function formatted(text: string, file: string): Promise<string> {
  return format(text, { ...(await resolveConfig(file)), filepath: file });
}

/** openapi.json as committed: the served JSON, formatted like every other file. */
export function renderOpenApiJson(servedJson: string): Promise<string> {
  return formatted(servedJson, OPENAPI_FILE);
}

/** The client's types for a document, as openapi-typescript's CLI writes them, formatted. */
export async function renderClientSchema(document: unknown): Promise<string> {
  // defaultNonNullable off: a field with a default (`completed`) stays optional in request bodies.
  const ast = await openapiTS(document as OpenAPI3, { defaultNonNullable: false });
  return formatted(COMMENT_HEADER + astToString(ast), CLIENT_SCHEMA_FILE);
}
