import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { BenchIssuer, startIssuer } from './bench/issuer';
import { LoadRequest, LoadResult, LoadSpec, runLoad, startLoad } from './bench/load';
import { startOtlpSink } from './bench/otlp-sink';
import { summariseProfile } from './bench/profile-summary';
import { ServerProcess } from './bench/server-process';

/**
 * `npm run bench`: the built app and a hand-written reference server, each pinned to one core,
 * loaded by autocannon from child processes pinned (with PostgreSQL and the Better Auth issuer)
 * to the other cores. README's "Benchmark" section explains the output.
 *
 * BENCH_DURATION sets the seconds per measured run. `--cpu-prof` also profiles the app and
 * prints where its CPU time went; BENCH_APP_NODE_ARGS adds Node flags to the app (e.g.
 * `--trace-gc`, whose lines go to the app log kept with `--keep-temp`). BENCH_METRICS=off runs
 * the main app with METRICS_PORT=0. The cost of metrics and of tracing is measured at the end,
 * on fresh apps that differ only in them. BENCH_ONLY=profile,todos runs only those scenarios
 * (health, profile, todos, todo) and prints their figures, without the targets, the flood or the
 * cost table: for profiling one route. Every route runs in two rounds (see `schedule`);
 * BENCH_ROUNDS=1 runs one.
 */

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Math.min(3, DURATION);
const CONNECTIONS = [32, 128] as const;
const USERS = 1000;
const SEEDED_USERS = 256;
const TODOS_PER_USER = 20;
const JWKS_COOLDOWN = 30;
const FLOOD_VALID_RATE = 1000;
const CPU_PROF = process.argv.includes('--cpu-prof');
const KEEP_TEMP = process.argv.includes('--keep-temp');
const ONLY = process.env.BENCH_ONLY?.split(',').filter(Boolean);
/** Round 1 runs the routes in order, round 2 in reverse: see `schedule`. */
const ROUNDS = process.env.BENCH_ROUNDS === '1' ? 1 : 2;
/** Above anything a run sends, so a rate limiter counts every request but never answers 429. */
const LIMIT_OFF = '1000000';

type Target = 'product' | 'reference';
type Scenario = 'health' | 'profile' | 'todos' | 'todo';
const ROUTES: Record<Scenario, string> = {
  health: 'GET /api/health',
  profile: 'GET /api/profile',
  todos: 'GET /api/todos',
  todo: 'GET /api/todos/:id',
};

interface User {
  id: string;
  token: string;
  todoIds: string[];
}

interface Row {
  target: Target;
  scenario: Scenario;
  connections: number;
  /** A single run's round; 0 for a row that combines the rounds (see `combineRounds`). */
  round: number;
  /** Requests per second of each round, in round order. */
  rounds: number[];
  result: LoadResult;
  peakRssMb: number;
  cpuUsPerRequest: number;
  /** How busy the server's pinned core was during the run, in percent. */
  busyPercent: number;
}

const log = (line = '') => console.log(line);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const fixed = (n: number, digits = 2) => n.toFixed(digits);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** The Node flags `npm start` gives the app (package.json), so the bench runs what users run. */
function startFlags(): string[] {
  const manifest = readFileSync(resolve(__dirname, '..', '..', 'package.json'), 'utf8');
  const { scripts } = JSON.parse(manifest) as { scripts: Record<string, string> };
  return scripts.start.split(' ').filter((word) => word.startsWith('--'));
}

/**
 * With two cores or more: the servers get core 0; this process (issuer), and so everything it
 * starts without taskset (PostgreSQL, the load workers), gets the rest.
 */
function pinCores(): { server?: string; rest?: string } {
  const count = cpus().length;
  if (count < 2) return {};
  const rest = count === 2 ? '1' : `1-${count - 1}`;
  try {
    execFileSync('taskset', ['-a', '-pc', rest, String(process.pid)], { stdio: 'ignore' });
    return { server: '0', rest };
  } catch {
    return {};
  }
}

/** Better Auth's user ids are 32 random alphanumerics; tokens carry the whole user object. */
async function mintUsers(issuer: BenchIssuer): Promise<User[]> {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const now = new Date().toISOString();
  const users: User[] = [];
  for (let i = 0; i < USERS; i++) {
    const id = Array.from({ length: 32 }, () => alphabet[randomInt(alphabet.length)]).join('');
    const token = await issuer.sign({
      sub: id,
      id,
      name: `Bench User ${i}`,
      email: `bench-${i}@example.com`,
      emailVerified: true,
      createdAt: now,
      updatedAt: now,
    });
    users.push({ id, token, todoIds: [] });
  }
  return users;
}

