import { alertRecordSchema } from '../../lambdas/shared/alert';
import type { PlatformConfig } from '../../lib/config';
import { readDeliveredAlerts } from '../../sandbox/alerts';
import { score, speedRowPossible, streamGivenLate, type ExpectedResults } from '../../sandbox/expected';
import type { GeneratedWorkload } from '../../sandbox/generator';
import { openAlertsLog, type LogReader } from '../../sandbox/log';
import { sqlString, type LakeSql } from '../../sandbox/serving/lake-sql';
import type { SandboxSettings } from '../../sandbox/settings';
import { PATH_RULES, runAlerts } from '../../sandbox/summary';

/**
 * A sandbox run's outputs read back from the lake, the alerts log and the SNS stand-in, and checked against
 * the exact recomputation from the produced records (sandbox/expected) and the ground truth: what the
 * end-to-end test asserts of a run without faults, and the fault suite of a run with them.
 */

const cents = (amount: string | number) => Math.round(Number(amount) * 100);

export interface Archived {
  /** Valid produced records in the archive fewer times than produced. */
  missing: string[];
  /** Rows beyond what was produced: each valid record's extra copies, summed. */
  duplicates: number;
  /** txnIds with more rows than produced. */
  duplicated: string[];
}

/**
 * The raw archive against the produced valid records. Checks that every valid record is there at least as
 * often as produced, with its amount, and that anything else is a malformed record whose fields still
 * convert; returns the duplicates for the caller to assert (none) or report (at least once).
 */
export async function checkArchive(lake: LakeSql, prefix: string, expected: ExpectedResults): Promise<Archived> {
  const rows = await lake.query(`SELECT txn_id, count(*) AS n, sum(amount) AS total FROM raw_transactions WHERE starts_with(txn_id, ${sqlString(prefix)}) GROUP BY txn_id`);
  const archived = new Map(rows.map((r) => [String(r.txn_id), { n: Number(r.n), cents: cents(String(r.total)) }]));
  const produced = new Map<string, { n: number; cents: number }>();
  for (const d of expected.valid) {
    const entry = produced.get(d.transaction.txnId) ?? { n: 0, cents: 0 };
    produced.set(d.transaction.txnId, { n: entry.n + 1, cents: entry.cents + d.cents });
  }
  expect(produced.size).toBeGreaterThan(10_000);
  const missing: string[] = [];
  const duplicated: string[] = [];
  let duplicates = 0;
  for (const [txnId, want] of produced) {
    const got = archived.get(txnId);
    if (!got || got.n < want.n) missing.push(txnId);
    else {
      // Each copy carries the same amount.
      expect([txnId, got.cents * want.n]).toEqual([txnId, want.cents * got.n]);
      if (got.n > want.n) {
        duplicated.push(txnId);
        duplicates += got.n - want.n;
      }
    }
  }
  // Whatever else is in the archive is a malformed record whose fields still convert, as Firehose's conversion takes it.
  const malformedData = new Set(expected.malformed.map((m) => m.data));
  const others = [...archived.keys()].filter((txnId) => !produced.has(txnId));
  for (const txnId of others) expect([...malformedData].some((data) => data.includes(txnId))).toBe(true);
  return { missing, duplicates, duplicated };
}

/** Every malformed record is dead-lettered with its reason, once, by the speed layer, and rejected by the stream job. */
export async function expectDeadLetters(lake: LakeSql, expected: ExpectedResults, version = 1): Promise<void> {
  await expectSpeedDeadLetters(lake, expected);
  await expectStreamDeadLetters(lake, expected, version);
}

export async function expectSpeedDeadLetters(lake: LakeSql, expected: ExpectedResults): Promise<void> {
  const speed = await lake.query(`SELECT reason, data_base64 FROM deadletter_speed`);
  const byData = new Map(speed.map((r) => [Buffer.from(String(r.data_base64), 'base64').toString('utf8'), String(r.reason)]));
  expect(expected.malformed.length).toBeGreaterThan(20);
  for (const m of expected.malformed) expect([m.data, byData.get(m.data)]).toEqual([m.data, m.reason]);
  expect(byData.size).toBe(expected.malformed.length);
}

