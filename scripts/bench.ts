import { IncomingMessage } from 'node:http';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BetterAuthIssuer } from '../test/support/better-auth-issuer';
import { freePort } from '../test/support/free-port';
import { AppProcess, appMainPath } from './bench/app-process';
import {
  BenchDatabase,
  ExplainedQuery,
  explainQueries,
  prepareDatabase,
  scanStatsDelta,
  TableScanStats,
  todosScanStats,
} from './bench/database';
import { runLoad, startLoad } from './bench/load';
import { LoadRequest, LoadResult, LoadSpec } from './bench/load-protocol';
import {
  BenchOptions,
  FloodScenario,
  parseOptions,
  THROUGHPUT_SCENARIOS,
  ThroughputScenario,
  USAGE,
  UsageError,
} from './bench/options';
import { summariseProfile } from './bench/profile-summary';
import { FloodReport, formatTable, ratio, Row } from './bench/report';
import { SeededTodos, seedTodos, TodosApiMissingError } from './bench/seed';
import { badSignatureTokens, BenchUsers, unknownKidTokens } from './bench/tokens';

/**
 * `npm run bench` (SPEC §9): a real Better Auth issuer in this process, the built app
 * (`node dist/src/main.js`) in a child process on a fresh embedded PostgreSQL (or DATABASE_URL),
 * and autocannon in further child processes, so the load generator never shares an event loop
 * with what it measures. Prints one table and the SPEC's ratios, writes bench-results/<time>.json
 * and exits non-zero when a valid request got anything but 2xx.
 */

const LABELS: Record<ThroughputScenario, string> = {
  health: 'GET /api/health',
  profile: 'GET /api/profile',
  todos: 'GET /api/todos',
  todo: 'GET /api/todos/:id',
  create: 'POST /api/todos',
};
const TODO_SCENARIOS: readonly ThroughputScenario[] = ['todos', 'todo', 'create'];
/** Better Auth tokens live 15 minutes; re-mint well before that on long runs. */
const TOKEN_REFRESH_AFTER_MS = 10 * 60_000;
const JWKS_PATH = '/api/auth/jwks';
/** Above anything a run sends, so the throttler (when present) counts but never answers 429. */
const THROTTLE_OFF = '1000000';

const log = (line = '') => console.log(line);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

interface Context {
  options: BenchOptions;
  app: AppProcess;
  database: BenchDatabase;
  users: BenchUsers;
  seeded: SeededTodos | undefined;
  jwksFetches: number[];
  failures: string[];
}

