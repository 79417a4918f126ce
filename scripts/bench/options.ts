export const THROUGHPUT_SCENARIOS = ['health', 'profile', 'todos', 'todo', 'create'] as const;
export const FLOOD_SCENARIOS = ['flood-kid', 'flood-sig'] as const;
export const ALL_SCENARIOS = [...THROUGHPUT_SCENARIOS, ...FLOOD_SCENARIOS] as const;

export type ThroughputScenario = (typeof THROUGHPUT_SCENARIOS)[number];
export type FloodScenario = (typeof FLOOD_SCENARIOS)[number];
export type ScenarioName = (typeof ALL_SCENARIOS)[number];

export interface BenchOptions {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number[];
  users: number;
  seededUsers: number;
  todosPerUser: number;
  scenarios: ScenarioName[];
  floodConnections: number;
  floodValidConnections: number;
  floodValidRate: number;
  jwksCooldownSeconds: number;
  logLevel: string;
  cpuProf: boolean;
  appEnv: Record<string, string>;
  outDir: string;
  keepTemp: boolean;
  strict: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]

  --duration <s>            seconds per measured run (default 10; SPEC §9 quotes 30)
  --warmup <s>              unmeasured seconds before each scenario's first run (default 2)
  --connections <list>      comma-separated connection counts (default 32,128)
  --users <n>               distinct users with real EdDSA tokens (default 1000)
  --seeded-users <n>        users who get todos, used by the todo scenarios (default 256)
  --todos-per-user <n>      todos seeded per seeded user (default 20)
  --scenarios <list>        any of ${ALL_SCENARIOS.join(',')} (default: all)
  --flood-connections <n>   connections of each flood (default 32)
  --flood-valid-rate <n>    valid users' GET /api/profile rate during the flood tests (default 1000 req/s)
  --flood-valid-connections <n>  connections carrying that rate (default 16)
  --jwks-cooldown <s>       JWKS_COOLDOWN_SECONDS given to the app (default 30, the app's default)
  --log-level <level>       the app's LOG_LEVEL (default warn; info measures access logging)
  --app-env KEY=VALUE       extra environment for the app (repeatable), e.g. TOKEN_CACHE_MAX_ENTRIES=0
  --cpu-prof                run the app with --cpu-prof; the profile lands in bench-results/
  --out <dir>               where results go (default bench-results)
  --keep-temp               keep the temp dir (database, app log) for inspection
  --strict                  also exit non-zero when a SPEC §9 target is missed
`;

export class UsageError extends Error {}

const KNOWN_OPTIONS = new Set([...USAGE.matchAll(/^ {2}(--[a-z-]+)/gm)].map((match) => match[1]));

/** Parses `--name value` and `--name=value`; every number is bounded so a run always ends. */
export function parseOptions(argv: string[]): BenchOptions {
  const options: BenchOptions = {
    durationSeconds: 10,
    warmupSeconds: 2,
    connections: [32, 128],
    users: 1000,
    seededUsers: 256,
    todosPerUser: 20,
    scenarios: [...ALL_SCENARIOS],
    floodConnections: 32,
    floodValidConnections: 16,
    floodValidRate: 1000,
    jwksCooldownSeconds: 30,
    logLevel: 'warn',
    cpuProf: false,
    appEnv: {},
    outDir: 'bench-results',
    keepTemp: false,
    strict: false,
  };
  const int = (name: string, value: string, min: number, max: number): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') throw new UsageError('');
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (!KNOWN_OPTIONS.has(name)) throw new UsageError(`unknown option ${name}`);
    const flag = ['--cpu-prof', '--keep-temp', '--strict'].includes(name);
    let value = '';
    if (!flag) {
      if (eq !== -1) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`${name} needs a value`);
    }
    switch (name) {
      case '--duration':
        options.durationSeconds = int(name, value, 1, 600);
        break;
      case '--warmup':
        options.warmupSeconds = int(name, value, 0, 60);
        break;
      case '--connections':
        options.connections = value.split(',').map((c) => int(name, c.trim(), 1, 1024));
        break;
      case '--users':
        options.users = int(name, value, 1, 100_000);
        break;
      case '--seeded-users':
        options.seededUsers = int(name, value, 1, 100_000);
        break;
      case '--todos-per-user':
        options.todosPerUser = int(name, value, 1, 1000);
        break;
      case '--scenarios': {
        const names = value.split(',').map((s) => s.trim());
        const unknown = names.filter((s) => !(ALL_SCENARIOS as readonly string[]).includes(s));
        if (unknown.length > 0) {
          throw new UsageError(
            `unknown scenario(s) ${unknown.join(', ')}; known: ${ALL_SCENARIOS.join(', ')}`,
          );
        }
        // Always in the canonical order: floods last, so they cannot disturb the JWKS count.
        options.scenarios = ALL_SCENARIOS.filter((s) => names.includes(s));
        break;
      }
      case '--flood-connections':
        options.floodConnections = int(name, value, 1, 1024);
        break;
      case '--flood-valid-rate':
        options.floodValidRate = int(name, value, 1, 1_000_000);
        break;
      case '--flood-valid-connections':
        options.floodValidConnections = int(name, value, 1, 1024);
        break;
      case '--jwks-cooldown':
        options.jwksCooldownSeconds = int(name, value, 1, 3600);
        break;
      case '--log-level':
        if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(value)) {
          throw new UsageError(`--log-level must be a pino level, got "${value}"`);
        }
        options.logLevel = value;
        break;
      case '--app-env': {
        const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(value);
        if (!match) throw new UsageError(`--app-env takes KEY=VALUE, got "${value}"`);
        options.appEnv[match[1]] = match[2];
        break;
      }
      case '--cpu-prof':
        options.cpuProf = true;
        break;
      case '--out':
        options.outDir = value;
        break;
      case '--keep-temp':
        options.keepTemp = true;
        break;
      case '--strict':
        options.strict = true;
        break;
      default:
        throw new UsageError(`unknown option ${name}`);
    }
  }
  options.seededUsers = Math.min(options.seededUsers, options.users);
  return options;
}
