/**
 * End-to-end benchmark of the sandbox: a sandbox of its own (temporary home, free ports), the
 * whole architecture running, measured from outside as a user would see it.
 *
 *   1. Latency at a set rate (default 200 records/s for 90 s, the generated workload with marker
 *      records mixed in):
 *      - produce -> queryable in the speed view (marker rows in `speed/spend_per_card_minute/`);
 *      - produce -> alert, per path (the ground truth's incidents: `speed/alerts/` files, and the
 *        Flink `alerts` view through DuckDB);
 *      - baseline in the same run: produce -> readable by a bare LogReader polling the log.
 *   2. Highest sustained rate: steps of increasing set rate, each judged by the speed layer's and
 *      the Flink job's lag; baseline in the same run: the producer alone (consumers idle).
 *
 * Run: `npm run bench -- e2e`, or `npx ts-node --transpile-only bench/e2e/run.ts [flags]`:
 *   --rate <n>           latency phase, records/s (default 200)
 *   --duration <s>       latency phase, seconds (default 90)
 *   --steps <a,b,...>    rate steps, records/s (default 250,500,1000,2000,4000,8000,16000; stepping stops at
 *                        the first step not sustained, or once the producer reaches < 90% of the set rate)
 *   --step-seconds <s>   seconds per step (default 20)
 *   --logs <a,b>         sections, in order (default kafka,kinesis; Flink runs on both). The result
 *                        file keeps the sections of logs not run, each with its own `measuredOn`
 *   --seed <n>           workload seed (default 42)
 * Writes bench/results/e2e.json and prints a summary. Figures come from one run on whatever
 * machine runs it; compare the ratios, not the absolute figures, across runs.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Supervisor } from '../../sandbox/engines';
import { generateWorkload, type CardProfile, type GeneratedWorkload, type LabelledRecord } from '../../sandbox/generator';
import { openLog, type LocalLog, type LogReader } from '../../sandbox/log';
import { sandboxPlatformConfig } from '../../sandbox/platform-config';
import { produceAtRate } from '../../sandbox/produce';
import { makeWorkload } from '../../sandbox/run';
import { openLakeSql } from '../../sandbox/serving/lake-sql';
import { flinkLag, LOCAL_CHECKPOINT_INTERVAL_MS, startSandbox, type Sandbox } from '../../sandbox/session';
import { sandboxDirs, type LogKind, type SandboxSettings } from '../../sandbox/settings';
import { PATH_RULES } from '../../sandbox/summary';
import { readStatus } from '../../sandbox/workers/status';
import { REPO, testSettings } from '../../test/helpers/sandbox';

// ---------------------------------------------------------------- parameters

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function numberFlag(name: string, fallback: number): number {
  const text = flag(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, not ${text}`);
  return value;
}

const PARAMS = {
  latencyRate: numberFlag('rate', 200),
  latencyDurationSeconds: numberFlag('duration', 90),
  seed: Math.trunc(numberFlag('seed', 42)),
  /** One marker record every this many seconds of the latency phase. */
  markerEverySeconds: 0.5,
  /** No markers in the first seconds: every consumer (the bare reader too) joins its group then. */
  markerWarmUpSeconds: 5,
  /** How often the speed view's and the speed alerts' folders are listed. */
  speedPollMs: 100,
  /** How often the Flink alerts view is queried through a fresh DuckDB (openLakeSql). */
  streamPollMs: 1000,
  /**
   * How long the bare log reader pauses after an empty read of a unit: Kafka 20 ms; Kinesis 200 ms, the
   * GetRecords limit of 5 reads per second per shard (faster polling would load kinesis-local, which runs on
   * the same cores as everything measured).
   */
  baselineIdlePollMs: { kafka: 20, kinesis: 200 } as Record<LogKind, number>,
  /** After the last record: how long to wait for markers and speed alerts, and for stream alerts. */
  speedDrainSeconds: 30,
  streamDrainSeconds: 90,
  steps: (flag('steps') ?? '250,500,1000,2000,4000,8000,16000').split(',').map(Number),
  stepSeconds: numberFlag('step-seconds', 20),
  /** A step's producing is cut at this multiple of its duration when the producer cannot reach the rate. */
  stepCutFactor: 1.5,
  /** Stepping stops when the producer achieves less than this share of a step's set rate. */
  producerReachedShare: 0.9,
  /** Lag samples during a step and its settle. */
  lagSampleMs: 500,
  settleSeconds: 15,
  /** Sustained: lag back within this share of the step's records of its value before the step... */
  sustainedTolerance: 0.05,
  /** ...at most this long after the step's last record was accepted (the path's design holding time + margin). */
  catchUpAllowanceSeconds: { speed: 8, stream: 15 },
  producerBaselineSeconds: 10,
  logs: (flag('logs') ?? 'kafka,kinesis').split(',') as LogKind[],
};
for (const step of PARAMS.steps) if (!(step > 0)) throw new Error(`--steps must be positive rates, not ${flag('steps')}`);
for (const log of PARAMS.logs) if (log !== 'kafka' && log !== 'kinesis') throw new Error(`--logs: kafka or kinesis, not ${log}`);

const { config } = sandboxPlatformConfig(REPO);
const stream = config.streamProcessing;
const MARKER_PREFIX = 'bench-m';

// ---------------------------------------------------------------- small helpers

interface Stats {
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Nearest-rank percentiles. */
function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => (sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] : null);
  return { count: sorted.length, p50Ms: rank(50), p99Ms: rank(99), maxMs: sorted.length ? sorted[sorted.length - 1] : null };
}