function buildRequests(ctx: Context, scenario: ThroughputScenario): LoadRequest[] {
  const { users, seeded } = ctx;
  switch (scenario) {
    case 'health':
      return [{ method: 'GET', path: '/api/health', headers: {} }];
    case 'profile':
      return users.users.map((u) => ({
        method: 'GET',
        path: '/api/profile',
        headers: bearer(u.token),
      }));
    case 'todos':
      return seeded!.byUser.map(({ user }) => ({
        method: 'GET',
        path: '/api/todos',
        headers: bearer(user.token),
      }));
    case 'todo': {
      // Consecutive requests belong to different users, like concurrent clients.
      const requests: LoadRequest[] = [];
      for (let n = 0; n < ctx.options.todosPerUser; n++) {
        for (const { user, todoIds } of seeded!.byUser) {
          if (todoIds[n]) {
            requests.push({
              method: 'GET',
              path: `/api/todos/${todoIds[n]}`,
              headers: bearer(user.token),
            });
          }
        }
      }
      return requests;
    }
    case 'create':
      return users.users.map((u) => ({
        method: 'POST',
        path: '/api/todos',
        headers: { ...bearer(u.token), 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Bench todo', description: null }),
      }));
  }
}

function checkValid(ctx: Context, what: string, result: LoadResult): void {
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) {
    ctx.failures.push(
      `${what}: ${result.non2xx} non-2xx (${JSON.stringify(result.statusCodes)}), ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  if (!ctx.app.running) throw new Error(`the app exited during ${what}:\n${ctx.app.logTail()}`);
}

/** A load run, with the CPU time the app and PostgreSQL spent per response meanwhile. */
async function measured(ctx: Context, spec: LoadSpec) {
  const app0 = ctx.app.cpuMs();
  const db0 = ctx.database.cpuMs();
  const result = await runLoad(spec);
  const app1 = ctx.app.cpuMs();
  const db1 = ctx.database.cpuMs();
  const perResponse = (before?: number, after?: number) =>
    before === undefined || after === undefined || result.responses === 0
      ? undefined
      : Math.round(((after - before) * 1000) / result.responses);
  return { result, cpu: { app: perResponse(app0, app1), db: perResponse(db0, db1) } };
}

async function runThroughput(ctx: Context, scenario: ThroughputScenario, rows: Row[]) {
  const { options } = ctx;
  for (const [index, connections] of options.connections.entries()) {
    if (await ctx.users.refreshIfOlderThan(TOKEN_REFRESH_AFTER_MS))
      log('  (tokens re-minted: they live 15 minutes)');
    const spec = (durationSeconds: number): LoadSpec => ({
      url: ctx.app.url,
      connections,
      durationSeconds,
      requests: buildRequests(ctx, scenario),
    });
    if (index === 0 && options.warmupSeconds > 0) {
      checkValid(ctx, `${LABELS[scenario]} warm-up`, await runLoad(spec(options.warmupSeconds)));
    }
    const { result, cpu } = await measured(ctx, spec(options.durationSeconds));
    checkValid(ctx, `${LABELS[scenario]} @${connections}`, result);
    rows.push({ scenario, label: LABELS[scenario], connections, result, cpu });
    log(
      `  ${LABELS[scenario].padEnd(20)} ${String(connections).padStart(4)} conns  ${String(result.requestsPerSecond).padStart(6)} req/s  p99 ${result.latencyMs.p99.toFixed(2)} ms  app ${cpu.app ?? '-'} µs/req  pg ${cpu.db ?? '-'} µs/req`,
    );
  }
}

async function runFlood(ctx: Context, scenario: FloodScenario, rows: Row[]): Promise<FloodReport> {
  const { options, users } = ctx;
  await users.refreshIfOlderThan(TOKEN_REFRESH_AFTER_MS);
  const tokens = users.users.map((u) => u.token);
  const floodTokens =
    scenario === 'flood-kid' ? unknownKidTokens(tokens[0], 5000) : badSignatureTokens(tokens, 2000);
  const description =
    scenario === 'flood-kid'
      ? 'tokens with random unknown kids (each a JWKS miss)'
      : 'tokens with a known kid and a bad signature (each a full signature check)';
  const validSpec = (): LoadSpec => ({
    url: ctx.app.url,
    connections: options.floodValidConnections,
    durationSeconds: options.durationSeconds,
    overallRate: options.floodValidRate,
    requests: buildRequests(ctx, 'profile'),
  });
  const validLabel = `profile @${options.floodValidRate}/s`;

  const validWithout = await runLoad(validSpec());
  checkValid(ctx, `${scenario}: ${validLabel} without flood`, validWithout);

  const fetchesBefore = ctx.jwksFetches.length;
  const floodSeconds = options.durationSeconds + 2;
  const flood = startLoad({
    url: ctx.app.url,
    connections: options.floodConnections,
    durationSeconds: floodSeconds,
    requests: floodTokens.map((t) => ({ method: 'GET', path: '/api/profile', headers: bearer(t) })),
  });
  await flood.started;
  await sleep(1000);
  const validWith = await runLoad(validSpec());
  const floodResult = await flood.result;
  checkValid(ctx, `${scenario}: ${validLabel} during flood`, validWith);
  const jwksFetches = ctx.jwksFetches.length - fetchesBefore;
  // Unknown kids may cause one fetch per cooldown; bad signatures on a known kid none at all.
  const jwksLimit =
    scenario === 'flood-kid' ? Math.floor(floodSeconds / options.jwksCooldownSeconds) + 1 : 0;
  const floodOk =
    floodResult.statusCodes['200'] === undefined && floodResult.statusCodes['201'] === undefined;
  if (!floodOk)
    ctx.failures.push(
      `${scenario}: a flood token was accepted (${JSON.stringify(floodResult.statusCodes)})`,
    );

  const name = scenario === 'flood-kid' ? 'unknown-kid flood' : 'bad-signature flood';
  rows.push(
    {
      scenario,
      label: `${name}: valid ${validLabel}, no flood`,
      connections: options.floodValidConnections,
      result: validWithout,
    },
    {
      scenario,
      label: `${name}: valid ${validLabel}, flooded`,
      connections: options.floodValidConnections,
      result: validWith,
    },
    {
      scenario,
      label: `${name}: the flood itself`,
      connections: options.floodConnections,
      result: floodResult,
      expectNon2xx: true,
    },
  );
  log(
    `  ${name}: valid p99 ${validWithout.latencyMs.p99.toFixed(2)} → ${validWith.latencyMs.p99.toFixed(2)} ms, flood ${floodResult.requestsPerSecond} req/s, JWKS fetches ${jwksFetches}`,
  );
  return {
    scenario,
    description,
    validWithout,
    validWith,
    flood: floodResult,
    jwksFetches,
    jwksLimit,
  };
}

function summarise(
  ctx: Context,
  rows: Row[],
  floods: FloodReport[],
  jwks: { atReady: number; afterRegular: number; regularRan: boolean },
) {
  const rps = (scenario: string, connections: number) =>
    rows.find((r) => r.scenario === scenario && r.connections === connections)?.result
      .requestsPerSecond;
  const mark = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? ' ✓' : ' ✗');
  const targetsMissed: string[] = [];
  const ratios: Record<string, Record<string, number | undefined>> = {};
  const lines: string[] = [];

  for (const connections of ctx.options.connections) {
    const health = rps('health', connections);
    const entry: Record<string, number | undefined> = {};
    for (const scenario of ['profile', 'todo', 'todos', 'create'] as const) {
      entry[scenario] = ratio(rps(scenario, connections), health);
    }
    ratios[String(connections)] = entry;
    if (entry.profile !== undefined) {
      const ok = entry.profile >= 0.85;
      if (!ok)
        targetsMissed.push(`auth overhead ${entry.profile} < 0.85 at ${connections} connections`);
      lines.push(
        `  auth overhead @${connections}: profile ${rps('profile', connections)} ÷ health ${health} req/s = ${entry.profile.toFixed(3)}${mark(ok)} (target ≥ 0.85)`,
      );
    }
    for (const scenario of ['todo', 'todos', 'create'] as const) {
      if (entry[scenario] === undefined) continue;
      lines.push(
        `  ${LABELS[scenario]} @${connections}: ${rps(scenario, connections)} req/s = ${entry[scenario].toFixed(3)} × health (${health} req/s)`,
      );
    }
  }
  if (jwks.regularRan) {
    const ok = jwks.afterRegular === 1;
    if (!ok) targetsMissed.push(`JWKS fetches ${jwks.afterRegular} (target 1)`);
    lines.push(
      `  JWKS fetches: ${jwks.atReady} at startup, ${jwks.afterRegular - jwks.atReady} during the throughput runs with ${ctx.options.users} distinct users → ${jwks.afterRegular} in total${mark(ok)} (target 1)`,
    );
  }
  for (const flood of floods) {
    const ok = flood.jwksFetches <= flood.jwksLimit;
    if (!ok)
      targetsMissed.push(
        `${flood.scenario}: ${flood.jwksFetches} JWKS fetches > ${flood.jwksLimit}`,
      );
    const codes = Object.entries(flood.flood.statusCodes)
      .map(([code, n]) => `${n}×${code}`)
      .join(', ');
    lines.push(
      `  ${flood.scenario} (${flood.description}): valid p50/p99 ${flood.validWithout.latencyMs.p50.toFixed(2)}/${flood.validWithout.latencyMs.p99.toFixed(2)} ms without, ` +
        `${flood.validWith.latencyMs.p50.toFixed(2)}/${flood.validWith.latencyMs.p99.toFixed(2)} ms with the flood ` +
        `(${flood.flood.requestsPerSecond} req/s: ${codes}); JWKS fetches during the flood ${flood.jwksFetches}${mark(ok)} ` +
        `(limit ${flood.jwksLimit}${flood.scenario === 'flood-kid' ? `: 1 per ${ctx.options.jwksCooldownSeconds} s cooldown` : ': known kid'})`,
    );
  }
  return { lines, ratios, targetsMissed };
}

interface Setup {
  options: BenchOptions;
  stamp: string;
  tempRoot: string;
  mainPath: string;
  cpuProfDir: string | undefined;
  cleanups: (() => Promise<unknown>)[];
}

interface Outcome {
  database: { description: string; embedded: boolean };
  rows: Row[];
  floods: FloodReport[];
  jwks: { atReady: number; afterRegular: number; total: number; regularRan: boolean };
  explain?: ExplainedQuery[] | string;
  scans: TableScanStats;
  todosMissing?: string;
  profileFile?: string;
  failures: string[];
  ctx: Context;
}

/** Issuer, users, database, app; then the scenarios; then a clean stop of the app. */
async function runBench(setup: Setup): Promise<Outcome> {
  const { options, cleanups } = setup;
  const jwksFetches: number[] = [];
  const issuer = await BetterAuthIssuer.start({
    onRequest: (request: IncomingMessage) => {
      if (request.url?.split('?')[0] === JWKS_PATH) jwksFetches.push(Date.now());
    },
  });
  cleanups.push(() => issuer.close());
  const mintStart = Date.now();
  const users = await BenchUsers.create(issuer, options.users);
  log(`  issuer ${issuer.url}; ${options.users} tokens minted in ${Date.now() - mintStart} ms`);

  const database = await prepareDatabase(setup.tempRoot);
  cleanups.push(() => database.stop());
  log(`  database: ${database.description}`);
  const scansBefore = await todosScanStats(database.url);

  const port = await freePort();
  const appStart = Date.now();
  const app = await AppProcess.start({
    mainPath: setup.mainPath,
    port,
    cwd: setup.tempRoot,
    logFile: join(setup.tempRoot, 'app.log'),
    cpuProfDir: setup.cpuProfDir,
    env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      // Metrics on, as in production, on a free port; `--app-env METRICS_PORT=0` measures without.
      METRICS_PORT: String(await freePort()),
      DATABASE_URL: database.url,
      BETTER_AUTH_URL: issuer.url,
      LOG_LEVEL: options.logLevel,
      JWKS_COOLDOWN_SECONDS: String(options.jwksCooldownSeconds),
      THROTTLE_USER_LIMIT: THROTTLE_OFF,
      THROTTLE_ANONYMOUS_LIMIT: THROTTLE_OFF,
      ...options.appEnv,
    },
  });
  cleanups.push(() => app.stop());
  const atReady = jwksFetches.length;
  log(
    `  app ready on ${app.url} (pid ${app.pid}) in ${Date.now() - appStart} ms; JWKS fetches so far: ${atReady}`,
  );

  const failures: string[] = [];
  const ctx: Context = {
    options,
    app,
    database,
    users,
    seeded: undefined,
    jwksFetches,
    failures,
  };
  const wanted = new Set<string>(options.scenarios);
  let explain: ExplainedQuery[] | string | undefined;
  let todosMissing: string | undefined;
  if (TODO_SCENARIOS.some((s) => wanted.has(s))) {
    try {
      const seededUsers = users.users.slice(0, options.seededUsers);
      ctx.seeded = await seedTodos(app.url, seededUsers, options.todosPerUser);
      log(`  seeded ${ctx.seeded.total} todos through POST /api/todos in ${ctx.seeded.ms} ms`);
      explain = await explainQueries(database.url, seededUsers[0].id).catch(
        (error: unknown) =>
          `EXPLAIN failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    } catch (error) {
      if (!(error instanceof TodosApiMissingError)) throw error;
      todosMissing = `todos API not available (${error.message}): todo scenarios skipped`;
      log(`  ${todosMissing}`);
    }
  }

  log('\nRunning:');
  const rows: Row[] = [];
  const floods: FloodReport[] = [];
  const regular = THROUGHPUT_SCENARIOS.filter(
    (s) => wanted.has(s) && !(todosMissing && TODO_SCENARIOS.includes(s)),
  );
  for (const scenario of regular) await runThroughput(ctx, scenario, rows);
  const afterRegular = jwksFetches.length;
  for (const scenario of ['flood-kid', 'flood-sig'] as const) {
    if (wanted.has(scenario)) floods.push(await runFlood(ctx, scenario, rows));
  }

  const appExit = await app.stop();
  if (appExit !== 'SIGTERM' && appExit !== 'exit code 0') {
    failures.push(`the app did not stop cleanly on SIGTERM (${appExit}):\n${app.logTail()}`);
  }
  // After the app stopped, every backend has flushed its statistics.
  const scans = scanStatsDelta(scansBefore, await todosScanStats(database.url));
  let profileFile: string | undefined;
  if (setup.cpuProfDir) {
    const profiles = readdirSync(setup.cpuProfDir).filter((f) => f.endsWith('.cpuprofile'));
    if (profiles[0]) {
      mkdirSync(options.outDir, { recursive: true });
      profileFile = join(options.outDir, `${setup.stamp}-app.cpuprofile`);
      copyFileSync(join(setup.cpuProfDir, profiles[0]), profileFile);
    } else {
      log('  (no CPU profile was written)');
    }
  }
  return {
    database: { description: database.description, embedded: database.embedded },
    rows,
    floods,
    jwks: { atReady, afterRegular, total: jwksFetches.length, regularRan: regular.length > 0 },
    explain,
    scans,
    todosMissing,
    profileFile,
    failures,
    ctx,
  };
}