/** Seeds todos through POST /api/todos, as clients would, 16 requests at a time. */
async function seed(appUrl: string, users: User[]): Promise<void> {
  const jobs = users.flatMap((user) =>
    Array.from({ length: TODOS_PER_USER }, (_, n) => ({ user, n })),
  );
  const worker = async () => {
    for (let job = jobs.pop(); job; job = jobs.pop()) {
      const response = await fetch(`${appUrl}/api/todos`, {
        method: 'POST',
        headers: { ...bearer(job.user.token), 'content-type': 'application/json' },
        body: JSON.stringify({
          title: `Todo ${job.n + 1}`,
          description: job.n % 2 === 0 ? 'Seeded by npm run bench' : null,
          completed: job.n % 3 === 0,
        }),
      });
      const text = await response.text();
      if (response.status !== 201) throw new Error(`seeding: ${response.status} ${text}`);
      job.user.todoIds.push((JSON.parse(text) as { id: string }).id);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/**
 * Vacuums and analyses the table the seeding just filled, and writes the dirty pages out.
 * Otherwise autovacuum and the checkpointer get to it during the first measured run (the
 * product's list, on the core PostgreSQL shares with the load generator) and hold that run back,
 * not the reference's that follows.
 */
async function settleDatabase(databaseUrl: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('VACUUM (ANALYZE) todos');
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

function requestsFor(scenario: Scenario, users: User[]): LoadRequest[] {
  const seeded = users.slice(0, SEEDED_USERS);
  switch (scenario) {
    case 'health':
      return [{ method: 'GET', path: '/api/health', headers: {} }];
    case 'profile':
      return users.map((u) => ({ method: 'GET', path: '/api/profile', headers: bearer(u.token) }));
    case 'todos':
      return seeded.map((u) => ({ method: 'GET', path: '/api/todos', headers: bearer(u.token) }));
    case 'todo':
      // Consecutive requests belong to different users.
      return Array.from({ length: TODOS_PER_USER }, (_, n) =>
        seeded.map((u) => ({
          method: 'GET' as const,
          path: `/api/todos/${u.todoIds[n]}`,
          headers: bearer(u.token),
        })),
      ).flat();
  }
}

/**
 * The items, then the same back in reverse (A B C C B A): a machine slowing down or speeding up
 * during the runs then weighs alike on every item, once the two runs of each are averaged.
 */
const mirrored = <T>(items: T[]): T[] => [...items, ...[...items].reverse()];

/**
 * The runs in order: round 1 goes through the plan, round 2 back through it (`mirrored`), and
 * each side's figure is the mean of its two rounds (`combineRounds`).
 */
function schedule(plan: [Scenario, Target][]) {
  const steps = plan.map(([scenario, target]) => ({ scenario, target }));
  const rounds = ROUNDS === 2 ? mirrored(steps) : steps;
  return rounds.map((step, i) => ({ ...step, round: i < steps.length ? 1 : 2 }));
}

/** Two rounds of one server and route further apart than this in req/s are flagged. */
const UNSTEADY = 1.25;

/** The routes whose first round runs before the seeding and the todo routes. */
const BEFORE_SEEDING: Scenario[] = ['health', 'profile'];

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

/**
 * One row per server, route and connection count: the rounds' means (req/s, latency, CPU, how
 * busy the core was), their non-2xx added up, and the peak RSS. For the todo routes that is the
 * higher of the two rounds; for health and profile, their first round's: their second rounds
 * come after the todo routes', so their RSS would show what those left behind, not their own.
 */
function combineRounds(rows: Row[]): Row[] {
  return rows
    .filter((row) => row.round === 1)
    .map((first) => {
      const runs = rows.filter(
        (r) =>
          r.target === first.target &&
          r.scenario === first.scenario &&
          r.connections === first.connections,
      );
      const statusCodes: Record<string, number> = {};
      for (const run of runs) {
        for (const [code, count] of Object.entries(run.result.statusCodes))
          statusCodes[code] = (statusCodes[code] ?? 0) + count;
      }
      return {
        ...first,
        round: 0,
        rounds: runs.map((r) => r.result.requestsPerSecond),
        result: {
          requestsPerSecond: Math.round(mean(runs.map((r) => r.result.requestsPerSecond))),
          p50: mean(runs.map((r) => r.result.p50)),
          p99: mean(runs.map((r) => r.result.p99)),
          bad: runs.reduce((sum, r) => sum + r.result.bad, 0),
          statusCodes,
        },
        peakRssMb: BEFORE_SEEDING.includes(first.scenario)
          ? first.peakRssMb
          : Math.max(...runs.map((r) => r.peakRssMb)),
        cpuUsPerRequest: mean(runs.map((r) => r.cpuUsPerRequest)),
        busyPercent: mean(runs.map((r) => r.busyPercent)),
      };
    });
}

/** One load run, with the server's peak RSS (sampled every 100 ms) and CPU per response. */
async function measure(server: ServerProcess, spec: LoadSpec) {
  let peakRssMb = server.rssMb();
  const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, server.rssMb())), 100);
  const cpuBefore = server.cpuMs();
  const result = await runLoad(spec);
  clearInterval(sampler);
  const responses = result.requestsPerSecond * spec.durationSeconds;
  const cpuMs = server.cpuMs() - cpuBefore;
  const cpuUsPerRequest = responses ? (cpuMs * 1000) / responses : 0;
  /** Below 100%, the server was not what held the rate back (its pinned core was idle at times). */
  const busyPercent = (cpuMs / (spec.durationSeconds * 1000)) * 100;
  if (!server.running) throw new Error(`a server exited during the run:\n${server.logTail()}`);
  return {
    result,
    peakRssMb: Math.max(peakRssMb, server.rssMb()),
    cpuUsPerRequest,
    busyPercent,
  };
}

/** Valid users at a fixed rate, without and then during a flood of tokens with unknown kids. */
async function flood(app: ServerProcess, issuer: BenchIssuer, users: User[]) {
  const valid: LoadSpec = {
    url: app.url,
    connections: 16,
    durationSeconds: DURATION,
    overallRate: FLOOD_VALID_RATE,
    requests: requestsFor('profile', users),
  };
  const without = await runLoad(valid);
  const [header, payload] = users[0].token.split('.');
  const decoded = JSON.parse(Buffer.from(header, 'base64url').toString()) as object;
  const forged = Array.from({ length: 5000 }, () => {
    const kid = randomBytes(16).toString('base64url');
    const head = Buffer.from(JSON.stringify({ ...decoded, kid })).toString('base64url');
    return `${head}.${payload}.${randomBytes(64).toString('base64url')}`;
  });
  const fetchesBefore = issuer.jwksFetches();
  const floodSeconds = DURATION + 2;
  const attack = startLoad({
    url: app.url,
    connections: 32,
    durationSeconds: floodSeconds,
    requests: forged.map((t) => ({ method: 'GET', path: '/api/profile', headers: bearer(t) })),
  });
  await attack.started;
  await new Promise((done) => setTimeout(done, 1000));
  const during = await runLoad(valid);
  const attackResult = await attack.result;
  const fetches = issuer.jwksFetches() - fetchesBefore;
  const limit = Math.floor(floodSeconds / JWKS_COOLDOWN) + 1;
  return { without, during, attack: attackResult, fetches, limit };
}

interface CostRow {
  app: string;
  measured: Awaited<ReturnType<typeof measure>>;
}

/** Name, environment, and whether spans go to the bench's OTLP sink. */
const COST_VARIANTS: [string, Record<string, string>, boolean][] = [
  ['metrics off, tracing off', { METRICS_PORT: '0' }, false],
  ['metrics on, tracing off', {}, false],
  ['metrics on, tracing on', {}, true],
];

/**
 * What metrics and tracing cost: GET /api/todos at 32 connections on fresh apps that differ only
 * in them: both off, metrics on (the default), metrics and tracing on (every request sampled,
 * spans sent over OTLP/HTTP protobuf to a sink that discards them). Each variant runs twice, in
 * `mirrored` order, so that the machine's drift (and whatever the first fresh app pays) weighs
 * on every variant alike.
 */
async function observabilityCost(
  startApp: (name: string, env: Record<string, string>) => Promise<ServerProcess>,
  users: User[],
): Promise<CostRow[]> {
  const sink = await startOtlpSink();
  const order = mirrored(COST_VARIANTS);
  const rows: CostRow[] = [];
  try {
    for (const [name, env, traced] of order) {
      const tracing: Record<string, string> = traced
        ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url }
        : {};
      const server = await startApp(name.replace(/[^a-z]+/g, '-'), { ...env, ...tracing });
      const spec = (durationSeconds: number): LoadSpec => ({
        url: server.url,
        connections: 32,
        durationSeconds,
        requests: requestsFor('todos', users),
      });
      await runLoad(spec(WARMUP));
      const measured = await measure(server, spec(DURATION));
      rows.push({ app: name, measured });
      const r = measured.result;
      log(
        `  cost: ${name.padEnd(24)} ${String(r.requestsPerSecond).padStart(6)} req/s  ` +
          `p99 ${fixed(r.p99)} ms  non-2xx ${r.bad}  CPU ${fixed(measured.cpuUsPerRequest, 0)} µs/req`,
      );
      const exit = await server.stop();
      if (exit !== 'SIGTERM' && exit !== 'exit 0')
        throw new Error(`${name}: app stopped with ${exit}`);
    }
    const { requests, bytes } = sink.received();
    log(`  cost: the OTLP sink received ${requests} exports, ${fixed(bytes / 1048576, 1)} MiB`);
  } finally {
    await sink.close();
  }
  return rows;
}

