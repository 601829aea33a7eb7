/**
 * End-to-end benchmark of the sandbox: a sandbox of its own (temporary home, free ports), the
 * whole architecture running, measured from outside as a user would see it.
 *
 *   1. Latency at set rates (default 200 then 2,000 records/s, 90 s each after a 20 s unmeasured
 *      warm-up, the generated workload with marker records mixed in):
 *      - produce -> queryable in the speed view (marker rows in `speed/spend_per_card_minute/`);
 *      - produce -> alert, per path (speed R1, R2; stream R1-R3; the ground truth's incidents): on the
 *        alerts log (its arrivalTime) and delivered to the SNS stand-in's topic by the alert notifier
 *        (deliveredAt), with the hops in between, duplicates, and stream alerts missing from the final
 *        lake `alerts` view;
 *      - baseline in the same run: produce -> readable by a bare LogReader polling the log.
 *   2. Highest sustained rate: steps of increasing set rate, each judged by the speed layer's and
 *      the Flink job's lag; baseline in the same run: the producer alone (consumers idle).
 *
 * Run: `npm run bench -- e2e`, or `npx ts-node --transpile-only bench/e2e/run.ts [flags]`:
 *   --rates <a,b>        latency phases, records/s (default 200,2000; --rate <n> is one phase)
 *   --duration <s>       each latency phase, seconds (default 90)
 *   --warm-up <s>        unmeasured seconds at the phase's rate before each phase (default 20)
 *   --skip-steps         no sustained-rate steps (section's `sustained` is absent)
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
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { alertRecordSchema, type AlertRecord } from '../../lambdas/shared/alert';
import { latencyStats, pathDeliveries, ProducedAt, readDeliveredAlerts, type AlertPath, type DeliveredAlert, type LatencyStats } from '../../sandbox/alerts';
import { Supervisor } from '../../sandbox/engines';
import { generateWorkload, type CardProfile, type GeneratedWorkload, type LabelledRecord } from '../../sandbox/generator';
import { openAlertsLog, openLog, type LocalLog, type LogReader } from '../../sandbox/log';
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
  /** Latency phase: one after the other in the same sandbox, each after its own warm-up. */
  latencyRates: (flag('rates') ?? flag('rate') ?? '200,2000').split(',').map(Number),
  latencyDurationSeconds: numberFlag('duration', 90),
  /** Unmeasured records at the phase's rate before it: the first seconds after the Flink job starts are slow. */
  warmUpSeconds: numberFlag('warm-up', 20),
  skipSteps: process.argv.includes('--skip-steps'),
  seed: Math.trunc(numberFlag('seed', 42)),
  /** One marker record every this many seconds of the latency phase. */
  markerEverySeconds: 0.5,
  /** No markers in the first seconds: every consumer (the bare reader too) joins its group then. */
  markerWarmUpSeconds: 5,
  /** How often the speed view's and the speed alerts' folders are listed. */
  speedPollMs: 100,
  /**
   * How long the bare log reader pauses after an empty read of a unit: Kafka 20 ms; Kinesis 200 ms, the
   * GetRecords limit of 5 reads per second per shard (faster polling would load kinesis-local, which runs on
   * the same cores as everything measured).
   */
  baselineIdlePollMs: { kafka: 20, kinesis: 200 } as Record<LogKind, number>,
  /** After the last record: how long to wait for markers, for delivered alerts, and for the Flink job to commit everything (final lake view). */
  speedDrainSeconds: 30,
  alertDrainSeconds: 30,
  streamDrainSeconds: 90,
  /** Issue 13's targets, on p99: produce -> stream alert < 1 s; produce -> speed alert and -> speed view < 2 s. */
  targetsP99Ms: { stream: 1000, speed: 2000 },
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
for (const rate of PARAMS.latencyRates) if (!(rate > 0)) throw new Error(`--rates must be positive rates, not ${flag('rates') ?? flag('rate')}`);
for (const step of PARAMS.steps) if (!(step > 0)) throw new Error(`--steps must be positive rates, not ${flag('steps')}`);
for (const log of PARAMS.logs) if (log !== 'kafka' && log !== 'kinesis') throw new Error(`--logs: kafka or kinesis, not ${log}`);

const { config } = sandboxPlatformConfig(REPO);
const stream = config.streamProcessing;
const MARKER_PREFIX = 'bench-m';

// ---------------------------------------------------------------- small helpers