const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : Number((a / b).toFixed(1)));
const secs = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(2)} s`);
const round = (value: number, digits = 0) => Number(value.toFixed(digits));

/** `java -version` writes its banner to stderr. */
function javaVersionLine(): string {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return (result.stderr || result.stdout || 'unknown').split('\n')[0].trim();
}

/** A valid transaction on a card nothing else uses, at most 95.00, in its home country: it triggers no rule. */
function markerRecord(runId: string, n: number, eventTime: number): LabelledRecord {
  const cardId = `${MARKER_PREFIX}${String(n).padStart(4, '0')}`;
  const data = JSON.stringify({
    txnId: `${runId}-bench-${String(n).padStart(4, '0')}`,
    cardId,
    customerId: `bench-cust-${String(n).padStart(4, '0')}`,
    merchantId: 'bench-merchant',
    amount: 42.5,
    currency: 'USD',
    country: 'US',
    channel: 'POS',
    eventTime,
    schemaVersion: 1,
  });
  return { key: cardId, data, label: { kind: 'normal' } };
}

function markerProfile(n: number): CardProfile {
  return {
    cardId: `${MARKER_PREFIX}${String(n).padStart(4, '0')}`,
    customerId: `bench-cust-${String(n).padStart(4, '0')}`,
    homeCountry: 'US',
    currency: 'USD',
    segment: 'consumer',
    riskTier: 'low',
  };
}

/** New files under a folder, each reported once (hidden files are temporary uploads). */
class FolderWatcher {
  private readonly done = new Set<string>();
  constructor(readonly dir: string) {}
  pending(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    const names = fs.readdirSync(this.dir, { recursive: true, encoding: 'utf8' });
    return names.filter((name) => name.endsWith('.json') && !path.basename(name).startsWith('.') && !this.done.has(name));
  }
  markDone(name: string): void {
    this.done.add(name);
  }
}

// ---------------------------------------------------------------- cleanup on error and Ctrl-C

type Section = { settings: SandboxSettings; sandbox?: Sandbox; baselineLog?: LocalLog };
let current: Section | undefined;
/** Teardowns run one after the other; the process exits only once the last one is done. */
let pendingTeardown: Promise<void> = Promise.resolve();

async function stopSection(section: Section): Promise<void> {
  await section.baselineLog?.close().catch(() => undefined);
  await section.sandbox?.log.close().catch(() => undefined);
  // The sandbox's Supervisor stops what it started; a fresh one stops what this home's processes.json
  // lists, which covers a start still under way. Both stop only processes carrying this home's marker.
  if (section.sandbox) await section.sandbox.supervisor.stopAll().catch(() => undefined);
  await new Supervisor(section.settings).stopAll().catch(() => undefined);
  fs.rmSync(section.settings.home, { recursive: true, force: true });
}

function teardown(): Promise<void> {
  const section = current;
  current = undefined;
  if (section) pendingTeardown = pendingTeardown.then(() => stopSection(section));
  return pendingTeardown;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.log(`\n${signal}: stopping the benchmark's sandbox and deleting its home ...`);
    teardown().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------- lag

/** The speed-layer worker rewrites its status file about once a second; an older one is not a current lag. */
const STATUS_MAX_AGE_MS = 3000;

function speedStatusAgeMs(settings: SandboxSettings): number | undefined {
  const status = readStatus(settings, 'speed-layer');
  return status ? Date.now() - status.updatedAt : undefined;
}

function speedLag(settings: SandboxSettings): number | undefined {
  const units = (readStatus(settings, 'speed-layer')?.counters as { units?: Record<string, { lag?: number }> } | undefined)?.units;
  if (!units) return undefined;
  let total = 0;
  for (const unit of Object.values(units)) {
    if (typeof unit.lag !== 'number') return undefined;
    total += unit.lag;
  }
  return total;
}

async function streamLag(sandbox: Sandbox): Promise<number | undefined> {
  if (!sandbox.flink.running || sandbox.flink.version === undefined) return undefined;
  return flinkLag(sandbox.settings, sandbox.flink.version).catch(() => undefined);
}

async function waitIdle(sandbox: Sandbox, timeoutMs: number): Promise<{ speed?: number; stream?: number; waitedMs: number }> {
  const began = Date.now();
  for (;;) {
    const speed = speedLag(sandbox.settings);
    const lag = await streamLag(sandbox);
    const idle = speed === 0 && (!sandbox.flink.running || lag === 0);
    if (idle || Date.now() - began > timeoutMs) return { speed, stream: lag, waitedMs: Date.now() - began };
    await sleep(1000);
  }
}

// ---------------------------------------------------------------- 1. latency

interface LatencyResult {
  rate: number;
  durationSeconds: number;
  recordsProduced: number;
  markers: number;
  incidents: number;
  producerAchievedRate: number;
  speedView: Stats & { missing: number };
  speedAlerts: Stats & { expected: number; missing: number };
  streamAlerts?: Stats & { expected: number; missing: number };
  baselineLogReader: Stats & { missing: number };
  asMultipleOfBaseline: { speedView: { p50: number | null; p99: number | null }; speedAlerts: { p50: number | null; p99: number | null }; streamAlerts?: { p50: number | null; p99: number | null } };
  incidentsInFraudFreeTail: string;
  pollErrors: { speed: number; stream: number; baseline: number; lastError: string };
}

function withMarkers(workload: GeneratedWorkload, rate: number): { records: LabelledRecord[]; markers: number } {
  const every = Math.max(1, Math.round(rate * PARAMS.markerEverySeconds));
  const warmUp = Math.round(rate * PARAMS.markerWarmUpSeconds);
  const start = workload.groundTruth.options.startTime;
  const records: LabelledRecord[] = [];
  let markers = 0;
  workload.records.forEach((record, i) => {
    records.push(record);
    if (i >= warmUp && (i - warmUp) % every === 0) {
      // The base event time of its place in the workload: never behind the watermark.
      records.push(markerRecord(workload.groundTruth.runId, markers, start + Math.floor((i * 1000) / rate)));
      markers += 1;
    }
  });
  return { records, markers };
}

