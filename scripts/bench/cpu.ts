import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ, fixed at 100 for user space). */
const MS_PER_TICK = 10;

interface ProcStat {
  ppid: number;
  cpuMs: number;
  /** CPU time of children it has reaped (a PostgreSQL backend's, once it exits). */
  reapedChildrenCpuMs: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      cpuMs: (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK,
      reapedChildrenCpuMs: (Number(fields[13]) + Number(fields[14])) * MS_PER_TICK,
    };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) a process has used so far, in ms; undefined off Linux. Unlike req/s,
 * CPU per request hardly moves when other programs compete for the cores, so it is the figure
 * to compare two builds by on a busy machine.
 */
export function processCpuMs(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : readStat(pid)?.cpuMs;
}

/**
 * CPU time of a process and its children, live or exited (PostgreSQL: the postmaster and its
 * backends; a backend that exits, say when the pool closes an idle connection, moves its time
 * into the postmaster's reaped-children count, so the total never goes back).
 */
export function processTreeCpuMs(rootPid: number | undefined): number | undefined {
  if (rootPid === undefined) return undefined;
  const root = readStat(rootPid);
  if (!root) return undefined;
  let total = root.cpuMs + root.reapedChildrenCpuMs;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat?.ppid === rootPid) total += stat.cpuMs;
  }
  return total;
}

/** The postmaster's pid, from the first line of `postmaster.pid` in the data directory. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
