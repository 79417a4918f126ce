import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'dotenv';
import { AppConfig } from './app-config';
import { RawEnv, validateEnv } from './env.validation';

/**
 * The one place that reads the process environment: `.env` (when present) under the real
 * environment, which wins, then validation. Throws ConfigValidationError listing every problem.
 */
export function loadAppConfig(env: RawEnv = process.env, envFile = resolve('.env')): AppConfig {
  const fromFile = existsSync(envFile) ? parse(readFileSync(envFile)) : {};
  return validateEnv({ ...fromFile, ...env });
}
