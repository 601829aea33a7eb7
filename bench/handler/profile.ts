/**
 * Where the speed-layer handler core spends its time: runs the benchmark's batch through the core only, under
 * V8's CPU profiler (Node's --cpu-prof), and prints self time per function and per source file.
 *   npm run bench -- handler-profile
 * or by hand: node --cpu-prof --cpu-prof-dir=DIR -r ts-node/register/transpile-only bench/handler/profile.ts run
 *             npx ts-node --transpile-only bench/handler/profile.ts summarize DIR/<file>.cpuprofile
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { handlerCore } from './workload';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const REPETITIONS = 60;

function where(url: string): string {
  if (!url) return '(native/V8)';
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (inModules) return inModules[1];
  if (path.startsWith('node:')) return path;
  return relative(process.cwd(), path);
}

/**
 * Self time by function and by file, as shares of the samples taken from the first one inside `handlerCore` on:
 * that leaves out start-up (TypeScript compiling, the fixture batch being built) but keeps the garbage collector,
 * which the profiler samples outside any JavaScript stack.
 */
function summarize(file: string, top = 25): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const underCore = (id: number): boolean => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (nodes.get(at)!.callFrame.functionName === 'handlerCore') return true;
    }
    return false;
  };
  const first = profile.samples.findIndex(underCore);
  if (first < 0) throw new Error(`${file}: no sample inside handlerCore`);
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    if (i >= first) selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of selfMicros) {
    const { callFrame } = nodes.get(id)!;
    if (callFrame.functionName === '(idle)' || callFrame.functionName === '(program)') continue;
    const file = where(callFrame.url);
    const name = `${callFrame.functionName || '(anonymous)'}  ${file}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    byFile.set(file, (byFile.get(file) ?? 0) + micros);
    total += micros;
  }
  const print = (title: string, entries: Map<string, number>, n: number) => {
    console.log(`\n${title} (self time, % of ${(total / 1000).toFixed(0)} ms sampled while the core ran, idle/program left out)`);
    for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(`  ${((100 * micros) / total).toFixed(1).padStart(5)} %  ${name}`);
    }
  };
  print('By function', byFunction, top);
  print('By file or package', byFile, 15);
}

const [mode, file] = process.argv.slice(2);
if (mode === 'run') {
  let sink = 0;
  for (let i = 0; i < REPETITIONS; i += 1) sink += handlerCore();
  console.log(`profiled ${REPETITIONS} batches (checksum ${sink % 1000})`);
} else if (mode === 'summarize' && file) {
  summarize(file);
} else {
  console.error('usage: profile.ts run | profile.ts summarize <file.cpuprofile>');
  process.exit(2);
}
