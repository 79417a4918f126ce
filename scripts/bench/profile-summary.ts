import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

export interface ProfileLine {
  percent: number;
  what: string;
}

/** Self time per function and per package (node_modules/<pkg>, node:, src/), from a .cpuprofile. */
export function summariseProfile(
  file: string,
  top = 30,
): { functions: ProfileLine[]; packages: ProfileLine[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const total = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0) || 1;
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
  }
  const rank = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([what, hits]) => ({ percent: Math.round((hits / total) * 1000) / 10, what }));
  return { functions: rank(byFunction), packages: rank(byPackage) };
}

/** Compiled app and bench code: `dist/` of `npm run build`, or any other build directory. */
const BUILD_DIR = /\/(dist|[\w.-]*-dist)\/(src|scripts|test|migrations)\//;

function shorten(url: string): string {
  const build = BUILD_DIR.exec(url);
  if (build) return url.slice(build.index + build[0].length - build[2].length - 1);
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) return url.slice(nm + 'node_modules/'.length);
  return url.startsWith('file://') ? basename(url) : url;
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const build = BUILD_DIR.exec(url);
  if (build) {
    const rest = url.slice(build.index + build[0].length).split('/');
    return `app ${build[2]}/${rest.length > 1 ? rest[0] : ''}`;
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url.split('/')[0];
  if (url.includes('/dist/'))
    return `app ${url
      .slice(url.indexOf('/dist/') + 6)
      .split('/')
      .slice(0, 2)
      .join('/')}`;
  return url;
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/scripts/bench/profile-summary.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  const { functions, packages } = summariseProfile(file, Number(process.argv[3] ?? 30));
  console.log('self time by package:');
  for (const line of packages) console.log(`${line.percent.toFixed(1).padStart(6)}%  ${line.what}`);
  console.log('\nself time by function:');
  for (const line of functions)
    console.log(`${line.percent.toFixed(1).padStart(6)}%  ${line.what}`);
}