/** Nearest-rank p50/p99/max, as the sandbox's alerts summary computes them (latencyStats). */
type Stats = LatencyStats;

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

interface AlertPathLatency {
  /** Produce (acceptance of the incident's last record) -> the alert's record appended to the alerts log (its arrivalTime). */
  log: Stats & { missing: number };
  /** Produce -> the SNS stand-in accepted the notifier's Publish (deliveredAt). */
  delivered: Stats & { missing: number };
  /** The same incidents, split into hops from the alert's own `detectedAt` (the path's clock; same machine). */
  hops: { produceToDetected: Stats; detectedToLog: Stats; logToDelivered: Stats };
  expected: number;
  /**
   * Distinct alerts delivered for this path with a transaction of this phase that match no incident of the path's rules (by alertId),
   * with the incident of the same rule and card if there is one (and how far apart the window starts are).
   */
  deliveredNotInGroundTruth: Array<{ alertId: string; txnsAllOfThisPhase: boolean; sameRuleAndCardIncident: string | null; windowStartDeltaMs: number | null }>;
  /** Incidents with no delivered alert for this path. */
  missingIncidents: Array<{ alertId: string; rule: string; onLog: boolean }>;
  /** The slowest incidents (produce -> delivered) and their hops, ms. */
  slowest: Array<{ alertId: string; rule: string; deliveredMs: number; produceToDetectedMs: number; detectedToLogMs: number | null; logToDeliveredMs: number | null }>;
  /** Alert ids delivered more than once for this path in the sandbox so far (pathDeliveries over every delivered alert): must be empty. */
  deliveredMoreThanOnce: string[];
  /** Alert records of this run on the alerts log more than once for this path (the writers are at-least-once; the notifier dedupes). */
  onLogMoreThanOnce: number;
  asMultipleOfBaseline: { log: { p50: number | null; p99: number | null }; delivered: { p50: number | null; p99: number | null } };
}

interface LatencyResult {
  rate: number;
  durationSeconds: number;
  warmUp: { seconds: number; records: number; achievedRate: number };
  loadAverage1m: { start: number; end: number };
  recordsProduced: number;
  markers: number;
  incidents: number;
  producerAchievedRate: number;
  baselineLogReader: Stats & { missing: number };
  /**
   * How late the produce time (acceptedAt: the bench saw the slice's acknowledgement) is against the marker record's own
   * log timestamp (Kafka: CreateTime, set by the producer client when it sends; Kinesis: ApproximateArrivalTimestamp):
   * the send's round trip plus the bench's event-loop delay. Alert latencies start at acceptedAt, so they are low by up to this.
   */
  acceptedAfterLogTimestamp: Stats;
  speedView: Stats & { missing: number; asMultipleOfBaseline: { p50: number | null; p99: number | null } };
  speedAlerts: AlertPathLatency;
  streamAlerts?: AlertPathLatency & {
    /** Stream alerts of this run delivered whose alert_id is not in the final lake `alerts` view (v=1) once the job committed everything. */
    deliveredNotInFinalView: string[];
    /** Incidents (R1-R3) whose alert is in the final lake view: the history, not the alert path. */
    inFinalView: number;
  };
  /** met = p99 under target and no incident missing. */
  targets: Record<string, { targetP99Ms: number; p99Ms: number | null; p99UnderTarget: boolean; missing: number; met: boolean }>;
  incidentsInFraudFreeTail: string;
  pollErrors: { speed: number; baseline: number; alerts: number; lastError: string };
}

function withMarkers(workload: GeneratedWorkload, rate: number, firstMarker: number): { records: LabelledRecord[]; markers: number } {
  const every = Math.max(1, Math.round(rate * PARAMS.markerEverySeconds));
  const warmUp = Math.round(rate * PARAMS.markerWarmUpSeconds);
  const start = workload.groundTruth.options.startTime;
  const records: LabelledRecord[] = [];
  let markers = 0;
  workload.records.forEach((record, i) => {
    records.push(record);
    if (i >= warmUp && (i - warmUp) % every === 0) {
      // The base event time of its place in the workload: never behind the watermark.
      records.push(markerRecord(workload.groundTruth.runId, firstMarker + markers, start + Math.floor((i * 1000) / rate)));
      markers += 1;
    }
  });
  return { records, markers };
}