async function measureLatency(sandbox: Sandbox, workload: GeneratedWorkload, records: LabelledRecord[], markers: number, say: (line: string) => void): Promise<LatencyResult> {
  const { settings } = sandbox;
  const lake = sandboxDirs(settings).lake;
  const truth = workload.groundTruth;
  const speedRules: readonly string[] = PATH_RULES.speed;
  const streamRules: readonly string[] = PATH_RULES.stream;
  const speedExpected = truth.incidents.filter((i) => speedRules.includes(i.rule));
  const streamExpected = sandbox.flink.running ? truth.incidents.filter((i) => streamRules.includes(i.rule)) : [];
  const alertFile = new Map(truth.incidents.map((i) => [`${i.alertId.replaceAll(':', '_')}.json`, i.alertId]));

  const markerAccepted = new Map<string, number>();
  const incidentAccepted = new Map<string, number>(); // incidentId -> acceptance of its last record
  const seenSpeedView = new Map<string, number>();
  const seenBaseline = new Map<string, number>();
  const seenSpeedAlert = new Map<string, number>();
  const seenStreamAlert = new Map<string, number>();
  let stop = false;

  // Speed view and speed alerts: list the folders every 100 ms, read each new view file once.
  const viewWatcher = new FolderWatcher(path.join(lake, 'speed', 'spend_per_card_minute'));
  const alertWatcher = new FolderWatcher(path.join(lake, 'speed', 'alerts'));
  const pollErrors = { speed: 0, stream: 0, baseline: 0, lastError: '' };
  const noted = (kind: 'speed' | 'stream' | 'baseline', error: unknown) => {
    pollErrors[kind] += 1;
    pollErrors.lastError = `${kind}: ${(error as Error).message ?? String(error)}`.slice(0, 300);
  };
  const speedPoll = (async () => {
    while (!stop) {
      const at = Date.now();
      try {
        pollSpeed(at);
      } catch (error) {
        noted('speed', error);
      }
      await sleep(Math.max(0, PARAMS.speedPollMs - (Date.now() - at)));
    }
  })();
  function pollSpeed(at: number) {
      for (const name of viewWatcher.pending()) {
        let text: string;
        try {
          text = fs.readFileSync(path.join(viewWatcher.dir, name), 'utf8');
        } catch {
          continue;
        }
        if (!text.endsWith('\n')) continue; // not complete yet: read it on a later poll
        viewWatcher.markDone(name);
        if (!text.includes(`"card_id":"${MARKER_PREFIX}`)) continue;
        for (const line of text.split('\n')) {
          if (!line.includes(MARKER_PREFIX)) continue;
          const cardId = String((JSON.parse(line) as { card_id: string }).card_id);
          if (!seenSpeedView.has(cardId)) seenSpeedView.set(cardId, at);
        }
      }
      for (const name of alertWatcher.pending()) {
        alertWatcher.markDone(name);
        const alertId = alertFile.get(path.basename(name));
        if (alertId && !seenSpeedAlert.has(alertId)) seenSpeedAlert.set(alertId, at);
      }
  }

  // Flink alerts view: a fresh DuckDB over the lake every second (its views list the files when opened).
  let streamQueries = 0;
  let streamQueryMs = 0;
  const streamPoll = (async () => {
    if (!sandbox.flink.running) return;
    while (!stop) {
      const at = Date.now();
      try {
        const sql = await openLakeSql(lake);
        try {
          const rows = await sql.query(`SELECT DISTINCT alert_id FROM views_alerts WHERE v = '1'`);
          for (const row of rows) {
            const alertId = String(row.alert_id);
            if (!seenStreamAlert.has(alertId)) seenStreamAlert.set(alertId, at);
          }
        } finally {
          sql.close();
        }
      } catch (error) {
        noted('stream', error);
      }
      streamQueries += 1;
      streamQueryMs += Date.now() - at;
      await sleep(Math.max(0, PARAMS.streamPollMs - (Date.now() - at)));
    }
  })();

  // Baseline: a bare reader of the log, polling every unit.
  const baselineLog = openLog(settings);
  current!.baselineLog = baselineLog;
  const reader: LogReader = baselineLog.reader('bench-baseline');
  const units = await reader.units();
  const baselinePoll = Promise.all(
    units.map(async (unit) => {
      let after: string | undefined;
      while (!stop) {
        let got;
        try {
          got = await reader.read(unit, after, 1000);
        } catch (error) {
          noted('baseline', error);
          await sleep(PARAMS.baselineIdlePollMs[settings.log]);
          continue;
        }
        const at = Date.now();
        if (got.length === 0) {
          await sleep(PARAMS.baselineIdlePollMs[settings.log]);
          continue;
        }
        after = got[got.length - 1].position;
        for (const record of got) if (record.key.startsWith(MARKER_PREFIX) && !seenBaseline.has(record.key)) seenBaseline.set(record.key, at);
      }
    }),
  );

  say(`  producing ${records.length} records (${markers} markers, ${truth.incidents.length} incidents) at ${PARAMS.latencyRate}/s ...`);
  const began = Date.now();
  const produced = await produceAtRate(sandbox.log, records, {
    rate: PARAMS.latencyRate,
    onAccepted: (slice, acceptedAt) => {
      for (const record of slice) {
        if (record.key.startsWith(MARKER_PREFIX)) markerAccepted.set(record.key, acceptedAt);
        else if (record.label.kind === 'fraud') incidentAccepted.set(record.label.incidentId, acceptedAt);
      }
    },
  });
  const producedAt = Date.now();
  const producerAchievedRate = produced.sent / ((producedAt - began) / 1000);
  say(`  produced in ${((producedAt - began) / 1000).toFixed(1)} s; waiting for the markers and alerts ...`);

  const allSeen = (want: Iterable<string>, seen: Map<string, number>) => [...want].every((id) => seen.has(id));
  for (;;) {
    const now = Date.now();
    const speedDone = (allSeen(markerAccepted.keys(), seenSpeedView) && allSeen(speedExpected.map((i) => i.alertId), seenSpeedAlert)) || now > producedAt + PARAMS.speedDrainSeconds * 1000;
    const baselineDone = allSeen(markerAccepted.keys(), seenBaseline) || now > producedAt + PARAMS.speedDrainSeconds * 1000;
    const streamDone = allSeen(streamExpected.map((i) => i.alertId), seenStreamAlert) || now > producedAt + PARAMS.streamDrainSeconds * 1000;
    if (speedDone && baselineDone && streamDone) break;
    await sleep(500);
  }
  stop = true;
  await Promise.all([speedPoll, streamPoll, baselinePoll]);
  await baselineLog.close();
  current!.baselineLog = undefined;

  const markerSamples = (seen: Map<string, number>) =>
    [...markerAccepted].filter(([card]) => seen.has(card)).map(([card, accepted]) => seen.get(card)! - accepted);
  const incidentSamples = (expected: typeof truth.incidents, seen: Map<string, number>) =>
    expected.filter((i) => seen.has(i.alertId) && incidentAccepted.has(i.incidentId)).map((i) => seen.get(i.alertId)! - incidentAccepted.get(i.incidentId)!);

  const baseline = { ...stats(markerSamples(seenBaseline)), missing: markers - seenBaseline.size };
  const speedView = { ...stats(markerSamples(seenSpeedView)), missing: markers - [...markerAccepted.keys()].filter((k) => seenSpeedView.has(k)).length };
  const speedSamples = incidentSamples(speedExpected, seenSpeedAlert);
  const speedAlerts = { ...stats(speedSamples), expected: speedExpected.length, missing: speedExpected.length - speedSamples.length };
  const streamSamples = incidentSamples(streamExpected, seenStreamAlert);
  const streamAlerts = sandbox.flink.running
    ? { ...stats(streamSamples), expected: streamExpected.length, missing: streamExpected.length - streamSamples.length }
    : undefined;
  const multiple = (s: Stats) => ({ p50: ratio(s.p50Ms, baseline.p50Ms), p99: ratio(s.p99Ms, baseline.p99Ms) });
  const tailSeconds = truth.options.fraudFreeTailSeconds;
  return {
    rate: PARAMS.latencyRate,
    durationSeconds: PARAMS.latencyDurationSeconds,
    recordsProduced: produced.sent,
    markers,
    incidents: truth.incidents.length,
    producerAchievedRate: round(producerAchievedRate, 1),
    speedView,
    speedAlerts,
    streamAlerts,
    baselineLogReader: baseline,
    pollErrors,
    asMultipleOfBaseline: { speedView: multiple(speedView), speedAlerts: multiple(speedAlerts), streamAlerts: streamAlerts && multiple(streamAlerts) },
    incidentsInFraudFreeTail:
      `none by design: the generator starts no incident in the last ${tailSeconds} s of the run ` +
      `(out-of-orderness ${stream.maxOutOfOrdernessMs / 1000} s + allowed lateness ${stream.allowedLatenessMs / 1000} s + 10 s), so no alert samples come from the last ${tailSeconds} s` +
      (sandbox.flink.running ? `; stream-path polling: ${streamQueries} queries, ${Math.round(streamQueryMs / Math.max(1, streamQueries))} ms each on average` : ''),
  };
}

