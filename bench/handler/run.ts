/**
 * Speed-layer handler benchmark: one 10,000-record Kinesis batch (1% malformed),
 * through the handler's pure core and through bare base64 + JSON.parse, in the
 * same process, after warm-up; then the deployment bundle's size and load time (bundle.ts). Run: `npm run bench -- handler`.
 * Writes bench/results/handler.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { measureSpeedLayerBundle } from './bundle';
import { RECORDS, bareParse, handlerCore } from './workload';

const WARM_UP = 5;
const REPETITIONS = 40;
const LOAD_RUNS = 9;
/** Issue 17's goals for the bundle: its size and the time to load it. */
const BUNDLE_GOAL = { kilobytes: 150, loadMs: 50 };
/** Issue 17's goal: the core at least half as fast as bare base64 + JSON.parse. */
const GOAL = 0.5;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
const median = (values: number[]) => quantile(values, 0.5);
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

const loadBefore = loadavg()[0];
let sink = 0; // consumed so the work cannot be optimised away
const timings = { core: [] as number[], bare: [] as number[] };
/** Per repetition: core throughput / bare throughput, from one core run and the bare run next to it. */
const ratios: number[] = [];
for (let i = 0; i < WARM_UP; i += 1) sink += handlerCore() + bareParse();
for (let i = 0; i < REPETITIONS; i += 1) {
  // Interleaved, and each pair in alternating order, so both see the same machine conditions.
  const order = i % 2 === 0 ? (['core', 'bare'] as const) : (['bare', 'core'] as const);
  const took = { core: 0, bare: 0 };
  for (const which of order) {
    const start = performance.now();
    sink += which === 'core' ? handlerCore() : bareParse();
    took[which] = performance.now() - start;
    timings[which].push(took[which]);
  }
  ratios.push(took.bare / took.core);
}

// The bundle after the handler's runs, so its child processes do not share the machine with them.
const bundle = measureSpeedLayerBundle(LOAD_RUNS);
const kb = (bytes: number) => round(bytes / 1024, 1);
const bundleResult = {
  built: 'lambdas/speed-layer/index.ts with PlatformFunction\'s bundling options (lib/constructs/platform-function.ts) through esbuild',
  kilobytes: kb(bundle.bytes),
  largestPackagesKilobytes: Object.fromEntries(bundle.byPackage.slice(0, 10).map((p) => [p.name, kb(p.bytes)])),
  loadMsMedian: round(median(bundle.loadMs), 1),
  loadMsSpread: { min: round(quantile(bundle.loadMs, 0), 1), max: round(quantile(bundle.loadMs, 1), 1) },
  loadRuns: LOAD_RUNS,
  baseline: 'the S3 client alone (bench/handler/bundle.ts, S3_CLIENT_ALONE), built the same way, loaded in runs interleaved with the bundle\'s',
  baselineKilobytes: kb(bundle.baselineBytes),
  baselineLoadMsMedian: round(median(bundle.baselineLoadMs), 1),
  loadOverBaseline: round(median(bundle.loadMs) / median(bundle.baselineLoadMs)),
  goal: BUNDLE_GOAL,
  met: bundle.bytes / 1024 <= BUNDLE_GOAL.kilobytes && median(bundle.loadMs) <= BUNDLE_GOAL.loadMs,
  loadIncludes: 'a fresh node process requiring the bundle: module evaluation, the environment check, the SDK clients and Powertools made at the top level; not the process start',
};

const coreRps = Math.round(RECORDS / (median(timings.core) / 1000));
const bareRps = Math.round(RECORDS / (median(timings.bare) / 1000));
const ratio = round(median(ratios));
const result = {
  date: new Date().toISOString(),
  node: process.version,
  arch: process.arch,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: availableParallelism(),
  // Other processes on the machine move the absolute figures; the ratio is the steadier number.
  loadAverage1m: { before: round(loadBefore), after: round(loadavg()[0]) },
  records: RECORDS,
  malformedRecords: RECORDS / 100,
  warmUp: WARM_UP,
  repetitions: REPETITIONS,
  statistic: 'median of repetitions; the ratio is the median of the per-repetition ratios (a core run and the bare run beside it)',
  handlerCoreRecordsPerSecond: coreRps,
  bareParseRecordsPerSecond: bareRps,
  coreOverBareThroughput: ratio,
  coreOverBareSpread: { min: round(quantile(ratios, 0)), p25: round(quantile(ratios, 0.25)), p75: round(quantile(ratios, 0.75)), max: round(quantile(ratios, 1)) },
  goal: GOAL,
  met: ratio >= GOAL,
  handlerCoreMedianMs: round(median(timings.core)),
  bareParseMedianMs: round(median(timings.bare)),
  included:
    'handler core: Kinesis decoding, strict base64 and UTF-8 checks, JSON.parse, schema validation (hand-checked fast path, ajv for ' +
    'what it does not accept), dead-letter bodies, per-segment view aggregation and NDJSON serialisation, R1/R2 rules, state pruning and snapshot',
  excluded: 'S3 PutObject and SNS Publish (network I/O), Powertools logging and metrics, Lambda runtime overhead, cold start',
  bundle: bundleResult,
};

console.log(`Speed-layer handler benchmark: ${RECORDS} records (1% malformed), median of ${REPETITIONS} after ${WARM_UP} warm-up runs`);
console.log(`  handler core         ${coreRps.toLocaleString('en-US')} records/s (${result.handlerCoreMedianMs} ms per batch)`);
console.log(`  bare base64 + parse  ${bareRps.toLocaleString('en-US')} records/s (${result.bareParseMedianMs} ms per batch)`);
const spread = result.coreOverBareSpread;
console.log(`  core / bare          ${ratio} (spread ${spread.min} | ${spread.p25} - ${spread.p75} | ${spread.max}; goal >= ${GOAL}: ${result.met ? 'met' : 'not met'})`);
console.log(
  `  bundle               ${bundleResult.kilobytes} KB, loads in ${bundleResult.loadMsMedian} ms (median of ${LOAD_RUNS}; S3 client alone: ` +
    `${bundleResult.baselineKilobytes} KB, ${bundleResult.baselineLoadMsMedian} ms; goal <= ${BUNDLE_GOAL.kilobytes} KB and <= ${BUNDLE_GOAL.loadMs} ms: ${bundleResult.met ? 'met' : 'not met'})`,
);
console.log(`  largest packages (KB) ${JSON.stringify(bundleResult.largestPackagesKilobytes)}`);
console.log(`  included: ${result.included}`);
console.log(`  excluded: ${result.excluded}`);
console.log(
  `  (${process.version}, ${result.cores} cores, ${result.cpu}, 1-min load ${result.loadAverage1m.before} -> ${result.loadAverage1m.after}; checksum ${sink % 1000})`,
);

const resultsDir = join(__dirname, '..', 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'handler.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(`  written to ${join('bench', 'results', 'handler.json')}`);
