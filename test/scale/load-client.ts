/**
 * The load for the scale-out test, in a process of its own: a steady mix of GETs and POSTs
 * through the proxy on kept-alive connections, until "stop" arrives on stdin or stdin ends; then
 * one JSON line on stdout with every request's outcome, and the process exits. Run by Node
 * directly (type stripping), so it imports only node: modules.
 *
 * Environment: TARGET (the proxy's URL), TOKENS (JSON list of bearer tokens), RUN_ID,
 * RATE (requests per second), CONNECTIONS.
 */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

interface Outcome {
  method: 'GET' | 'POST';
  title?: string;
  status?: number;
  error?: string;
}

const target = new URL(process.env.TARGET ?? '');
const tokens = JSON.parse(process.env.TOKENS ?? '[]') as string[];
const runId = process.env.RUN_ID ?? 'run';
const rate = Number(process.env.RATE ?? '100');
const connections = Number(process.env.CONNECTIONS ?? '8');
const agent = new Agent({ keepAlive: true, maxSockets: connections });
const outcomes: Outcome[] = [];
let stopping = false;

process.stdin.on('data', (chunk) => {
  if (String(chunk).includes('stop')) stopping = true;
});
process.stdin.on('end', () => {
  stopping = true;
});

function send(index: number): Promise<Outcome> {
  const method = index % 3 === 0 ? 'POST' : 'GET';
  const title = method === 'POST' ? `scale ${runId} #${index}` : undefined;
  const body = title === undefined ? undefined : JSON.stringify({ title });
  return new Promise((resolve) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: '/api/todos?limit=5',
        method,
        agent,
        headers: {
          authorization: `Bearer ${tokens[index % tokens.length]}`,
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ method, title, status: res.statusCode }));
        res.on('error', (error) => resolve({ method, title, error: error.message }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ method, title, error: error.code ?? error.message }),
    );
    req.end(body);
  });
}

async function main(): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const intervalMs = 1000 / rate;
  let index = 0;
  const startedAt = Date.now();
  while (!stopping) {
    const pending = send(index++).then((outcome) => {
      outcomes.push(outcome);
      inFlight.delete(pending);
    });
    inFlight.add(pending);
    // Paced by the clock, not by the answers: a slow instance does not slow the load down.
    const wait = startedAt + index * intervalMs - Date.now();
    if (wait > 0) await sleep(wait);
    while (inFlight.size >= connections * 4) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  agent.destroy();
  // An open stdin would keep the event loop, and so this process, alive after the last answer.
  process.stdin.destroy();
  process.stdout.write(`${JSON.stringify(outcomes)}\n`);
}

void main();