// ---------------------------------------------------------------- 2. sustained rate

interface PathVerdict {
  lagStart: number | null;
  lagEnd: number | null;
  lagSettled: number | null;
  maxLag: number | null;
  /** Seconds after the step's last accepted record until the lag was back within tolerance (null: not within the settle). */
  catchUpSeconds: number | null;
  /** The lag judged against the step's records: at the step's end (speed) or right after the last commit within the step (Flink; null when none). */
  judgedLag: { atSecond: number; lag: number; growth: number | null; allowedGrowth: number; ok: boolean | null } | null;
  /** Flink: seconds into the step at which a checkpoint commit showed (a drop of the lag). */
  commitsAtSeconds?: number[];
  sustained: boolean;
}

interface StepResult {
  setRate: number;
  recordsProduced: number;
  producingSeconds: number;
  achievedRate: number;
  cutShort: boolean;
  toleranceRecords: number;
  /** The oldest the speed-layer status file was at a sample; older than 3 s counts as no sample (null lag). */
  speedStatusMaxAgeSeconds: number;
  speed: PathVerdict;
  stream?: PathVerdict;
  sustained: boolean;
  /** [seconds since the step started, speed lag, Flink lag] every ~0.5 s through the step and its settle. */
  lagSamples: Array<[number, number | null, number | null]>;
}

/** The producer alone: as fast as it goes, for a while, to a topic/stream of its own that nobody reads. */
async function producerBaseline(settings: SandboxSettings, sliceSize: number, say: (line: string) => void) {
  const own = { ...settings, streamName: `${settings.streamName}-bench-producer` };
  const log = openLog(own);
  current!.baselineLog = log;
  try {
    await log.ensureCreated();
    const workload = generateWorkload({ seed: PARAMS.seed, startTime: Date.now(), rate: 1000, eventCount: 100_000 });
    const records = Array.from({ length: 8 }, () => workload.records).flat();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), PARAMS.producerBaselineSeconds * 1000);
    const began = Date.now();
    // A rate no producer reaches, in slices of `sliceSize`: each slice is sent as soon as the one before was accepted.
    const result = await produceAtRate(log, records, { rate: 1e7, slicesPerSecond: 1e7 / sliceSize, signal: controller.signal });
    clearTimeout(timer);
    const seconds = (Date.now() - began) / 1000;
    const rate = result.sent / seconds;
    say(`  producer alone: ${Math.round(rate)} records/s (${result.sent} records in ${seconds.toFixed(1)} s, slices of ${sliceSize})`);
    return { recordsPerSecond: round(rate), records: result.sent, seconds: round(seconds, 1), sliceSize, target: own.streamName, exhausted: result.sent >= records.length };
  } finally {
    await log.close();
    current!.baselineLog = undefined;
  }
}

/**
 * Judge one path's lag samples over a step (see `definitions.sustained` in the result). `endHold` is what the
 * path holds uncommitted by design at the end of the step; for Flink, `afterCommit` judges the lag right after
 * its last checkpoint commit within the step instead of the lag at the step's end.
 */