export async function expectStreamDeadLetters(lake: LakeSql, expected: ExpectedResults, version = 1): Promise<void> {
  const rejected = await lake.query(`SELECT "raw" FROM views_dead_letter WHERE v = '${version}'`);
  expect(new Set(rejected.map((r) => String(r.raw)))).toEqual(new Set(expected.malformed.map((m) => m.data)));
}

/** Every card-minute of the speed view is the exact sum of its deliveries: nothing lost, nothing counted twice. */
export async function expectSpeedView(lake: LakeSql, expected: ExpectedResults): Promise<void> {
  const rows = await lake.query(
    `SELECT card_id, window_start, sum(txn_count) AS n, sum(total_amount) AS total FROM speed_spend_per_card_minute GROUP BY card_id, window_start`,
  );
  const served = new Map(rows.map((r) => [`${r.card_id}@${r.window_start}`, { txnCount: Number(r.n), totalCents: cents(String(r.total)) }]));
  const wrong = expected.speed.spend_per_card_minute.filter((row) => {
    const actual = served.get(`${row.key}@${row.window_start}`);
    return !actual || !speedRowPossible(row, actual);
  });
  expect(wrong).toEqual([]);
  expect(served.size).toBe(expected.speed.spend_per_card_minute.length);
}

/** The stream job's views equal the exact recomputation for every window the watermark closed, and nothing it wrote differs. */
export async function expectFlinkViews(lake: LakeSql, expected: ExpectedResults, prefix: string, config: PlatformConfig, version = 1): Promise<void> {
  const stream = config.streamProcessing;
  const v = `v = '${version}'`;
  const late = await lake.query(`SELECT txn_id FROM views_late_events WHERE ${v} AND starts_with(txn_id, ${sqlString(prefix)})`);
  // Which events are late depends on how evenly the job read the partitions (a loaded machine reads them
  // like a replay: docs/sandbox.md). So the views are checked given the job's own late events, which may
  // hold only events that could be late at all.
  const outputs = streamGivenLate(expected, late.map((r) => String(r.txn_id)), { requireClearlyLate: false });
  expect(late.length).toBeGreaterThan(0);
  // A window is written once, when the watermark passes its end plus the allowed lateness (FinalWindowTrigger).
  // So the last window written shows how far the watermark got, and every window due before it must be there
  // (the run waits for the checkpoints after the last watermark, so every subtask's windows are committed).
  const finalTime = (windowEnd: number) => windowEnd - 1 + stream.allowedLatenessMs;
  const cardMinute = await lake.query(`SELECT card_id, window_start, txn_count, total_amount FROM views_spend_per_card_minute WHERE ${v}`);
  const actual = new Map(cardMinute.map((r) => [`${r.card_id}@${r.window_start}`, `${r.txn_count}/${cents(String(r.total_amount))}`]));
  // Each window once: a restored job must not write a window its checkpoint had already committed.
  expect(actual.size).toBe(cardMinute.length);
  const want = outputs.views.spend_per_card_minute;
  const reached = Math.max(...cardMinute.map((r) => finalTime(Number(r.window_start) + 60_000)));
  const mustBeThere = want.filter((r) => finalTime(r.window_start + 60_000) <= reached);
  expect(mustBeThere.length).toBeGreaterThan(200);
  for (const r of mustBeThere) expect([r.card_id, r.window_start, actual.get(`${r.card_id}@${r.window_start}`)]).toEqual([r.card_id, r.window_start, `${r.txn_count}/${cents(r.total_amount)}`]);
  // Nothing the job wrote differs from the recomputation, closed-for-sure or not.
  const wantAll = new Map(want.map((r) => [`${r.card_id}@${r.window_start}`, `${r.txn_count}/${cents(r.total_amount)}`]));
  for (const [key, value] of actual) expect([key, value]).toEqual([key, wantAll.get(key)]);

  const velocity = await lake.query(`SELECT card_id, window_start, window_end, txn_count, total_amount FROM views_card_velocity WHERE ${v}`);
  const wantVelocity = new Map(outputs.views.card_velocity.map((r) => [`${r.card_id}@${r.window_start}`, `${r.window_end}/${r.txn_count}/${cents(r.total_amount)}`]));
  expect(velocity.length).toBeGreaterThan(0);
  for (const r of velocity) {
    const key = `${r.card_id}@${r.window_start}`;
    expect([key, `${r.window_end}/${r.txn_count}/${cents(String(r.total_amount))}`]).toEqual([key, wantVelocity.get(key)]);
  }
}

