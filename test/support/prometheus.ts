import { request } from 'node:http';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: readonly string[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
/** Sample names a family of each type may have, after the family's own name. */
const SUFFIXES: Record<MetricType, readonly string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4): every sample belongs
 * to a family declared by `# HELP` and `# TYPE` before it, with a name its type allows; label
 * values are properly quoted and escaped; no label repeats; values are numbers, NaN or ±Inf; a
 * family appears once. Throws on the first violation, naming the line.
 */
export function parseExposition(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  let current: MetricFamily | undefined;
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the exposition must end with a newline');
  lines.pop();
  lines.forEach((line, index) => {
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line === '') return;
    const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (comment) {
      const [, keyword, name, rest] = comment;
      if (!NAME.test(name)) fail('bad metric name');
      if (keyword === 'HELP') {
        if (families.has(name)) fail('family declared twice');
        current = { name, type: 'untyped', help: unescapeHelp(rest), samples: [] };
        families.set(name, current);
      } else {
        if (current === undefined || current.name !== name || current.samples.length > 0) {
          return fail('TYPE not right after HELP');
        }
        if (!TYPES.includes(rest)) fail('unknown type');
        current.type = rest as MetricType;
      }
      return;
    }
    if (line.startsWith('#')) return;
    const sample = parseSample(line, fail);
    if (!current) return fail('sample before any family');
    const suffix = sample.name.slice(current.name.length);
    if (!sample.name.startsWith(current.name) || !SUFFIXES[current.type].includes(suffix)) {
      fail(`sample does not belong to ${current.type} ${current.name}`);
    }
    if (current.type === 'histogram' && suffix === '_bucket' && sample.labels.le === undefined) {
      fail('histogram bucket without le');
    }
    current.samples.push(sample);
  });
  return families;
}

function parseSample(line: string, fail: (why: string) => never): Sample {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? fail('no metric name');
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const match = /^([^=]+)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/.exec(rest) ?? fail('bad label');
      const [whole, labelName, rawValue, comma] = match;
      if (!LABEL_NAME.test(labelName)) fail('bad label name');
      if (labelName in labels) fail('label repeated');
      labels[labelName] = rawValue.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(whole.length);
      if (!comma && !rest.startsWith('}')) fail('labels not separated by commas');
    }
    rest = rest.slice(1);
  }
  const fields = /^ (\S+)(?: (-?\d+))?$/.exec(rest) ?? fail('bad value');
  return { name, labels, value: parseValue(fields[1], fail) };
}

function parseValue(text: string, fail: (why: string) => never): number {
  // Prometheus reads values with Go's ParseFloat, which takes NaN in any case; prom-client
  // writes `Nan`.
  if (/^nan$/i.test(text)) return Number.NaN;
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) fail('value is not a number');
  return Number(text);
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** The one sample of `name` whose labels include `labels`; undefined when there is none. */
export function sampleOf(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): Sample | undefined {
  const family = [...families.values()].find((f) =>
    f.samples.some((sample) => sample.name === name),
  );
  const matching = (family?.samples ?? []).filter(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (matching.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} is ambiguous`);
  return matching[0];
}

/** The value of that sample, 0 when it does not exist (a counter that has not counted yet). */
export function valueOf(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  return sampleOf(families, name, labels)?.value ?? 0;
}

export interface Scrape {
  status: number;
  contentType: string | undefined;
  text: string;
}

/** GETs a metrics URL (plain node:http: no keep-alive, nothing cached). */
export function scrape(url: string, method = 'GET'): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Scrapes and parses; fails unless the answer is a 200 Prometheus text exposition. */
export async function scrapeMetrics(metricsUrl: string): Promise<Map<string, MetricFamily>> {
  const reply = await scrape(`${metricsUrl}/metrics`);
  if (reply.status !== 200) throw new Error(`scrape answered ${reply.status}: ${reply.text}`);
  if (!reply.contentType?.startsWith('text/plain; version=0.0.4')) {
    throw new Error(`scrape answered ${reply.contentType}`);
  }
  return parseExposition(reply.text);
}