function verdict(
  samples: Array<[number, number | null]>,
  producedAtSec: number,
  tolerance: number,
  allowanceSeconds: number,
  endHold: { records: number; afterCommit: boolean },
): PathVerdict {
  const lagStart = samples[0]?.[1] ?? null;
  const lagEnd = samples.find(([t]) => t >= producedAtSec)?.[1] ?? null;
  const lagSettled = samples[samples.length - 1]?.[1] ?? null;
  const values = samples.map(([, v]) => v).filter((v): v is number => v !== null);
  const back = lagStart === null ? undefined : samples.find(([t, v]) => t >= producedAtSec && v !== null && v <= lagStart + tolerance);
  const catchUpSeconds = back ? round(back[0] - producedAtSec, 1) : null;
  // A commit shows as a drop of the lag between two samples.
  const commits = samples.filter(([, v], i) => i > 0 && v !== null && samples[i - 1][1] !== null && v < (samples[i - 1][1] as number)).map(([t]) => t);
  let judged: { at: number; lag: number } | undefined;
  if (endHold.afterCommit) {
    const lastInStep = [...samples].reverse().find(([t, v], i, rev) => t <= producedAtSec && v !== null && rev[i + 1]?.[1] != null && v < (rev[i + 1][1] as number));
    if (lastInStep && lastInStep[1] !== null) judged = { at: lastInStep[0], lag: lastInStep[1] };
  } else if (lagEnd !== null) {
    judged = { at: producedAtSec, lag: lagEnd };
  }
  const endGrowth = judged && lagStart !== null ? judged.lag - lagStart : null;
  const endOk = endGrowth === null ? null : endGrowth <= endHold.records + tolerance;
  return {
    lagStart,
    lagEnd,
    lagSettled,
    maxLag: values.length ? Math.max(...values) : null,
    judgedLag: judged ? { atSecond: round(judged.at, 2), lag: judged.lag, growth: endGrowth, allowedGrowth: endHold.records + tolerance, ok: endOk } : null,
    commitsAtSeconds: endHold.afterCommit ? commits : undefined,
    catchUpSeconds,
    sustained: catchUpSeconds !== null && catchUpSeconds <= allowanceSeconds && endOk !== false,
  };
}

/** On Kinesis: how far behind the stream's end (ms) the Flink readers may be when a step's last record is accepted. */
const KINESIS_BEHIND_MS = 5000;

async function runStep(sandbox: Sandbox, rate: number, startTime: number, say: (line: string) => void): Promise<{ step: StepResult; lastEventTime: number }> {
  const workload = generateWorkload({
    seed: PARAMS.seed, // the same seed: the same cards and home countries as the profiles loaded at start
    startTime,
    rate,
    durationSeconds: PARAMS.stepSeconds,
    maxOutOfOrdernessMs: stream.maxOutOfOrdernessMs,
    allowedLatenessMs: stream.allowedLatenessMs,
  });
  const lastEventTime = workload.records.reduce((max, r) => {
    const match = /"eventTime":(\d+)/.exec(r.data);
    return match ? Math.max(max, Number(match[1])) : max;
  }, startTime);
  const samples: Array<[number, number | null, number | null]> = [];
  const began = Date.now();
  let sampling = true;
  let maxStatusAgeMs = 0;
  const sampler = (async () => {
    while (sampling) {
      const at = Date.now();
      const age = speedStatusAgeMs(sandbox.settings);
      if (age !== undefined) maxStatusAgeMs = Math.max(maxStatusAgeMs, age);
      const speed = age !== undefined && age <= STATUS_MAX_AGE_MS ? (speedLag(sandbox.settings) ?? null) : null;
      const lag = (await streamLag(sandbox)) ?? null;
      samples.push([round((at - began) / 1000, 2), speed, lag]);
      await sleep(Math.max(0, PARAMS.lagSampleMs - (Date.now() - at)));
    }
  })();
  while (samples.length === 0) await sleep(20); // the start sample comes first
  const controller = new AbortController();
  const cut = setTimeout(() => controller.abort(), PARAMS.stepSeconds * PARAMS.stepCutFactor * 1000);
  const produceBegan = Date.now();
  let lastAccepted = produceBegan;
  const result = await produceAtRate(sandbox.log, workload.records, {
    rate,
    signal: controller.signal,
    onAccepted: (_slice, at) => {
      lastAccepted = at;
    },
  });
  clearTimeout(cut);
  const producedAtSec = (lastAccepted - began) / 1000;
  await sleep(PARAMS.settleSeconds * 1000);
  sampling = false;
  await sampler;
  const producingSeconds = (lastAccepted - produceBegan) / 1000;
  const tolerance = Math.round(PARAMS.sustainedTolerance * result.sent);
  const achieved = result.sent / Math.max(0.001, producingSeconds);
  const units = sandbox.settings.shards;
  const { batchSize, maxBatchingWindowSeconds } = sandbox.config.speedLayer;
  // Speed: per unit, one batch gathering (up to the batching window, +1 s for the status file) and one in flight.
  const speedHold = Math.round(Math.min(achieved * (maxBatchingWindowSeconds + 1), 2 * units * batchSize));
  const speed = verdict(samples.map(([t, s]) => [t, s]), producedAtSec, tolerance, PARAMS.catchUpAllowanceSeconds.speed, { records: speedHold, afterCommit: false });
  // Flink: right after a commit it holds what arrived while the checkpoint completed and the sample came: ~2 s of input.
  // On Kinesis the Flink lag is the readers' millisBehindLatest, not a record count, and moves on every read:
  // taken when the step's last record was accepted, it may be up to KINESIS_BEHIND_MS (a few polls) behind.
  const streamVerdict = sandbox.flink.running
    ? verdict(samples.map(([t, , f]) => [t, f]), producedAtSec, tolerance, PARAMS.catchUpAllowanceSeconds.stream,
        sandbox.settings.log === 'kinesis' ? { records: KINESIS_BEHIND_MS, afterCommit: false } : { records: Math.round(achieved * 2), afterCommit: true })
    : undefined;
  const step: StepResult = {
    setRate: rate,
    recordsProduced: result.sent,
    producingSeconds: round(producingSeconds, 1),
    achievedRate: round(result.sent / producingSeconds),
    cutShort: result.sent < workload.records.length,
    toleranceRecords: tolerance,
    speedStatusMaxAgeSeconds: round(maxStatusAgeMs / 1000, 1),
    speed,
    stream: streamVerdict,
    sustained: speed.sustained && (streamVerdict?.sustained ?? true),
    lagSamples: samples,
  };
  const show = (v: PathVerdict | undefined) =>
    v
      ? `lag ${v.lagStart}->${v.lagEnd}->${v.lagSettled} (max ${v.maxLag}; judged ${v.judgedLag ? `${v.judgedLag.lag} at ${v.judgedLag.atSecond} s, allowed +${v.judgedLag.allowedGrowth}` : 'no commit in step'}), ` +
        `back in ${v.catchUpSeconds ?? '>settle'} s ${v.sustained ? 'ok' : 'NOT sustained'}`
      : 'off';
  say(
    `  step ${rate}/s: produced ${result.sent} in ${step.producingSeconds} s = ${step.achievedRate}/s${step.cutShort ? ' (cut short)' : ''} | ` +
      `speed ${show(speed)} | flink ${show(streamVerdict)}`,
  );
  return { step, lastEventTime };
}

