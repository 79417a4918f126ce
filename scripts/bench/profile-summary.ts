import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: {
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }[];
}

export interface ProfileLine {
  percent: number;
  what: string;
}

/** Self time per function and per package (a node_modules package, node:, or the app's files). */
export function summariseProfile(file: string, top = 20) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  // Of the time the app was busy: idle samples (waiting for requests) are left out.
  const busy = profile.nodes.filter((node) => node.callFrame.functionName !== '(idle)');
  const total = busy.reduce((sum, node) => sum + (node.hitCount ?? 0), 0) || 1;
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, hits: number) =>
    map.set(key, (map.get(key) ?? 0) + hits);
  for (const { callFrame, hitCount = 0 } of busy) {
    if (hitCount === 0) continue;
    const { functionName, url, lineNumber } = callFrame;
    const nm = url.lastIndexOf('node_modules/');
    const dist = url.lastIndexOf('/dist/');
    const short = nm >= 0 ? url.slice(nm + 13) : dist >= 0 ? url.slice(dist + 6) : url;
    add(byFunction, `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`, hitCount);
    const parts = short.split('/');
    const pkg = !url
      ? functionName
      : nm >= 0
        ? parts.slice(0, parts[0].startsWith('@') ? 2 : 1).join('/')
        : dist >= 0
          ? `app ${parts.slice(0, 2).join('/')}`
          : url.split('/')[0];
    add(byPackage, pkg, hitCount);
  }
  const rank = (map: Map<string, number>): ProfileLine[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([what, hits]) => ({ percent: (hits / total) * 100, what }));
  return { functions: rank(byFunction), packages: rank(byPackage) };
}