/** The Flink `alerts` lake view (v=1) as it is now, through a fresh DuckDB. */
async function lakeAlertIds(lake: string): Promise<Set<string>> {
  const sql = await openLakeSql(lake);
  try {
    const rows = await sql.query(`SELECT DISTINCT alert_id FROM views_alerts WHERE v = '1'`);
    return new Set(rows.map((row) => String(row.alert_id)));
  } finally {
    sql.close();
  }
}

interface LoggedAlert {
  alert: AlertRecord;
  arrivalTime: number;
}

/** Every alert record on the alerts log, read from the start of each unit (the times are the log's own: LogAppendTime / ApproximateArrivalTimestamp). */
async function readAlertsLog(settings: SandboxSettings): Promise<LoggedAlert[]> {
  const log = openAlertsLog(settings, config);
  try {
    const reader = log.reader('bench-alerts-log');
    const found: LoggedAlert[] = [];
    for (const unit of await reader.units()) {
      let after: string | undefined;
      for (;;) {
        const got = await reader.read(unit, after, 1000);
        if (got.length === 0) break;
        after = got[got.length - 1].position;
        for (const record of got) {
          try {
            const parsed = alertRecordSchema.safeParse(JSON.parse(record.data.toString('utf8')));
            if (parsed.success) found.push({ alert: parsed.data, arrivalTime: record.arrivalTime });
          } catch {
            /* not an alert */
          }
        }
      }
    }
    return found;
  } finally {
    await log.close();
  }
}

/** Produces an unmeasured workload at the rate first: the first seconds after the job starts (or a rate changes) are slow. */
async function warmUp(sandbox: Sandbox, rate: number, say: (line: string) => void) {
  const workload = makeWorkload({ rate, durationSeconds: PARAMS.warmUpSeconds, seed: PARAMS.seed, startTime: Date.now() }, config);
  const began = Date.now();
  const produced = await produceAtRate(sandbox.log, workload.records, { rate });
  const seconds = (Date.now() - began) / 1000;
  say(`  warm-up: ${produced.sent} records at ${rate}/s in ${seconds.toFixed(1)} s (not measured)`);
  return { seconds: PARAMS.warmUpSeconds, records: produced.sent, achievedRate: round(produced.sent / seconds, 1) };
}