// ---------------------------------------------------------------- one section per log

async function runSection(log: LogKind, say: (line: string) => void) {
  say(`== ${log}`);
  const settings = await testSettings(`tributary-bench-e2e-${log}`, { log });
  current = { settings };
  const began = Date.now();
  const loadAtStart = loadavg()[0];
  // The cards depend on the seed only: these are the cards of every workload below.
  const cards = makeWorkload({ rate: PARAMS.latencyRate, durationSeconds: 1, seed: PARAMS.seed, startTime: Date.now() }, config).groundTruth;
  if (!cards.known) throw new Error('generated workload without ground truth');
  const markerCount = Math.ceil(PARAMS.latencyDurationSeconds / PARAMS.markerEverySeconds) + 1;
  const profiles = [...cards.cards, ...Array.from({ length: markerCount }, (_, n) => markerProfile(n))];
  const sandbox = await startSandbox(settings, { cards: profiles, onProgress: (m) => say(`  ${m}`) });
  current.sandbox = sandbox;
  const startupSeconds = round((Date.now() - began) / 1000, 1);
  say(`  sandbox up in ${startupSeconds} s (home ${settings.home}); Flink ${sandbox.flink.running ? 'running' : `not running: ${sandbox.flink.reason}`}`);

  // 1. latency
  const workload = makeWorkload(
    { rate: PARAMS.latencyRate, durationSeconds: PARAMS.latencyDurationSeconds, seed: PARAMS.seed, startTime: Date.now() },
    config,
  ) as GeneratedWorkload;
  if (JSON.stringify(workload.groundTruth.cards) !== JSON.stringify(cards.cards)) throw new Error('the workload has other cards than the profiles loaded');
  const { records, markers } = withMarkers(workload, PARAMS.latencyRate);
  const latency = await measureLatency(sandbox, workload, records, markers, say);
  const idleAfterLatency = await waitIdle(sandbox, 90_000);
  say(`  paths idle ${(idleAfterLatency.waitedMs / 1000).toFixed(0)} s after the latency phase (speed lag ${idleAfterLatency.speed}, flink lag ${idleAfterLatency.stream ?? '-'})`);

  // 2. sustained rate: the producer alone first (consumers idle: their log gets nothing), then the steps.
  const sliceSize = Math.max(1, Math.round(Math.max(...PARAMS.steps) / 10));
  const producer = await producerBaseline(settings, sliceSize, say);
  const steps: StepResult[] = [];
  let eventTime = Math.max(Date.now(), workload.groundTruth.options.startTime + PARAMS.latencyDurationSeconds * 1000) + 1000;
  for (const rate of PARAMS.steps) {
    const { step, lastEventTime } = await runStep(sandbox, rate, Math.max(Date.now(), eventTime), say);
    steps.push(step);
    eventTime = lastEventTime + 1000;
    if (!step.sustained) break;
    // A higher set rate is not offered once the producer cannot reach this one: the producer bounds the figure.
    if (step.achievedRate < PARAMS.producerReachedShare * step.setRate) break;
  }
  const sustainedSteps = steps.filter((s) => s.sustained);
  const best = sustainedSteps.length ? sustainedSteps[sustainedSteps.length - 1] : undefined;
  const firstFailure = steps.find((s) => !s.sustained);
  const sustained = {
    highestSustainedSetRate: best?.setRate ?? null,
    highestSustainedAchievedRate: best?.achievedRate ?? null,
    firstFailedSetRate: firstFailure?.setRate ?? null,
    failedBy: firstFailure ? [!firstFailure.speed.sustained && 'speed layer', firstFailure.stream && !firstFailure.stream.sustained && 'stream (Flink)'].filter(Boolean) : [],
    boundedByStepList: !firstFailure && steps.length === PARAMS.steps.length,
    boundedByProducer: !firstFailure && steps.length > 0 && steps[steps.length - 1].achievedRate < PARAMS.producerReachedShare * steps[steps.length - 1].setRate,
    producerBaseline: producer,
    sustainedOverProducerBaseline: best ? round(best.achievedRate / producer.recordsPerSecond, 3) : null,
    steps,
  };

  const checkpointMs = sandbox.flink.checkpointIntervalMs ?? LOCAL_CHECKPOINT_INTERVAL_MS;
  await teardown();
  const leftovers = leftoverProcesses(settings.home);
  return {
    log,
    measuredOn: new Date(began).toISOString() as string | undefined,
    flink: sandbox.flink.running ? { running: true, checkpointIntervalMs: checkpointMs } : { running: false, reason: sandbox.flink.reason },
    loadAverage1m: { start: round(loadAtStart, 2), end: round(loadavg()[0], 2) },
    startupSeconds,
    startupMs: sandbox.startupMs,
    latency,
    sustained,
    leftoverProcesses: leftovers,
  };
}

