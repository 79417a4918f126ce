import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { MAIN } from './support/app-process';

interface Exit {
  code: number | null;
  stderr: string;
  stdout: string;
}

/** Runs the built app (as `npm start` does) with only the given variables and no .env file. */
function runApp(env: Record<string, string>): Promise<Exit> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      cwd: resolve(__dirname, 'support'),
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stderr, stdout });
    });
  });
}

const BAD_VALUES: Record<string, string> = {
  PORT: '70000',
  DATABASE_URL: 'mysql://root:hunter2@db/todos',
  BETTER_AUTH_URL: 'auth.example.com',
  JWKS_URL: 'ftp://auth.example.com/jwks',
  JWT_ALGORITHMS: 'HS256',
  JWT_CLOCK_TOLERANCE_SECONDS: '900',
  JWKS_CACHE_TTL_SECONDS: '-5',
  JWKS_COOLDOWN_SECONDS: 'often',
  JWKS_TIMEOUT_MS: '0',
  CORS_ORIGINS: 'not-an-origin',
  LOG_LEVEL: 'chatty',
};

describe('configuration errors stop the process before it listens', () => {
  it('reports every bad variable at once, one line each, and exits non-zero', async () => {
    const { code, stderr, stdout } = await runApp({ ...BAD_VALUES, NODE_ENV: 'production' });

    expect(code).not.toBe(0);
    expect(stdout).not.toContain('listening');
    const lines = stderr.trim().split('\n');
    for (const name of Object.keys(BAD_VALUES)) {
      expect(lines).toContainEqual(expect.stringContaining(`Configuration error: ${name}=`));
    }
    expect(stderr).not.toContain('hunter2');
  });

  it.each(Object.entries(BAD_VALUES))(
    'exits non-zero naming %s when only it is wrong',
    async (name, value) => {
      const { code, stderr } = await runApp({ [name]: value });
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([
        expect.stringMatching(new RegExp(`^Configuration error: ${name}=".*": expected `)),
      ]);
    },
  );

  it('refuses JWT_AUDIENCE set to the empty string instead of using the default audience', async () => {
    const { code, stderr, stdout } = await runApp({ JWT_AUDIENCE: '' });
    expect(code).toBe(1);
    expect(stdout).not.toContain('listening');
    expect(stderr.trim().split('\n')).toEqual([
      'Configuration error: JWT_AUDIENCE="": expected a value (unset the variable to get its default)',
    ]);
  });

  it('requires DATABASE_URL in production', async () => {
    const { code, stderr } = await runApp({ NODE_ENV: 'production' });
    expect(code).toBe(1);
    expect(stderr).toContain('Configuration error: DATABASE_URL is not set');
  });
});