async function measureLatency(sandbox: Sandbox, rate: number, firstMarker: number, cards: CardProfile[], say: (line: string) => void): Promise<LatencyResult> {
  const { settings } = sandbox;
  const lake = sandboxDirs(settings).lake;
  const loadAtStart = loadavg()[0];
  const pollErrors = { speed: 0, baseline: 0, alerts: 0, lastError: '' };
  const noted = (kind: 'speed' | 'baseline' | 'alerts', error: unknown) => {
    pollErrors[kind] += 1;
    pollErrors.lastError = `${kind}: ${(error as Error).message ?? String(error)}`.slice(0, 300);
  };
  let stop = false;
  const seenBaseline = new Map<string, number>();
  const baselineAfter = new Map<string, string | undefined>();
  const markerLogTime = new Map<string, number>(); // the marker record's own timestamp on the log
  // Baseline: a bare reader of the log, polling every unit. It starts before the warm-up, after what an earlier phase
  // read (its committed positions), so it has nothing to catch up on once the measured records come.
  const baselineLog = openLog(settings);
  current!.baselineLog = baselineLog;
  const reader: LogReader = baselineLog.reader('bench-baseline');
  const units = await reader.units();
  const baselinePoll = Promise.all(
    units.map(async (unit) => {
      let after = await reader.committed(unit);
      baselineAfter.set(unit, after);
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
        baselineAfter.set(unit, after);
        for (const record of got)
          if (record.key.startsWith(MARKER_PREFIX) && !seenBaseline.has(record.key)) {
            seenBaseline.set(record.key, at);
            markerLogTime.set(record.key, record.arrivalTime);
          }
      }
    }),
  );

  const warm = await warmUp(sandbox, rate, say);
  const workload = makeWorkload({ rate, durationSeconds: PARAMS.latencyDurationSeconds, seed: PARAMS.seed, startTime: Date.now() }, config) as GeneratedWorkload;
  if (JSON.stringify(workload.groundTruth.cards) !== JSON.stringify(cards)) throw new Error('the workload has other cards than the profiles loaded');
  const { records, markers } = withMarkers(workload, rate, firstMarker);
  const truth = workload.groundTruth;
  const runId = truth.runId;
  const speedRules: readonly string[] = PATH_RULES.speed;
  const streamRules: readonly string[] = PATH_RULES.stream;
  const expectedOf = { speed: truth.incidents.filter((i) => speedRules.includes(i.rule)), stream: sandbox.flink.running ? truth.incidents.filter((i) => streamRules.includes(i.rule)) : [] };

  const markerAccepted = new Map<string, number>();
  const incidentAccepted = new Map<string, number>(); // incidentId -> acceptance of its last record
  const producedAt = new ProducedAt(); // txnId -> acceptance, for pathDeliveries
  const seenSpeedView = new Map<string, number>();

  // Speed view: list the folder every 100 ms, read each new file once (files from before this phase are skipped).
  const viewWatcher = new FolderWatcher(path.join(lake, 'speed', 'spend_per_card_minute'));
  for (const name of viewWatcher.pending()) viewWatcher.markDone(name);
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
  }

  say(`  producing ${records.length} records (${markers} markers, ${truth.incidents.length} incidents) at ${rate}/s ...`);
  const began = Date.now();
  const produced = await produceAtRate(sandbox.log, records, {
    rate,
    onAccepted: (slice, acceptedAt) => {
      producedAt.accepted(slice, acceptedAt);
      for (const record of slice) {
        if (record.key.startsWith(MARKER_PREFIX)) markerAccepted.set(record.key, acceptedAt);
        else if (record.label.kind === 'fraud') incidentAccepted.set(record.label.incidentId, acceptedAt);
      }
    },
  });
  const doneProducing = Date.now();
  const producerAchievedRate = produced.sent / ((doneProducing - began) / 1000);
  say(`  produced in ${((doneProducing - began) / 1000).toFixed(1)} s; waiting for the markers and the delivered alerts ...`);

  // Delivered alerts carry the SNS stand-in's own time; the wait only needs to know when they are all there.
  const key = (detectedBy: string, alertId: string) => `${detectedBy}:${alertId}`;
  // Expected alerts are matched by their deterministic alertId over everything delivered: an alert's window may hold a
  // transaction of the warm-up (the same cards), so its first txnId need not be of this phase.
  const mine = (alert: AlertRecord) => alert.txnIds.some((id) => id.startsWith(runId));
  const allSeen = (want: Iterable<string>, seen: Map<string, number>) => [...want].every((id) => seen.has(id));
  let delivered: DeliveredAlert[] = [];
  for (;;) {
    const now = Date.now();
    try {
      delivered = await readDeliveredAlerts(settings);
    } catch (error) {
      noted('alerts', error);
    }
    const deliveredKeys = new Set(delivered.map((d) => key(d.alert.detectedBy, d.alert.alertId)));
    const alertsDone =
      (expectedOf.speed.every((i) => deliveredKeys.has(key('speed', i.alertId))) && expectedOf.stream.every((i) => deliveredKeys.has(key('stream', i.alertId)))) ||
      now > doneProducing + PARAMS.alertDrainSeconds * 1000;
    const markersDone = (allSeen(markerAccepted.keys(), seenSpeedView) && allSeen(markerAccepted.keys(), seenBaseline)) || now > doneProducing + PARAMS.speedDrainSeconds * 1000;
    if (alertsDone && markersDone) break;
    await sleep(500);
  }
  stop = true;
  await Promise.all([speedPoll, baselinePoll]);
  for (const [unit, position] of baselineAfter) if (position !== undefined) await reader.commit(unit, position).catch((error) => noted('baseline', error));
  await baselineLog.close();
  current!.baselineLog = undefined;
  // A last read: a duplicate delivery can only come after the first one.
  await sleep(2000);
  delivered = await readDeliveredAlerts(settings);
  const logged = await readAlertsLog(settings);

  const markerSamples = (seen: Map<string, number>) =>
    [...markerAccepted].filter(([card]) => seen.has(card)).map(([card, accepted]) => seen.get(card)! - accepted);
  const baseline = { ...latencyStats(markerSamples(seenBaseline)), missing: markers - [...markerAccepted.keys()].filter((k) => seenBaseline.has(k)).length };
  const multiple = (s: Stats) => ({ p50: ratio(s.p50Ms, baseline.p50Ms), p99: ratio(s.p99Ms, baseline.p99Ms) });
  const speedViewStats = latencyStats(markerSamples(seenSpeedView));
  const speedView = { ...speedViewStats, missing: markers - [...markerAccepted.keys()].filter((k) => seenSpeedView.has(k)).length, asMultipleOfBaseline: multiple(speedViewStats) };

  const deliveries = pathDeliveries(delivered, producedAt.times, '');
  const firstLogged = new Map<string, LoggedAlert>();
  const loggedCount = new Map<string, number>();
  for (const l of logged) {
    const k = key(l.alert.detectedBy, l.alert.alertId);
    loggedCount.set(k, (loggedCount.get(k) ?? 0) + 1);
    const before = firstLogged.get(k);
    if (!before || l.arrivalTime < before.arrivalTime) firstLogged.set(k, l);
  }
  const firstDelivered = new Map<string, DeliveredAlert>();
  for (const d of delivered) {
    const k = key(d.alert.detectedBy, d.alert.alertId);
    if (!firstDelivered.has(k)) firstDelivered.set(k, d);
  }
  function alertPath(detectedBy: AlertPath): AlertPathLatency {
    const expected = expectedOf[detectedBy].filter((i) => incidentAccepted.has(i.incidentId));
    const onLog: number[] = [];
    const toDelivered: number[] = [];
    const hops = { produceToDetected: [] as number[], detectedToLog: [] as number[], logToDelivered: [] as number[] };
    const missingIncidents: AlertPathLatency['missingIncidents'] = [];
    const each: AlertPathLatency['slowest'] = [];
    for (const incident of expected) {
      const accepted = incidentAccepted.get(incident.incidentId)!;
      const l = firstLogged.get(key(detectedBy, incident.alertId));
      const d = firstDelivered.get(key(detectedBy, incident.alertId));
      if (l) onLog.push(l.arrivalTime - accepted);
      if (d) toDelivered.push(d.deliveredAt - accepted);
      else missingIncidents.push({ alertId: incident.alertId, rule: incident.rule, onLog: l !== undefined });
      const detectedAt = (d ?? l)?.alert.detectedAt;
      if (detectedAt !== undefined) hops.produceToDetected.push(detectedAt - accepted);
      if (l) hops.detectedToLog.push(l.arrivalTime - l.alert.detectedAt);
      if (l && d) hops.logToDelivered.push(d.deliveredAt - l.arrivalTime);
      if (d)
        each.push({
          alertId: incident.alertId,
          rule: incident.rule,
          deliveredMs: d.deliveredAt - accepted,
          produceToDetectedMs: d.alert.detectedAt - accepted,
          detectedToLogMs: l ? l.arrivalTime - l.alert.detectedAt : null,
          logToDeliveredMs: l ? d.deliveredAt - l.arrivalTime : null,
        });
    }
    const wanted = new Set(expectedOf[detectedBy].map((i) => i.alertId));
    const extras = [...firstDelivered.values()].filter((d) => d.alert.detectedBy === detectedBy && mine(d.alert) && !wanted.has(d.alert.alertId));
    const logStats = { ...latencyStats(onLog), missing: expected.length - onLog.length };
    const deliveredStats = { ...latencyStats(toDelivered), missing: expected.length - toDelivered.length };
    return {
      log: logStats,
      delivered: deliveredStats,
      hops: { produceToDetected: latencyStats(hops.produceToDetected), detectedToLog: latencyStats(hops.detectedToLog), logToDelivered: latencyStats(hops.logToDelivered) },
      expected: expectedOf[detectedBy].length,
      deliveredNotInGroundTruth: extras.map((d) => {
        const same = expectedOf[detectedBy].find((i) => i.rule === d.alert.rule && i.cardId === d.alert.cardId);
        return {
          alertId: d.alert.alertId,
          txnsAllOfThisPhase: d.alert.txnIds.every((id) => id.startsWith(runId)),
          sameRuleAndCardIncident: same?.alertId ?? null,
          windowStartDeltaMs: same ? d.alert.windowStart - same.windowStart : null,
        };
      }),
      missingIncidents,
      slowest: each.sort((a, b) => b.deliveredMs - a.deliveredMs).slice(0, 5),
      deliveredMoreThanOnce: deliveries[detectedBy].deliveredMoreThanOnce,
      onLogMoreThanOnce: [...loggedCount].filter(([k, n]) => k.startsWith(`${detectedBy}:`) && n > 1).length,
      asMultipleOfBaseline: { log: multiple(logStats), delivered: multiple(deliveredStats) },
    };
  }
  const speedAlerts = alertPath('speed');
  let streamAlerts: LatencyResult['streamAlerts'];
  if (sandbox.flink.running) {
    // The final lake view: once the job has committed everything (its lag 0) and one more checkpoint has passed.
    await waitIdle(sandbox, PARAMS.streamDrainSeconds * 1000);
    await sleep((sandbox.flink.checkpointIntervalMs ?? LOCAL_CHECKPOINT_INTERVAL_MS) + 2000);
    let inView = new Set<string>();
    try {
      inView = await lakeAlertIds(lake);
    } catch (error) {
      noted('alerts', error);
    }
    streamAlerts = {
      ...alertPath('stream'),
      deliveredNotInFinalView: [...firstDelivered.values()].filter((d) => d.alert.detectedBy === 'stream' && mine(d.alert) && !inView.has(d.alert.alertId)).map((d) => d.alert.alertId),
      inFinalView: expectedOf.stream.filter((i) => inView.has(i.alertId)).length,
    };
  }
  // The latency target and completeness are reported apart: a p99 under target says nothing about incidents never alerted.
  const target = (targetP99Ms: number, st: Stats & { missing: number }) => ({
    targetP99Ms,
    p99Ms: st.p99Ms,
    p99UnderTarget: st.p99Ms !== null && st.p99Ms < targetP99Ms,
    missing: st.missing,
    met: st.p99Ms !== null && st.p99Ms < targetP99Ms && st.missing === 0,
  });
  const targets: LatencyResult['targets'] = {
    'produce -> speed view': target(PARAMS.targetsP99Ms.speed, speedView),
    'produce -> speed alert delivered': target(PARAMS.targetsP99Ms.speed, speedAlerts.delivered),
  };
  if (streamAlerts) targets['produce -> stream alert delivered'] = target(PARAMS.targetsP99Ms.stream, streamAlerts.delivered);
  const tailSeconds = truth.options.fraudFreeTailSeconds;
  return {
    rate,
    durationSeconds: PARAMS.latencyDurationSeconds,
    warmUp: warm,
    loadAverage1m: { start: round(loadAtStart, 2), end: round(loadavg()[0], 2) },
    recordsProduced: produced.sent,
    markers,
    incidents: truth.incidents.length,
    producerAchievedRate: round(producerAchievedRate, 1),
    baselineLogReader: baseline,
    acceptedAfterLogTimestamp: latencyStats([...markerAccepted].filter(([card]) => markerLogTime.has(card)).map(([card, accepted]) => accepted - markerLogTime.get(card)!)),
    speedView,
    speedAlerts,
    streamAlerts,
    targets,
    incidentsInFraudFreeTail:
      `none by design: the generator starts no incident in the last ${tailSeconds} s of the run ` +
      `(out-of-orderness ${stream.maxOutOfOrdernessMs / 1000} s + allowed lateness ${stream.allowedLatenessMs / 1000} s + 10 s), so no alert samples come from the last ${tailSeconds} s`,
    pollErrors,
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

interface Sustained {
  highestSustainedSetRate: number | null;
  highestSustainedAchievedRate: number | null;
  firstFailedSetRate: number | null;
  failedBy: Array<string | false | undefined>;
  boundedByStepList: boolean;
  boundedByProducer: boolean;
  producerBaseline: Awaited<ReturnType<typeof producerBaseline>>;
  sustainedOverProducerBaseline: number | null;
  steps: StepResult[];
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
  const cards = makeWorkload({ rate: PARAMS.latencyRates[0], durationSeconds: 1, seed: PARAMS.seed, startTime: Date.now() }, config).groundTruth;
  if (!cards.known) throw new Error('generated workload without ground truth');
  // Each rate's markers have cards of their own: a later phase never sees an earlier phase's rows.
  const markerCount = Math.ceil(PARAMS.latencyDurationSeconds / PARAMS.markerEverySeconds) + 1;
  const profiles = [...cards.cards, ...Array.from({ length: markerCount * PARAMS.latencyRates.length }, (_, n) => markerProfile(n))];
  const sandbox = await startSandbox(settings, { cards: profiles, onProgress: (m) => say(`  ${m}`) });
  current.sandbox = sandbox;
  const startupSeconds = round((Date.now() - began) / 1000, 1);
  say(`  sandbox up in ${startupSeconds} s (home ${settings.home}); Flink ${sandbox.flink.running ? 'running' : `not running: ${sandbox.flink.reason}`}`);

  // 1. latency, one phase per rate
  const latency: LatencyResult[] = [];
  for (const [k, rate] of PARAMS.latencyRates.entries()) {
    say(`  latency at ${rate}/s`);
    latency.push(await measureLatency(sandbox, rate, k * markerCount, cards.cards, say));
    const idle = await waitIdle(sandbox, 90_000);
    say(`  paths idle ${(idle.waitedMs / 1000).toFixed(0)} s after the ${rate}/s phase (speed lag ${idle.speed}, flink lag ${idle.stream ?? '-'})`);
    // Kept outside the repository in case a later phase fails.
    fs.writeFileSync(path.join(tmpdir(), `tributary-bench-e2e-${log}-${rate}.json`), JSON.stringify(latency[latency.length - 1], null, 2));
  }
  // 2. sustained rate (skipped with --skip-steps)
  const sustained = PARAMS.skipSteps ? undefined : await measureSustained(sandbox, settings, say);

  const checkpointMs = sandbox.flink.checkpointIntervalMs ?? LOCAL_CHECKPOINT_INTERVAL_MS;
  await teardown();
  return {
    log,
    measuredOn: new Date(began).toISOString() as string | undefined,
    flink: sandbox.flink.running ? { running: true, checkpointIntervalMs: checkpointMs } : { running: false, reason: sandbox.flink.reason },
    loadAverage1m: { start: round(loadAtStart, 2), end: round(loadavg()[0], 2) },
    startupSeconds,
    startupMs: sandbox.startupMs,
    latency,
    sustained,
    leftoverProcesses: leftoverProcesses(settings.home),
  };
}

/** Steps of increasing set rate, the producer alone first as their baseline. */
async function measureSustained(sandbox: Sandbox, settings: SandboxSettings, say: (line: string) => void): Promise<Sustained> {
  // The producer alone first (consumers idle: their log gets nothing), then the steps.
  const sliceSize = Math.max(1, Math.round(Math.max(...PARAMS.steps) / 10));
  const producer = await producerBaseline(settings, sliceSize, say);
  const steps: StepResult[] = [];
  let eventTime = Date.now() + 1000;
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
  return {
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

const settingsPollNote = '100 ms on Kafka (MSK pollers fetch continuously), 1 s on Kinesis';

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
      phases: `One latency phase per rate (${PARAMS.latencyRates.join(', ')} records/s), in the same sandbox, one after the other; each starts with ${PARAMS.warmUpSeconds} s of unmeasured records at its rate (a workload of its own: the first seconds after the Flink job starts are slow), then ${PARAMS.latencyDurationSeconds} s measured. Each phase's markers are on cards of their own.`,
      alerts:
        `Per injected incident of a rule the path runs (speed ${PATH_RULES.speed.join(', ')}; stream ${PATH_RULES.stream.join(', ')}), matched by its deterministic alertId and the alert's detectedBy: ` +
        'log = acceptance of the incident\'s last record -> arrivalTime of the first record of that alert on the alerts log (openAlertsLog; Kafka LogAppendTime, the broker\'s clock; Kinesis ApproximateArrivalTimestamp), read back once after the phase; ' +
        'delivered = the same start -> deliveredAt of the first SNS stand-in message of that alert (readDeliveredAlerts: the stand-in\'s time when it accepted the notifier\'s Publish). ' +
        'hops: produce -> the alert\'s detectedAt (stamped by the detecting path), detectedAt -> log arrivalTime (the writer: speed handler\'s producer; Flink sink with its buffer timeout and linger), log arrivalTime -> deliveredAt (the notifier: its mapping\'s poll, the handler, the idempotency table, Publish). All clocks are this machine\'s. ' +
        'deliveredMoreThanOnce comes from pathDeliveries (sandbox/alerts.ts); deliveredNotInFinalView compares the phase\'s delivered stream alerts with SELECT DISTINCT alert_id FROM views_alerts WHERE v=\'1\' once the job has committed everything (lag 0) and one more checkpoint has passed. ' +
        'The lake alerts view (committed only on a checkpoint, after the watermark and allowed lateness) is the history, not the alert path: its latency is no longer measured (polling it through DuckDB every second cost CPU on the cores being measured).',
      targets: `Issue 13: produce -> stream alert p99 < ${PARAMS.targetsP99Ms.stream} ms; produce -> speed alert and produce -> speed view p99 < ${PARAMS.targetsP99Ms.speed} ms. Judged on delivered (what a subscriber sees) and on the speed view markers; p99UnderTarget is the latency alone, met also requires no incident missing.`,
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
      `Speed view and speed alerts: the speed layer's event source mapping stand-in polls the log every ${settingsPollNote}, batch size ${speed.batchSize}, batching window ${speed.maxBatchingWindowSeconds} s, then invokes the handler, which writes the view file through S3Proxy and each alert to the alerts log.`,
      `Stream alerts: the Flink job evaluates the rules eagerly and writes each alert to the alerts log when detected (alert path buffer timeout 10 ms, Kafka sink linger.ms 5); its lake alerts view still commits on each checkpoint (every ${LOCAL_CHECKPOINT_INTERVAL_MS / 1000} s locally) after the watermark passes.`,
      `Delivery: the alert notifier (the real handler) reads the alerts log through its own mapping stand-in (batch ${config.alerts.notifier.batchSize}, window ${config.alerts.notifier.maxBatchingWindowSeconds} s, the same poll interval), checks Powertools idempotency on dynalite and publishes to the SNS stand-in, once per alert per path.`,
      `Flink lag moves only on checkpoints (every ${LOCAL_CHECKPOINT_INTERVAL_MS / 1000} s): between them it grows by the records produced, by design.`,
      'Kinesis sections: the Flink job runs on kinesis-local too (polling reader, 1 s pause after an empty read); its lag is in ms behind the stream\'s end, not records.',
      'The benchmark process itself (producer, folder polling, bare reader, reading the SNS stand-in\'s file every 0.5 s) runs on the same cores as the sandbox.',
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
    console.log(`\n[${s.log}] 1-min load ${s.loadAverage1m.start} -> ${s.loadAverage1m.end}; sandbox up in ${s.startupSeconds} s`);
    const row = (name: string, st: Stats, extra: string, mult?: { p50: number | null; p99: number | null }) =>
      console.log(
        `  ${name.padEnd(34)} n=${String(st.count).padStart(4)}  p50 ${secs(st.p50Ms).padStart(8)}  p99 ${secs(st.p99Ms).padStart(8)}  max ${secs(st.maxMs).padStart(8)}` +
          (mult ? `  = ${mult.p50 ?? '-'}x / ${mult.p99 ?? '-'}x baseline` : '') +
          (extra ? `  ${extra}` : ''),
      );
    for (const l of s.latency) {
      console.log(`  -- ${l.rate}/s for ${l.durationSeconds} s (producer achieved ${l.producerAchievedRate}/s; load ${l.loadAverage1m.start} -> ${l.loadAverage1m.end})`);
      row('baseline: bare log reader', l.baselineLogReader, l.baselineLogReader.missing ? `${l.baselineLogReader.missing} missing` : '');
      row('(acceptedAt - record log time)', l.acceptedAfterLogTimestamp, '');
      row('produce -> speed view', l.speedView, l.speedView.missing ? `${l.speedView.missing} missing` : '', l.speedView.asMultipleOfBaseline);
      const paths: Array<[string, AlertPathLatency | undefined]> = [['speed', l.speedAlerts], ['stream', l.streamAlerts]];
      for (const [name, a] of paths) {
        if (!a) continue;
        const extra = `of ${a.expected} (missing ${a.delivered.missing}); dup deliveries ${a.deliveredMoreThanOnce.length}; not in truth ${a.deliveredNotInGroundTruth.length}`;
        row(`produce -> ${name} alert on log`, a.log, `of ${a.expected}`, a.asMultipleOfBaseline.log);
        row(`produce -> ${name} alert delivered`, a.delivered, extra, a.asMultipleOfBaseline.delivered);
        row(`   ${name}: produce -> detectedAt`, a.hops.produceToDetected, '');
        row(`   ${name}: detectedAt -> log`, a.hops.detectedToLog, '');
        row(`   ${name}: log -> delivered`, a.hops.logToDelivered, '');
      }
      if (l.streamAlerts) console.log(`  stream: ${l.streamAlerts.inFinalView} of ${l.streamAlerts.expected} incidents in the final lake view; delivered not in it: ${l.streamAlerts.deliveredNotInFinalView.length}`);
      for (const [name, t] of Object.entries(l.targets)) console.log(`  target ${name} p99 < ${t.targetP99Ms} ms: p99 ${t.p99Ms ?? '-'} ms ${t.p99UnderTarget ? 'under' : 'NOT under'} target; ${t.missing} incidents missing; ${t.met ? 'met' : 'NOT met'}`);
    }
    const u = s.sustained;
    if (!u) {
      console.log('  sustained-rate steps skipped (--skip-steps)');
    } else {
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
    }
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