/** Prints the table and the SPEC §9 figures, writes the JSON; returns the failures. */
function report(setup: Setup, startedAt: Date, cpuModel: string, outcome: Outcome): string[] {
  const { options } = setup;
  const { rows, floods, jwks, explain, scans, todosMissing, profileFile, database } = outcome;
  const failures = [...outcome.failures];
  const summary = summarise(outcome.ctx, rows, floods, jwks);
  log('\nResults (latency of 2xx responses; non-2xx counts errors and timeouts too):\n');
  log(formatTable(rows));
  log('\nSPEC §9:');
  for (const line of summary.lines) log(line);
  if (todosMissing) log(`  ${todosMissing}`);
  if (typeof explain === 'string') log(`\n${explain}`);
  for (const { title, plan } of Array.isArray(explain) ? explain : []) {
    log(`\nEXPLAIN ANALYZE, ${title}:\n${plan.replace(/^/gm, '  ')}`);
  }
  const indexes = Object.entries(scans.indexScans)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  log(
    `todos table accesses during the run (pg_stat): seq scans ${scans.seqScan}` +
      `${database.embedded ? ' (the 2 index builds of the migrations on the fresh database count as 2)' : ''}` +
      `; index scans: ${indexes || 'none'}`,
  );
  const profileSummary = profileFile ? summariseProfile(profileFile, 25) : undefined;
  if (profileSummary) {
    log(`\nApp CPU profile: ${profileFile} (self time over the whole run, by package)`);
    for (const line of profileSummary.packages.slice(0, 15)) {
      log(`  ${line.percent.toFixed(1).padStart(5)}%  ${line.what}`);
    }
    log('  (per function: node dist/scripts/bench/profile-summary.js <file>)');
  }

  mkdirSync(options.outDir, { recursive: true });
  const jsonFile = join(options.outDir, `${setup.stamp}.json`);
  const result = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options,
    environment: {
      node: process.version,
      cpus: availableParallelism(),
      cpuModel,
      loadAverage: loadavg(),
      database: outcome.database.description,
      appLogLevel: options.logLevel,
    },
    rows,
    ratios: summary.ratios,
    jwks,
    floods,
    explain,
    todosScans: scans,
    todosMissing,
    cpuProfile: profileFile,
    profileSummary,
    targetsMissed: summary.targetsMissed,
    failures,
  };
  writeFileSync(jsonFile, JSON.stringify(result, null, 2));
  log(`\nResults written to ${jsonFile}`);
  if (summary.targetsMissed.length > 0) {
    log(`Targets missed: ${summary.targetsMissed.join('; ')}`);
    if (options.strict) failures.push('targets missed (--strict)');
  }
  return failures;
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (!error.message) {
      log(USAGE);
      return 0;
    }
    console.error(`bench: ${error.message}\n\n${USAGE}`);
    return 2;
  }

  const startedAt = new Date();
  const mainPath = appMainPath(resolve(__dirname, '..'));
  if (!existsSync(mainPath)) throw new Error(`${mainPath} not found: run npm run build first`);
  // PostgreSQL runs as the `postgres` user when we are root: it must be able to enter this.
  const tempRoot = mkdtempSync(join(tmpdir(), 'todo-api-bench-'));
  chmodSync(tempRoot, 0o755);
  const cpuProfDir = options.cpuProf ? join(tempRoot, 'cpu-prof') : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir);
  const setup: Setup = {
    options,
    stamp: startedAt.toISOString().replace(/[:.]/g, '-'),
    tempRoot,
    mainPath,
    cpuProfDir,
    cleanups: [],
  };
  const cleanup = async () => {
    while (setup.cleanups.length > 0) await setup.cleanups.pop()!().catch(() => {});
    if (options.keepTemp) log(`Temp dir kept: ${tempRoot}`);
    else rmSync(tempRoot, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  }

  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  log(`Todo API benchmark (SPEC §9) — ${startedAt.toISOString()}`);
  log(
    `  ${availableParallelism()} CPUs (${cpuModel}), load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}, Node ${process.version}`,
  );
  log(
    `  app: node dist/src/main.js, LOG_LEVEL=${options.logLevel}` +
      (options.logLevel === 'warn' ? ' (no access lines; --log-level info measures them)' : '') +
      `, NODE_ENV=production, throttle limits raised to ${THROTTLE_OFF} per window (still counted)`,
  );
  const appEnvText = Object.entries(options.appEnv)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  if (appEnvText) log(`  extra app env: ${appEnvText}`);
  log(
    `  ${options.durationSeconds} s per run (+${options.warmupSeconds} s warm-up per scenario), connections ${options.connections.join(', ')}; ` +
      `${options.users} users with real EdDSA tokens, ${options.seededUsers} of them with ${options.todosPerUser} todos`,
  );

  let failures: string[];
  try {
    failures = report(setup, startedAt, cpuModel, await runBench(setup));
  } finally {
    await cleanup();
  }
  if (failures.length > 0) {
    console.error(`\nFAILED:\n${failures.map((f) => `  ${f}`).join('\n')}`);
    return 1;
  }
  log('OK: every valid request got a 2xx answer.');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('bench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(2);
  },
);