/** Processes whose command line names this section's home (there must be none after the teardown). */
function leftoverProcesses(home: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(home) && Number(pid) !== process.pid) found.push(`${pid} ${cmd.slice(0, 120)}`);
    } catch {
      /* gone */
    }
  }
  return found;
}

// ---------------------------------------------------------------- main

async function main() {
  const say = (line: string) => console.log(line);
  const date = new Date().toISOString();
  const loadBefore = loadavg()[0];
  const sections: Awaited<ReturnType<typeof runSection>>[] = [];
  const out = path.join(REPO, 'bench', 'results', 'e2e.json');
  // Sections of other logs already in the result file (from an earlier run of another --logs) are kept, marked with their date.
  const earlier = readEarlierSections(out).filter((s) => !PARAMS.logs.includes(s.log));
  for (const log of PARAMS.logs) {
    sections.push(await runSection(log, say));
    sections.sort((a, b) => PARAMS.logs.indexOf(a.log) - PARAMS.logs.indexOf(b.log));
    // Written after each section, so a later section's failure keeps what was measured.
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(resultOf(date, loadBefore, [...earlier, ...sections]), null, 2)}\n`);
  }
  printSummary(resultOf(date, loadBefore, sections).machine, sections);
  say(`\nwritten to ${path.relative(REPO, out)}`);
}

type SectionResult = Awaited<ReturnType<typeof runSection>>;

function readEarlierSections(file: string): SectionResult[] {
  try {
    const earlier = JSON.parse(fs.readFileSync(file, 'utf8')) as { date: string; sections?: SectionResult[] };
    return (earlier.sections ?? []).map((s) => ({ ...s, measuredOn: s.measuredOn ?? earlier.date }));
  } catch {
    return [];
  }
}

function resultOf(date: string, loadBefore: number, sections: Awaited<ReturnType<typeof runSection>>[]) {
  const speed = config.speedLayer;
  return {
    benchmark: 'e2e',
    date,
    machine: {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown',
      memoryGiB: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      java: javaVersionLine(),
      loadAverage1m: { before: round(loadBefore, 2), after: round(loadavg()[0], 2) },
      shared: 'a shared machine: other engineers\' processes (tests, sandboxes, builds) may run at the same time; compare ratios across runs',
    },
    parameters: { ...PARAMS, logs: PARAMS.logs, profile: 'dev (cdk.json) with the sandbox overrides', speedLayer: speed, streamProcessing: stream },
    definitions: {
      latency:
        'Each sample is (first time the result was seen) - (acceptance time of the record: when the log acknowledged the producer slice carrying it, from produceAtRate onAccepted). ' +
        'Percentiles are nearest-rank. With a few dozen incidents, p99 is the largest or second largest sample.',
      speedView:
        `Marker records (valid transactions on cards ${MARKER_PREFIX}NNNN used by nothing else, 42.50 in the home country: no rule fires), one every ${PARAMS.markerEverySeconds} s after a ${PARAMS.markerWarmUpSeconds} s warm-up, mixed into the generated workload. ` +
        `Seen when a JSON-lines file under <lake>/speed/spend_per_card_minute/ holds a row with the marker's card_id; the folder is listed every ${PARAMS.speedPollMs} ms and each new file read once.`,
      speedAlerts: `Per injected incident of a rule the speed layer implements (${PATH_RULES.speed.join(', ')}): acceptance of the incident's last record -> its file <lake>/speed/alerts/**/<alertId with : as _>.json appears (listed every ${PARAMS.speedPollMs} ms).`,
      streamAlerts: `Per injected incident (${PATH_RULES.stream.join(', ')}): acceptance of its last record -> its alert_id is returned by SELECT alert_id FROM views_alerts WHERE v='1' through a fresh openLakeSql, polled every ${PARAMS.streamPollMs} ms (time of the poll's start).`,
      baselineLogReader: `The same markers read back by a bare LogReader (openLog(settings).reader('bench-baseline')) polling every unit of the log (pausing ${PARAMS.baselineIdlePollMs.kafka} ms on Kafka, ${PARAMS.baselineIdlePollMs.kinesis} ms on Kinesis after an empty read), in the same run.`,
      sustained:
        `A step produces at the set rate for ${PARAMS.stepSeconds} s (cut at ${PARAMS.stepCutFactor}x that if the producer falls behind), then waits ${PARAMS.settleSeconds} s. ` +
        `Lags are sampled every ${PARAMS.lagSampleMs} ms: the speed layer's = sum over units of the speed-layer worker's status lag (records after the mapping's committed position; the file is rewritten each second); ` +
        `the Flink lag = flinkLag (Kafka: records after the offsets the job commits on each checkpoint; Kinesis: the largest millisBehindLatest of the job's shard readers, a time in ms, 0 once every shard is read to its end). ` +
        `A path sustains the step when both hold, with P = the records produced in the step and tolerance = ${PARAMS.sustainedTolerance * 100}% of P: ` +
        `(1) backlog: its lag minus its lag at the step's start is at most what it holds uncommitted by design + tolerance. For the speed layer the lag is taken when the step's last record was accepted, ` +
        `and by design it holds min(achieved rate x (${speed.maxBatchingWindowSeconds} s batching window + 1 s), 2 x units x ${speed.batchSize}) records (per unit one batch gathering, one in flight). ` +
        'For Flink, whose lag only drops on a checkpoint commit, the lag is taken right after the last commit within the step (a drop between two samples), where by design it holds about 2 s of input ' +
        '(records arriving while the checkpoint completes and until the sample); with no commit within the step this check is not made. ' +
        `On Kinesis the Flink lag is taken when the step's last record was accepted and may be up to ${KINESIS_BEHIND_MS} ms behind the stream's end (+ tolerance, read as ms). ` +
        `(2) catch-up: after the step's last record its lag is back to at most its start lag + tolerance within ${PARAMS.catchUpAllowanceSeconds.speed} s (speed: the ${speed.maxBatchingWindowSeconds} s batching window + 3 s) ` +
        `/ ${PARAMS.catchUpAllowanceSeconds.stream} s (Flink: the ${LOCAL_CHECKPOINT_INTERVAL_MS / 1000} s checkpoint + 5 s). ` +
        'A step is sustained when every running path sustains it; stepping stops at the first step that is not. The highest sustained rate is the rate the producer achieved in the last sustained step. ' +
        'Resolution: the Flink check sees only commits, about every checkpoint interval, so a deficit it works off before its next commit is not detected.',
      producerBaseline:
        `The producer alone, in the same run, after the latency phase and before the steps: the same LocalLog client and produceAtRate, slices of max(steps)/10 records (the top step's slice) sent back to back for ${PARAMS.producerBaselineSeconds} s, ` +
        'to a topic/stream of its own on the same broker/emulator that nobody reads, so every consumer is idle. sustainedOverProducerBaseline = highest sustained achieved rate / this rate.',
    },
    notes: [
      `Speed view: the event source mapping gathers a batch until it has ${speed.batchSize} records or ${speed.maxBatchingWindowSeconds} s (maxBatchingWindowSeconds) have passed since its first record, then invokes the handler, which writes through S3Proxy; at low rates the batching window dominates.`,
      'Speed alerts: bounded the same way (the batching window, one invocation) plus the rule state: an incident alerts when its last record is processed.',
      `Stream alerts: by design tens of seconds. The job fires a rule only once the watermark (newest event - ${stream.maxOutOfOrdernessMs / 1000} s out-of-orderness, the minimum over partitions) passes the incident's events plus the ${stream.allowedLatenessMs / 1000} s allowed lateness, and its file sinks commit on a checkpoint (every ${LOCAL_CHECKPOINT_INTERVAL_MS / 1000} s locally), then the poll sees it within ~${PARAMS.streamPollMs / 1000} s.`,
      `Flink lag moves only on checkpoints (every ${LOCAL_CHECKPOINT_INTERVAL_MS / 1000} s): between them it grows by the records produced, by design.`,
      'Kinesis sections: the Flink job runs on kinesis-local too (polling reader, 1 s pause after an empty read); its lag is in ms behind the stream\'s end, not records.',
      'The benchmark process itself (producer, folder polling, DuckDB queries, bare reader) runs on the same cores as the sandbox.',
    ],
    sections,
  };
}