/**
 * The cost table: each variant's two runs averaged, then each feature's on ÷ off ratio of req/s
 * and of CPU per response.
 */
function reportCost(rows: CostRow[]): void {
  const variants = COST_VARIANTS.map(([app]) => {
    const runs = rows.filter((row) => row.app === app).map((row) => row.measured);
    return {
      app,
      rps: mean(runs.map((m) => m.result.requestsPerSecond)),
      runs: runs.map((m) => String(m.result.requestsPerSecond)).join(' / '),
      p99: mean(runs.map((m) => m.result.p99)),
      bad: runs.reduce((sum, m) => sum + m.result.bad, 0),
      cpu: mean(runs.map((m) => m.cpuUsPerRequest)),
    };
  });
  const [none, metrics, tracing] = variants;
  const ratio = (name: string, on: typeof none, off: typeof none) => [
    name,
    '',
    '',
    fixed(on.rps / off.rps),
    '',
    '',
    fixed(on.cpu / off.cpu),
  ];
  log(
    `\nCost of metrics and tracing (GET /api/todos @32, fresh apps, two runs each in the order A B C C B A):\n`,
  );
  log(
    table(
      ['app', 'req/s (mean)', 'runs', 'req/s ratio', 'p99 ms', 'non-2xx', 'CPU µs/req (ratio)'],
      [
        ...variants.map((v) => [
          v.app,
          fixed(v.rps, 0),
          v.runs,
          '',
          fixed(v.p99),
          String(v.bad),
          fixed(v.cpu, 0),
        ]),
        ratio('metrics on ÷ off', metrics, none),
        ratio('tracing on ÷ off (metrics on)', tracing, metrics),
      ],
    ),
  );
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const mainPath = resolve(__dirname, '..', 'src', 'main.js');
  const referencePath = join(__dirname, 'bench', 'reference-server.js');
  if (!existsSync(mainPath)) throw new Error(`${mainPath} not found: run npm run build first`);
  const pins = pinCores();
  // PostgreSQL runs as `postgres` when we are root: it must be able to enter this directory.
  const temp = mkdtempSync(join(tmpdir(), 'todo-api-bench-'));
  chmodSync(temp, 0o755);
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    while (cleanups.length > 0) await cleanups.pop()!().catch(() => {});
    if (KEEP_TEMP) log(`Temp dir kept: ${temp}`);
    else rmSync(temp, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  log(`Todo API benchmark — ${new Date().toISOString()}, Node ${process.version}`);
  log(
    `  ${cpus().length} CPUs (${cpus()[0]?.model}), load average ${loadavg()
      .map((n) => fixed(n))
      .join(' ')}`,
  );
  log(
    pins.server
      ? `  pinned: app and reference server on CPU ${pins.server}; load generator, PostgreSQL and issuer on CPU ${pins.rest}`
      : '  NOT pinned (one CPU, or no taskset): every process shares every core',
  );
  log(
    `  ${DURATION} s per run (+${WARMUP} s warm-up per route), connections ${CONNECTIONS.join(' and ')}; ` +
      `${USERS} users with EdDSA tokens, ${SEEDED_USERS} of them with ${TODOS_PER_USER} todos; ` +
      `app: NODE_ENV=production LOG_LEVEL=warn, rate limits raised (still counted)`,
  );
  try {
    const issuer = await startIssuer();
    cleanups.push(() => issuer.close());
    const users = await mintUsers(issuer);
    const dbPort = await freePort();
    const database = await startEmbeddedPostgres({ dataDir: join(temp, 'postgres'), port: dbPort });
    cleanups.push(() => database.stop());

    const referencePort = await freePort();
    const reference = await ServerProcess.start({
      args: [referencePath],
      env: {
        REF_PORT: String(referencePort),
        REF_DATABASE_URL: database.url,
        REF_ISSUER: issuer.url,
        NODE_ENV: 'production',
      },
      port: referencePort,
      readyPath: '/api/todos',
      anyStatus: true,
      cpus: pins.server,
      logFile: join(temp, 'reference.log'),
      cwd: temp,
    });
    cleanups.push(() => reference.stop());
    const fetchesBeforeApp = issuer.jwksFetches();

    /**
     * The product as the bench runs it: with `npm start`'s Node flags, then `nodeArgs` (which
     * can override them); `env` adds or overrides variables.
     */
    const startApp = async (name: string, env: Record<string, string>, nodeArgs: string[] = []) => {
      const port = await freePort();
      const server = await ServerProcess.start({
        args: [...startFlags(), ...nodeArgs, mainPath],
        env: {
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          // Metrics on, as in production, on a free port.
          METRICS_PORT: String(await freePort()),
          DATABASE_URL: database.url,
          BETTER_AUTH_URL: issuer.url,
          LOG_LEVEL: 'warn',
          JWKS_COOLDOWN_SECONDS: String(JWKS_COOLDOWN),
          THROTTLE_USER_LIMIT: LIMIT_OFF,
          THROTTLE_ANONYMOUS_LIMIT: LIMIT_OFF,
          ...env,
        },
        port,
        readyPath: '/api/health/ready',
        cpus: pins.server,
        logFile: join(temp, `${name}.log`),
        cwd: temp,
      });
      cleanups.push(() => server.stop());
      return server;
    };

    const profDir = join(temp, 'cpu-prof');
    const nodeArgs = (process.env.BENCH_APP_NODE_ARGS ?? '').split(' ').filter(Boolean);
    if (CPU_PROF) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`);
    const app = await startApp(
      'app',
      process.env.BENCH_METRICS === 'off' ? { METRICS_PORT: '0' } : {},
      nodeArgs,
    );
    const plan = (
      [
        ['health', 'product'],
        ['profile', 'product'],
        ['todos', 'product'],
        ['todos', 'reference'],
        ['todo', 'product'],
        ['todo', 'reference'],
      ] satisfies [Scenario, Target][]
    ).filter(([scenario]) => !ONLY || ONLY.includes(scenario));
    const rows: Row[] = [];
    // Route by route, so each route's peak RSS shows what that traffic adds; health and profile
    // before the seeding, so health's first round meets an app no authenticated request has reached.
    let seeded = false;
    for (const { round, scenario, target } of schedule(plan)) {
      if (!seeded && (scenario === 'todos' || scenario === 'todo')) {
        seeded = true;
        await seed(app.url, users.slice(0, SEEDED_USERS));
        await settleDatabase(database.url);
        log(
          `  seeded ${SEEDED_USERS * TODOS_PER_USER} todos through POST /api/todos (then VACUUM ANALYZE, CHECKPOINT)`,
        );
      }
      const server = target === 'product' ? app : reference;
      const spec = (connections: number, durationSeconds: number): LoadSpec => ({
        url: server.url,
        connections,
        durationSeconds,
        requests: requestsFor(scenario, users),
      });
      await runLoad(spec(32, WARMUP));
      for (const connections of CONNECTIONS) {
        const measured = await measure(server, spec(connections, DURATION));
        const r = measured.result;
        rows.push({
          target,
          scenario,
          connections,
          round,
          rounds: [r.requestsPerSecond],
          ...measured,
        });
        log(
          `  r${round} ${target.padEnd(9)} ${ROUTES[scenario].padEnd(18)} @${String(connections).padEnd(3)} ` +
            `${String(r.requestsPerSecond).padStart(6)} req/s  p50 ${fixed(r.p50)}  p99 ${fixed(r.p99)} ms  ` +
            `non-2xx ${r.bad}  RSS ${fixed(measured.peakRssMb, 0)} MB  ` +
            `CPU ${fixed(measured.cpuUsPerRequest, 0)} µs/req, core ${fixed(measured.busyPercent, 0)}% busy`,
        );
      }
    }
    if (ONLY) {
      await app.stop();
      if (CPU_PROF) printProfile(profDir);
      return 0;
    }
    const jwksDuringRuns = issuer.jwksFetches() - fetchesBeforeApp;
    const floodResult = await flood(app, issuer, users);
    log(
      `  unknown-kid flood: valid p99 ${fixed(floodResult.without.p99)} → ${fixed(floodResult.during.p99)} ms, ` +
        `JWKS fetches ${floodResult.fetches}`,
    );
    const appExit = await app.stop();
    const costs = await observabilityCost(startApp, users);
    const summary = report(rows, jwksDuringRuns, floodResult);
    reportCost(costs);
    if (appExit !== 'SIGTERM' && appExit !== 'exit 0') summary.push(`app stopped with ${appExit}`);
    if (CPU_PROF) printProfile(profDir);
    log(
      `\nLoad average at the end: ${loadavg()
        .map((n) => fixed(n))
        .join(' ')}`,
    );
    if (summary.length > 0) {
      console.error(`\nFAILED:\n  ${summary.join('\n  ')}`);
      return 1;
    }
    log('OK: every valid request got a 2xx answer.');
    return 0;
  } finally {
    await cleanup();
  }
}

/** Prints the results and the targets; returns what makes the run fail (non-2xx answers). */
function report(runs: Row[], jwksFetches: number, f: Awaited<ReturnType<typeof flood>>): string[] {
  const rows = combineRounds(runs);
  const find = (target: Target, scenario: Scenario, connections: number) =>
    rows.find(
      (r) => r.target === target && r.scenario === scenario && r.connections === connections,
    );
  const ratioOf = (row: Row): number | undefined => {
    if (row.target === 'reference' || row.scenario === 'health') return undefined;
    const base =
      row.scenario === 'profile'
        ? find('product', 'health', row.connections)
        : find('reference', row.scenario, row.connections);
    return base ? row.result.requestsPerSecond / base.result.requestsPerSecond : undefined;
  };
  log(
    `\nResults (${ROUNDS === 2 ? 'the mean of two rounds, ' : ''}` +
      'p50/p99 of 2xx responses; ratio: profile ÷ health, todos ÷ reference):\n',
  );
  log(
    table(
      [
        'server',
        'route',
        'conns',
        'req/s',
        'rounds',
        'ratio',
        'p50 ms',
        'p99 ms',
        'non-2xx',
        'peak RSS MB',
        'CPU µs/req',
      ],
      rows.map((row) => {
        const ratio = ratioOf(row);
        return [
          row.target,
          ROUTES[row.scenario],
          String(row.connections),
          String(row.result.requestsPerSecond),
          row.rounds.join(' / '),
          ratio === undefined ? '' : fixed(ratio),
          fixed(row.result.p50),
          fixed(row.result.p99),
          String(row.result.bad),
          fixed(row.peakRssMb, 0),
          fixed(row.cpuUsPerRequest, 0),
        ];
      }),
    ),
  );

  /**
   * Beside a req/s ratio: the same ratio in CPU per response; any pinned core that was not kept
   * busy (then the other core, with the load generator and PostgreSQL, held the rate back); and
   * any side whose two rounds differ by more than UNSTEADY in req/s (the same code on the same
   * route: one of its rounds met a slow spell of the host, which the mean only halves).
   */
  const context = (row: Row, base: Row) => {
    const side = (r: Row) => (r.target === 'reference' ? 'reference' : r.scenario);
    const idle = [row, base]
      .filter((r) => r.busyPercent < 95)
      .map((r) => `${side(r)} core ${fixed(r.busyPercent, 0)}% busy`);
    const unsteady = [row, base]
      .filter((r) => Math.max(...r.rounds) > UNSTEADY * Math.min(...r.rounds))
      .map((r) => `${side(r)} rounds ${r.rounds.join(' / ')} req/s`);
    return [
      `CPU/response ${fixed(base.cpuUsPerRequest / row.cpuUsPerRequest)}`,
      ...idle,
      ...unsteady,
    ].join(', ');
  };
  const targets: [string, string, boolean][] = [];
  for (const connections of CONNECTIONS) {
    const profile = find('product', 'profile', connections)!;
    const ratio = ratioOf(profile)!;
    targets.push([
      `profile ÷ health @${connections}`,
      `${fixed(ratio)} (≥ 0.85); ${context(profile, find('product', 'health', connections)!)}`,
      ratio >= 0.85,
    ]);
    for (const scenario of ['todos', 'todo'] as const) {
      const row = find('product', scenario, connections)!;
      const r = ratioOf(row)!;
      targets.push([
        `${ROUTES[scenario]} ÷ reference @${connections}`,
        `${fixed(r)} (≥ 1.2); ${context(row, find('reference', scenario, connections)!)}`,
        r >= 1.2,
      ]);
    }
  }
  const health = find('product', 'health', 32)!;
  const authenticated = rows.filter((r) => r.target === 'product' && r.scenario !== 'health');
  for (const row of authenticated.filter((r) => r.connections === 32)) {
    const times = row.result.p99 / health.result.p99;
    targets.push([
      `p99 ${ROUTES[row.scenario]} ÷ health p99 @32`,
      `${fixed(times)} (≤ 2)`,
      times <= 2,
    ]);
  }
  const healthRss = Math.max(
    ...rows.filter((r) => r.scenario === 'health').map((r) => r.peakRssMb),
  );
  // The target takes every authenticated route; profile alone (a token, no database) shows
  // what authentication itself adds, apart from what the todo routes' rows add.
  const rssTargets: [string, Row[]][] = [
    ['authenticated', authenticated],
    ['profile (no database)', authenticated.filter((r) => r.scenario === 'profile')],
  ];
  for (const [name, measured] of rssTargets) {
    const rss = Math.max(...measured.map((r) => r.peakRssMb));
    targets.push([
      `peak RSS ${name} ÷ health`,
      `${fixed(rss, 0)} ÷ ${fixed(healthRss, 0)} MB = ${fixed(rss / healthRss)} (≤ 1.3)`,
      rss / healthRss <= 1.3,
    ]);
  }
  const productRows = rows.filter((r) => r.target === 'product');
  const non2xx = productRows.reduce((sum, r) => sum + r.result.bad, 0);
  targets.push(['non-2xx, product runs', `${non2xx} (0)`, non2xx === 0]);
  targets.push([
    `JWKS fetches, ${USERS} distinct users`,
    `${jwksFetches} from the app's start to the end of the runs (1)`,
    jwksFetches === 1,
  ]);
  targets.push([
    'unknown-kid flood: JWKS fetches',
    `${f.fetches} in ${DURATION + 2} s (≤ ${f.limit}, one per ${JWKS_COOLDOWN} s cooldown)`,
    f.fetches <= f.limit,
  ]);
  const kept = f.during.p99 / f.without.p99;
  targets.push([
    'unknown-kid flood: valid p99 kept',
    `${fixed(f.without.p99)} → ${fixed(f.during.p99)} ms = ${fixed(kept)}× (≤ 2), non-2xx ${f.without.bad + f.during.bad}`,
    kept <= 2 && f.without.bad + f.during.bad === 0,
  ]);
  log(`\nTargets:\n`);
  log(
    table(
      ['target', 'measured', 'result'],
      targets.map(([t, m, ok]) => [t, m, ok ? 'PASS' : 'FAIL']),
    ),
  );
  const failures = productRows
    .filter((r) => r.result.bad > 0)
    .map((r) => `${ROUTES[r.scenario]} @${r.connections}: ${JSON.stringify(r.result.statusCodes)}`);
  if (f.without.bad + f.during.bad > 0)
    failures.push('valid requests failed during the flood test');
  if (f.attack.statusCodes['200']) failures.push('a token with an unknown kid was accepted');
  return failures;
}

function printProfile(dir: string): void {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) return log('\n(no CPU profile was written)');
  const target = join(
    'bench-results',
    `${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`,
  );
  mkdirSync('bench-results', { recursive: true });
  execFileSync('cp', [join(dir, file), target]);
  const { packages, functions } = summariseProfile(target, 20);
  log(`\nApp CPU profile (${target}), self time while busy, whole run:`);
  for (const line of packages.slice(0, 12))
    log(`  ${fixed(line.percent, 1).padStart(5)}%  ${line.what}`);
  log('  by function:');
  for (const line of functions) log(`  ${fixed(line.percent, 1).padStart(5)}%  ${line.what}`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('bench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(2);
  },
);