/**
 * The alerts in the lake against the ground truth: the stream job's exactly; the speed layer's never false,
 * and at least `speedRecall` of its rules' incidents (it misses only a burst its batches or windows cut apart).
 */
export async function expectLakeAlerts(lake: LakeSql, workload: GeneratedWorkload, prefix: string, speedRecall: number, version = 1): Promise<void> {
  await expectSpeedLakeAlerts(lake, workload, prefix, speedRecall);
  await expectStreamLakeAlerts(lake, workload, prefix, version);
}

/** The speed layer's alerts in the lake: never false, at least `speedRecall` of its rules' incidents. */
export async function expectSpeedLakeAlerts(lake: LakeSql, workload: GeneratedWorkload, prefix: string, speedRecall: number): Promise<void> {
  const truth = workload.groundTruth;
  expect(truth.incidents.length).toBeGreaterThan(20);
  const speedAlerts = await runAlerts(lake, 'speed_alerts', prefix);
  const speed = score(speedAlerts, truth);
  for (const rule of PATH_RULES.speed) expect([rule, speed.perRule[rule].falsePositives]).toEqual([rule, 0]);
  const speedFound = PATH_RULES.speed.reduce((n, rule) => n + speed.perRule[rule].truePositives, 0);
  const speedIncidents = PATH_RULES.speed.reduce((n, rule) => n + speed.perRule[rule].incidents, 0);
  expect(speedFound / speedIncidents).toBeGreaterThanOrEqual(speedRecall);
  // Its alerts carry the spec's ids, the same as the stream job's for the same incident.
  for (const alert of speedAlerts) expect(truth.incidents.map((i) => i.alertId)).toContain(alert.alertId);
}

/** The stream job's alerts in the lake are exactly the ground truth's incidents of its rules. */
export async function expectStreamLakeAlerts(lake: LakeSql, workload: GeneratedWorkload, prefix: string, version = 1): Promise<void> {
  const truth = workload.groundTruth;
  const stream = score(await runAlerts(lake, 'views_alerts', prefix, `AND v = '${version}'`), truth);
  expect(stream.missed).toEqual([]);
  expect(stream.falsePositives).toEqual([]);
}

export interface LoggedAlert {
  detectedBy: string;
  alertId: string;
  /** When the log appended it (the alerts topic uses LogAppendTime). */
  appendedAt: number;
}

/** Reads the alerts log of a run (its txnIds start with `prefix`) from where it last stopped, per partition. */
export class AlertsLogTail {
  private readonly after = new Map<string, string | undefined>();
  constructor(
    private readonly reader: LogReader,
    private readonly prefix: string,
  ) {}

  async next(): Promise<LoggedAlert[]> {
    const out: LoggedAlert[] = [];
    for (const unit of await this.reader.units()) {
      for (;;) {
        const records = await this.reader.read(unit, this.after.get(unit), 1000);
        if (records.length === 0) break;
        for (const r of records) {
          const alert = alertRecordSchema.parse(JSON.parse(r.data.toString('utf8')));
          if (alert.txnIds[0].startsWith(this.prefix)) out.push({ detectedBy: alert.detectedBy, alertId: alert.alertId, appendedAt: r.arrivalTime });
        }
        this.after.set(unit, records[records.length - 1].position);
      }
    }
    return out;
  }
}