function pathLine(name: string, v: PathVerdict): string {
  const judged = v.judgedLag ? `lag ${v.judgedLag.lag} (allowed ${v.judgedLag.allowedGrowth})` : 'no commit in step';
  return `${name}: ${judged}, back in ${v.catchUpSeconds ?? '-'} s`;
}

function printSummary(machine: { cores: number; node: string; java: string; loadAverage1m: { before: number; after: number } }, sections: Awaited<ReturnType<typeof runSection>>[]) {
  console.log(`\nEnd-to-end benchmark (${machine.cores} cores, node ${machine.node}, ${machine.java}, 1-min load ${machine.loadAverage1m.before} -> ${machine.loadAverage1m.after})`);
  for (const s of sections) {
    const l = s.latency;
    console.log(`\n[${s.log}] 1-min load ${s.loadAverage1m.start} -> ${s.loadAverage1m.end}; sandbox up in ${s.startupSeconds} s; latency at ${l.rate}/s for ${l.durationSeconds} s (producer achieved ${l.producerAchievedRate}/s)`);
    const row = (name: string, st: Stats, extra: string, mult?: { p50: number | null; p99: number | null }) =>
      console.log(
        `  ${name.padEnd(28)} n=${String(st.count).padStart(4)}  p50 ${secs(st.p50Ms).padStart(8)}  p99 ${secs(st.p99Ms).padStart(8)}  max ${secs(st.maxMs).padStart(8)}` +
          (mult ? `  = ${mult.p50 ?? '-'}x / ${mult.p99 ?? '-'}x baseline` : '') +
          (extra ? `  ${extra}` : ''),
      );
    row('baseline: bare log reader', l.baselineLogReader, l.baselineLogReader.missing ? `${l.baselineLogReader.missing} missing` : '');
    row('produce -> speed view', l.speedView, l.speedView.missing ? `${l.speedView.missing} missing` : '', l.asMultipleOfBaseline.speedView);
    row('produce -> speed alert', l.speedAlerts, `of ${l.speedAlerts.expected} incidents`, l.asMultipleOfBaseline.speedAlerts);
    if (l.streamAlerts) row('produce -> stream alert', l.streamAlerts, `of ${l.streamAlerts.expected} incidents`, l.asMultipleOfBaseline.streamAlerts);
    const u = s.sustained;
    console.log(`  producer alone: ${u.producerBaseline.recordsPerSecond} records/s`);
    for (const step of u.steps) {
      console.log(
        `  step ${String(step.setRate).padStart(5)}/s: achieved ${String(step.achievedRate).padStart(6)}/s | ${pathLine('speed', step.speed)}` +
          (step.stream ? ` | ${pathLine('flink', step.stream)}` : '') +
          `  ${step.sustained ? 'sustained' : 'NOT sustained'}`,
      );
    }
    console.log(
      `  highest sustained: ${u.highestSustainedAchievedRate ?? '-'} records/s (set ${u.highestSustainedSetRate ?? '-'}/s)` +
        `${u.boundedByStepList ? ', every step sustained (the step list bounds it)' : u.boundedByProducer ? ', the producer fell short of the set rate (it bounds the figure)' : `, ${u.failedBy.join(' and ')} not at ${u.firstFailedSetRate}/s`}` +
        `; sustained / producer alone = ${u.sustainedOverProducerBaseline ?? '-'}`,
    );
    if (s.leftoverProcesses.length) console.log(`  LEFTOVER processes: ${s.leftoverProcesses.join('; ')}`);
  }
}

main()
  .catch(async (error) => {
    if (!interrupted) console.error(error);
    await teardown();
    process.exitCode = interrupted ? 130 : 1;
  })
  .finally(async () => {
    await pendingTeardown;
    process.exit();
  });
