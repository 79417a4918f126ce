import { LoadResult } from './load-protocol';

export interface Row {
  /** Scenario key (health, profile, …, flood-kid, flood-sig). */
  scenario: string;
  label: string;
  connections: number;
  result: LoadResult;
  /** Flood traffic: its non-2xx answers are the point, not a failure. */
  expectNon2xx?: boolean;
  /** CPU time per response (µs) of the app and of PostgreSQL during the run. */
  cpu?: { app?: number; db?: number };
}

export interface FloodReport {
  scenario: 'flood-kid' | 'flood-sig';
  description: string;
  validWithout: LoadResult;
  validWith: LoadResult;
  flood: LoadResult;
  jwksFetches: number;
  jwksLimit: number;
}

const pad = (text: string, width: number, right = false) =>
  right ? text.padStart(width) : text.padEnd(width);

/** The one table: scenario, connections, req/s, p50, p99, non-2xx. */
export function formatTable(rows: Row[]): string {
  const header = [
    'scenario',
    'conns',
    'req/s',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'app µs/req',
    'pg µs/req',
  ];
  const lines = rows.map((row) => {
    const r = row.result;
    const bad = r.non2xx + r.errors + r.timeouts;
    const non2xx = row.expectNon2xx
      ? `${r.non2xx} (flood, expected)`
      : `${bad}${r.errors + r.timeouts > 0 ? ` (${r.errors} errors, ${r.timeouts} timeouts)` : ''}`;
    return [
      row.label,
      String(row.connections),
      String(r.requestsPerSecond),
      row.expectNon2xx ? '-' : r.latencyMs.p50.toFixed(2),
      row.expectNon2xx ? '-' : r.latencyMs.p99.toFixed(2),
      non2xx,
      row.cpu?.app === undefined ? '-' : String(row.cpu.app),
      row.cpu?.db === undefined ? '-' : String(row.cpu.db),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => pad(cell, widths[i], i !== 0 && i !== 5))
      .join('  ')
      .trimEnd();
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)].join(
    '\n',
  );
}

export function ratio(numerator: number | undefined, denominator: number | undefined) {
  if (!numerator || !denominator) return undefined;
  return Math.round((numerator / denominator) * 1000) / 1000;
}