/** The whole alerts log of a run, read from its start by a reader of its own. */
export async function readAlertsLog(settings: SandboxSettings, config: PlatformConfig, prefix: string, readerName: string): Promise<LoggedAlert[]> {
  const alertsLog = openAlertsLog(settings, config);
  try {
    return await new AlertsLogTail(alertsLog.reader(readerName), prefix).next();
  } finally {
    await alertsLog.close();
  }
}

/** How often each alert id of one path occurs. */
export function countAlerts(items: ReadonlyArray<{ detectedBy: string; alertId: string }>, detectedBy: string): Map<string, number> {
  const n = new Map<string, number>();
  for (const a of items) if (a.detectedBy === detectedBy) n.set(a.alertId, (n.get(a.alertId) ?? 0) + 1);
  return n;
}

/** The alerts the notifier delivered to subscribers for a run. */
export async function deliveredAlerts(settings: SandboxSettings, prefix: string) {
  return (await readDeliveredAlerts(settings)).filter((d) => d.alert.txnIds[0].startsWith(prefix)).map((d) => d.alert);
}

/**
 * Every alert a path found is delivered to subscribers exactly once. The log may hold an alert more than once
 * when `logAtLeastOnce` (a crash made a path send it again); without, the log holds each once too.
 */
export async function expectAlertsDeliveredOnce(
  settings: SandboxSettings,
  config: PlatformConfig,
  lake: LakeSql,
  workload: GeneratedWorkload,
  prefix: string,
  options: { logAtLeastOnce: boolean; version?: number; paths?: ReadonlyArray<'speed' | 'stream'> },
): Promise<void> {
  const paths = options.paths ?? ['speed', 'stream'];
  const onLog = await readAlertsLog(settings, config, prefix, 'outputs-check');
  const delivered = await deliveredAlerts(settings, prefix);
  const once = (n: Map<string, number>) => [...n].filter(([, times]) => times !== 1);
  const checks = (path: string) => [
    { n: countAlerts(onLog, path), exact: !options.logAtLeastOnce },
    { n: countAlerts(delivered, path), exact: true },
  ];

  // The speed layer: each alert it found (its lake alerts) is on the log and delivered.
  if (paths.includes('speed')) {
    const speedFound = (await runAlerts(lake, 'speed_alerts', prefix)).map((a) => a.alertId!).sort();
    expect(speedFound.length).toBeGreaterThan(10);
    for (const { n, exact } of checks('speed')) {
      expect([...n.keys()].sort()).toEqual(speedFound);
      if (exact) expect(once(n)).toEqual([]);
    }
  }
  if (!paths.includes('stream')) return;
  // The stream job: every incident of its rules is on the log and delivered (none of it waits for the window
  // to close); anything else it sent early is an alert its final evaluation did not confirm.
  const streamIncidents = workload.groundTruth.incidents.filter((i) => (PATH_RULES.stream as readonly string[]).includes(i.rule)).map((i) => i.alertId);
  const finalIds = new Set((await runAlerts(lake, 'views_alerts', prefix, `AND v = '${options.version ?? 1}'`)).map((a) => a.alertId));
  for (const { n, exact } of checks('stream')) {
    for (const id of streamIncidents) expect([id, n.has(id)]).toEqual([id, true]);
    if (exact) expect(once(n)).toEqual([]);
    // Early alerts are exact when each card's events reach the rules in the order they have on the log (one path
    // per card through the job: docs/flink-jobs.md); this workload's out-of-order records break no pair.
    expect([...n.keys()].filter((id) => !finalIds.has(id))).toEqual([]);
  }
}
