/**
 * Speed-layer handler benchmark: one 10,000-record Kinesis batch (1% malformed),
 * through the handler's pure core and through bare base64 + JSON.parse, in the
 * same process, after warm-up. Run: `npx ts-node bench/handler/run.ts`.
 * Writes bench/results/handler.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { kinesisDecoder } from '../../lambdas/shared/kinesis';
import { processBatch } from '../../lambdas/speed-layer/core';
import { EMPTY_RULE_STATE } from '../../lambdas/speed-layer/rules';
import { kinesisEvent, mixedBatch } from '../../test/lambdas/fixtures';

const RECORDS = 10_000;
const WARM_UP = 5;
const REPETITIONS = 30;

const event = kinesisEvent(0, mixedBatch(RECORDS, { malformedEvery: 100 }), { window: true });
const layout = { speedPrefix: 'speed', deadLetterPrefix: 'deadletter/speed' };

/** What the handler computes, minus S3/SNS: decode, validate, views, dead letters, rules, state snapshot. */
function handlerCore(): number {
  const records = kinesisDecoder.decode(event);
  const result = processBatch({ records, ruleState: EMPTY_RULE_STATE, now: Date.now(), layout });
  return result.units.length + result.state.bytes;
}

/** The floor: decode and parse every record, nothing else. */
function bareParse(): number {
  let parsed = 0;
  for (const record of event.Records) {
    try {
      JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8'));
      parsed += 1;
    } catch {
      // a malformed record: the floor does not even look at it
    }
  }
  return parsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const loadBefore = loadavg()[0];
let sink = 0; // consumed so the work cannot be optimised away
const timings = { core: [] as number[], bare: [] as number[] };
for (let i = 0; i < WARM_UP; i += 1) sink += handlerCore() + bareParse();
for (let i = 0; i < REPETITIONS; i += 1) {
  // Interleaved so both see the same machine conditions.
  let start = performance.now();
  sink += handlerCore();
  timings.core.push(performance.now() - start);
  start = performance.now();
  sink += bareParse();
  timings.bare.push(performance.now() - start);
}

const coreRps = Math.round(RECORDS / (median(timings.core) / 1000));
const bareRps = Math.round(RECORDS / (median(timings.bare) / 1000));
const result = {
  date: new Date().toISOString(),
  node: process.version,
  arch: process.arch,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: availableParallelism(),
  // Other processes on the machine move the absolute figures; the ratio is the steadier number.
  loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number(loadavg()[0].toFixed(2)) },
  records: RECORDS,
  malformedRecords: RECORDS / 100,
  warmUp: WARM_UP,
  repetitions: REPETITIONS,
  statistic: 'median of repetitions',
  handlerCoreRecordsPerSecond: coreRps,
  bareParseRecordsPerSecond: bareRps,
  bareOverCoreRatio: Number((bareRps / coreRps).toFixed(2)),
  handlerCoreMedianMs: Number(median(timings.core).toFixed(2)),
  bareParseMedianMs: Number(median(timings.bare).toFixed(2)),
  included:
    'handler core: Kinesis decoding, strict base64 and UTF-8 checks, JSON.parse, ajv schema validation, dead-letter bodies, ' +
    'per-segment view aggregation and NDJSON serialisation, R1/R2 rules, state pruning and snapshot',
  excluded: 'S3 PutObject and SNS Publish (network I/O), Powertools logging and metrics, Lambda runtime overhead, cold start',
};

console.log(`Speed-layer handler benchmark: ${RECORDS} records (1% malformed), median of ${REPETITIONS} after ${WARM_UP} warm-up runs`);
console.log(`  handler core         ${coreRps.toLocaleString('en-US')} records/s (${result.handlerCoreMedianMs} ms per batch)`);
console.log(`  bare base64 + parse  ${bareRps.toLocaleString('en-US')} records/s (${result.bareParseMedianMs} ms per batch)`);
console.log(`  ratio bare / core    ${result.bareOverCoreRatio}`);
console.log(`  included: ${result.included}`);
console.log(`  excluded: ${result.excluded}`);
console.log(
  `  (${process.version}, ${result.cores} cores, ${result.cpu}, 1-min load ${result.loadAverage1m.before} -> ${result.loadAverage1m.after}; checksum ${sink % 1000})`,
);

const resultsDir = join(__dirname, '..', 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'handler.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(`  written to ${join('bench', 'results', 'handler.json')}`);
