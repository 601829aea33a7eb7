import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PlatformConfig } from '../lib/config';
import { lakeTables } from '../lib/lake-catalog';
import { LakePrefix } from '../lib/lake-layout';
import { pathDeliveries, readDeliveredAlerts, type LatencyStats, type PathDeliveries } from './alerts';
import { expectedResults, score, type AlertLike, type Score } from './expected';
import type { Workload } from './generator';
import { openLakeSql, sqlString, tableSelectFrom, type LakeSql } from './serving/lake-sql';
import type { FlinkState } from './session';
import { sandboxDirs, type SandboxSettings } from './settings';

/**
 * What a run did, read back from where each layer put its results (the lake
 * through DuckDB, the SNS stand-in's file, the on-failure folder) and set
 * beside what the generator produced and its ground truth. Scoped to the run:
 * rows by the run's txnId prefix, windows by the run's event-time range.
 */

export interface PathCounts {
  /** Transactions counted in the path's spend-per-card-minute view (speed: summed partial counts). */
  cardMinuteTxns: number;
  cardMinuteWindows: number;
  alerts: AlertLike[];
  deadLetters: number;
  score?: Score;
}

export interface RunSummary {
  runId?: string;
  log: SandboxSettings['log'];
  produced: { records: number; valid: number; malformed: number; duplicates: number; late: number; incidents: number };
  expected: { raw: number; distinctValid: number; malformed: number; streamLate: number; streamLateAmbiguous: number };
  raw: {
    rows: number;
    /** Valid produced records found in the archive as often as they were produced (duplicates twice). */
    validArchived: number;
    /** Valid produced records missing from the archive, or there fewer times than produced. */
    validMissing: number;
    /** Rows beyond the valid records: schema-invalid records whose fields still convert to the column types, as Firehose's would. */
    otherRows: number;
    errorRecords: number;
  };
  speed: PathCounts & { onFailureBatches: number };
  stream: (PathCounts & { lateEvents: number; enriched: number }) | { notRunning: string };
  /** The alerts the notifier delivered to the SNS topic from each path, as a subscriber sees them. */
  realTime: {
    speed: PathDeliveries;
    stream: PathDeliveries & {
      /** Delivered stream alerts that are not in the final alerts view (an early alert the job's final evaluation did not confirm). */
      notConfirmed: string[];
    };
    /** Alert batches the notifier's event source gave up on (on-failure-alerts/). */
    onFailureBatches: number;
  };
  where: Record<string, string>;
}


/** Lines of the files under `dir` written since `since` (epoch ms). */
function countLinesSince(dir: string, since: number): number {
  if (!fs.existsSync(dir)) return 0;
  let lines = 0;
  for (const name of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const file = path.join(dir, name);
    const stat = fs.statSync(file);
    if (!stat.isFile() || stat.mtimeMs < since) continue;
    lines += fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).length;
  }
  return lines;
}

async function one(sql: LakeSql, query: string): Promise<number> {
  const [row] = await sql.query(query);
  return Number(Object.values(row ?? {})[0] ?? 0);
}

interface AlertRow {
  alert_id: string;
  rule: string;
  card_id: string;
  txn_ids: string[];
}

/** The distinct alerts of a run (its txnIds start with the run's prefix) in an alerts table, with an optional extra condition. */
export async function runAlerts(sql: LakeSql, table: string, runPrefix: string, extra = ''): Promise<AlertLike[]> {
  const rows = (await sql.query(
    `SELECT DISTINCT alert_id, rule, card_id, txn_ids FROM ${table} WHERE starts_with(txn_ids[1], ${sqlString(runPrefix)}) ${extra}`,
  )) as unknown as AlertRow[];
  return rows.map((r) => ({ alertId: r.alert_id, rule: r.rule, cardId: r.card_id, txnIds: r.txn_ids }));
}

const SPEED_CARD_MINUTE = lakeTables().find((t) => t.tableName === 'speed_spend_per_card_minute')!;

/**
 * The speed view's objects written since the run began. The speed layer's rows carry no txnId, and a
 * card-minute may hold an earlier run's partial sums too; each object, though, holds one batch of one run.
 */
function speedObjectsSince(lakeDir: string, since: number): string[] {
  const dir = path.join(lakeDir, SPEED_CARD_MINUTE.prefix);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => path.join(dir, name))
    .filter((file) => file.endsWith('.json') && fs.statSync(file).mtimeMs >= since);
}

export async function summarizeRun(
  settings: SandboxSettings,
  config: PlatformConfig,
  workload: Workload,
  flink: FlinkState,
  /** When producing began, epoch ms: dead letters and speed objects from then on are this run's. */
  runStartedAt: number,
  /** When the log accepted each transaction (txnId -> epoch ms): the start of each alert's latency. */
  producedAt: ReadonlyMap<string, number> = new Map(),
): Promise<RunSummary> {
  const dirs = sandboxDirs(settings);
  const truth = workload.groundTruth;
  const runId = truth.known ? truth.runId : undefined;
  const records = workload.records;
  const expected = expectedResults(records, {
    partitions: settings.shards,
    maxOutOfOrdernessMs: config.streamProcessing.maxOutOfOrdernessMs,
    allowedLatenessMs: config.streamProcessing.allowedLatenessMs,
  });
  const times = expected.valid.map((d) => d.transaction.eventTime);
  const from = Math.min(...times) - (Math.min(...times) % 60000);
  const to = Math.max(...times);
  const inRun = `window_start BETWEEN ${from} AND ${to}`;
  const prefix = runId ? `${runId}-` : '';
  const version = `v = ${sqlString(String(flink.version ?? config.streamProcessing.outputVersion))}`;
  const sql = await openLakeSql(dirs.lake);
  try {
    const rawCounts = new Map(
      (await sql.query(`SELECT txn_id, count(*) AS n FROM raw_transactions WHERE starts_with(txn_id, ${sqlString(prefix)}) GROUP BY txn_id`)).map(
        (r) => [String(r.txn_id), Number(r.n)] as const,
      ),
    );
    const producedCounts = new Map<string, number>();
    for (const t of expected.raw) producedCounts.set(t.txnId, (producedCounts.get(t.txnId) ?? 0) + 1);
    let validArchived = 0;
    for (const [txnId, n] of producedCounts) validArchived += Math.min(n, rawCounts.get(txnId) ?? 0);
    const rawRows = [...rawCounts.values()].reduce((a, b) => a + b, 0);
    const speedAlerts = await runAlerts(sql, 'speed_alerts', prefix);
    const speedFiles = speedObjectsSince(dirs.lake, runStartedAt);
    const speedObjects = `(${tableSelectFrom(SPEED_CARD_MINUTE, speedFiles)})`;
    const speed: RunSummary['speed'] = {
      cardMinuteTxns: speedFiles.length ? await one(sql, `SELECT coalesce(sum(txn_count), 0) FROM ${speedObjects}`) : 0,
      cardMinuteWindows: speedFiles.length ? await one(sql, `SELECT count(*) FROM (SELECT DISTINCT card_id, window_start FROM ${speedObjects})`) : 0,
      alerts: speedAlerts,
      deadLetters: await one(sql, `SELECT count(*) FROM deadletter_speed WHERE arrival_time >= ${runStartedAt}`),
      score: truth.known ? score(speedAlerts, truth) : undefined,
      onFailureBatches: fileCount(dirs.onFailure),
    };
    let stream: RunSummary['stream'];
    if (flink.running) {
      const streamAlerts = await runAlerts(sql, 'views_alerts', prefix, `AND ${version}`);
      stream = {
        cardMinuteTxns: await one(sql, `SELECT coalesce(sum(txn_count), 0) FROM views_spend_per_card_minute WHERE ${version} AND ${inRun}`),
        cardMinuteWindows: await one(sql, `SELECT count(*) FROM views_spend_per_card_minute WHERE ${version} AND ${inRun}`),
        alerts: streamAlerts,
        deadLetters: await one(sql, `SELECT count(*) FROM views_dead_letter WHERE ${version} AND received_at >= ${runStartedAt}`),
        score: truth.known ? score(streamAlerts, truth) : undefined,
        lateEvents: await one(sql, `SELECT count(*) FROM views_late_events WHERE ${version} AND starts_with(txn_id, ${sqlString(prefix)})`),
        enriched: await one(sql, `SELECT count(*) FROM views_enriched_transactions WHERE ${version} AND starts_with(txn_id, ${sqlString(prefix)})`),
      };
    } else {
      stream = { notRunning: flink.reason ?? 'not running' };
    }
    const delivered = await readDeliveredAlerts(settings);
    const deliveries = pathDeliveries(delivered, producedAt, prefix, truth.known ? truth : undefined);
    const finalIds = new Set('notRunning' in stream ? [] : stream.alerts.map((a) => a.alertId));
    const realTime: RunSummary['realTime'] = {
      speed: deliveries.speed,
      stream: {
        ...deliveries.stream,
        notConfirmed: 'notRunning' in stream ? [] : [...new Set(delivered
          .filter((d) => d.alert.detectedBy === 'stream' && d.alert.txnIds[0]?.startsWith(prefix) && !finalIds.has(d.alert.alertId))
          .map((d) => d.alert.alertId))],
      },
      onFailureBatches: fileCount(dirs.alertsOnFailure),
    };
    const labels = records.map((r) => r.label.kind);
    return {
      runId,
      log: settings.log,
      produced: {
        records: records.length,
        valid: expected.valid.length,
        malformed: expected.malformed.length,
        duplicates: labels.filter((k) => k === 'duplicate').length,
        late: labels.filter((k) => k === 'late').length,
        incidents: truth.known ? truth.incidents.length : 0,
      },
      expected: {
        raw: expected.raw.length,
        distinctValid: new Set(expected.valid.map((d) => d.transaction.txnId)).size,
        malformed: expected.malformed.length,
        streamLate: expected.stream.late.length,
        streamLateAmbiguous: expected.stream.ambiguous.length,
      },
      raw: {
        rows: rawRows,
        validArchived,
        validMissing: expected.raw.length - validArchived,
        otherRows: rawRows - validArchived,
        errorRecords: countLinesSince(path.join(dirs.lake, LakePrefix.archiveErrors), runStartedAt),
      },
      speed,
      stream,
      realTime,
      where: {
        lake: dirs.lake,
        'alerts delivered to the SNS topic (both paths)': dirs.sns,
        'event source mapping on-failure (speed layer, alert notifier)': `${dirs.onFailure}, ${dirs.alertsOnFailure}`,
        'engine and worker logs': dirs.logs,
      },
    };
  } finally {
    sql.close();
  }
}

const fileCount = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).length : 0);

const pct = (value: number) => `${(value * 100).toFixed(1)} %`;

/** The rules each path implements (docs/reference-product.md): the speed layer keeps no running average, so no R3. */
export const PATH_RULES = { speed: ['R1', 'R2'], stream: ['R1', 'R2', 'R3'] } as const;

function scoreLines(name: string, s: Score | undefined, rules: readonly string[]): string[] {
  if (!s) return [`  ${name}: no ground truth (a recorded file)`];
  const perRule = Object.entries(s.perRule).map(([rule, r]) =>
    rules.includes(rule)
      ? `${rule} ${r.truePositives}/${r.incidents} found, ${r.falsePositives} false (precision ${pct(r.precision)}, recall ${pct(r.recall)})`
      : `${rule} not a rule of this path (${r.falsePositives} alerts)`,
  );
  const own = Object.entries(s.perRule).filter(([rule]) => rules.includes(rule)).map(([, r]) => r);
  const found = own.reduce((n, r) => n + r.truePositives, 0);
  const incidents = own.reduce((n, r) => n + r.incidents, 0);
  const alerts = own.reduce((n, r) => n + r.alerts, 0);
  return [
    `  ${name} (${rules.join(', ')}): precision ${pct(alerts ? found / alerts : 1)}, recall ${pct(incidents ? found / incidents : 1)}`,
    ...perRule.map((r) => `    ${r}`),
  ];
}

const secs = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(2)} s`);
const latency = (l: LatencyStats) => `p50 ${secs(l.p50Ms)}, p99 ${secs(l.p99Ms)}, max ${secs(l.maxMs)} over ${l.count}`;

function realTimeLines(summary: RunSummary): string[] {
  const rt = summary.realTime;
  const line = (name: string, rules: readonly string[], d: PathDeliveries, extra = '') => {
    const own = d.score ? Object.entries(d.score.perRule).filter(([rule]) => rules.includes(rule)).map(([, r]) => r) : [];
    const found = own.reduce((n, r) => n + r.truePositives, 0);
    const incidents = own.reduce((n, r) => n + r.incidents, 0);
    const alerts = own.reduce((n, r) => n + r.alerts, 0);
    const quality = d.score ? `precision ${pct(alerts ? found / alerts : 1)}, recall ${pct(incidents ? found / incidents : 1)}; ` : '';
    const twice = d.deliveredMoreThanOnce.length ? `${d.deliveredMoreThanOnce.length} DELIVERED MORE THAN ONCE (${d.deliveredMoreThanOnce.slice(0, 3).join(', ')})` : 'each delivered once';
    return `  ${name.padEnd(15)} ${d.alerts} alerts, ${twice}; ${quality}latency ${latency(d.latency)}${extra}`;
  };
  const lines = [line('speed layer', PATH_RULES.speed, rt.speed)];
  if (!('notRunning' in summary.stream)) {
    const nc = rt.stream.notConfirmed;
    lines.push(line('stream (Flink)', PATH_RULES.stream, rt.stream, nc.length ? `; ${nc.length} early alerts not confirmed by the final view (${nc.slice(0, 3).join(', ')})` : ''));
  }
  if (rt.onFailureBatches) lines.push(`  ${rt.onFailureBatches} alert batches went to the notifier's on-failure destination`);
  return lines;
}

export function formatSummary(summary: RunSummary): string {
  const p = summary.produced;
  const lines = [
    '',
    `== Sandbox run ${summary.runId ?? '(recorded file)'} on ${summary.log} ==`,
    `Produced ${p.records} records: ${p.valid} valid (${p.duplicates} duplicates, ${p.late} late), ${p.malformed} malformed, ${p.incidents} fraud incidents`,
    '',
    'Counts per layer',
    `  raw archive     ${summary.raw.rows} rows: ${summary.raw.validArchived} of ${summary.expected.raw} valid records (each as often as produced)${summary.raw.validMissing ? `, ${summary.raw.validMissing} MISSING` : ''}, ${summary.raw.otherRows} schema-invalid records its conversion accepts; ${summary.raw.errorRecords} records in errors/raw/`,
    `  speed layer     ${summary.speed.cardMinuteTxns} txns in ${summary.speed.cardMinuteWindows} card-minutes, ${summary.speed.alerts.length} alerts, ${summary.speed.deadLetters} dead letters (expected ${summary.expected.malformed}), ${summary.speed.onFailureBatches} batches to on-failure`,
  ];
  if ('notRunning' in summary.stream) {
    lines.push(`  stream (Flink)  not running: ${summary.stream.notRunning}`);
  } else {
    const s = summary.stream;
    lines.push(
      `  stream (Flink)  ${s.cardMinuteTxns} txns in the ${s.cardMinuteWindows} closed card-minutes of the run's time range, ${s.alerts.length} alerts, ${s.lateEvents} late events (expected ${summary.expected.streamLate}${summary.expected.streamLateAmbiguous ? ` + up to ${summary.expected.streamLateAmbiguous} ambiguous` : ''}), ${s.enriched} enriched, ${s.deadLetters} dead letters`,
    );
  }
  lines.push('', 'Fraud detection against the ground truth');
  lines.push(...scoreLines('speed layer', summary.speed.score, PATH_RULES.speed));
  if (!('notRunning' in summary.stream)) lines.push(...scoreLines('stream (Flink)', summary.stream.score, PATH_RULES.stream));
  lines.push('', 'Real-time alerts delivered to subscribers (SNS topic), produce -> delivered');
  lines.push(...realTimeLines(summary));
  lines.push('', 'Where results live');
  for (const [what, where] of Object.entries(summary.where)) lines.push(`  ${what}: ${where}`);
  lines.push(
    '',
    'Try',
    `  npm run sandbox -- query "SELECT rule, count(*) AS alerts FROM views_alerts GROUP BY rule"`,
    `  npm run sandbox -- query "SELECT card_id, sum(txn_count) AS txns, sum(total_amount) AS spend FROM speed_spend_per_card_minute GROUP BY card_id ORDER BY spend DESC LIMIT 5"`,
    `  npm run sandbox -- query "SELECT reason, count(*) FROM deadletter_speed GROUP BY reason"`,
    `  npm run sandbox -- alerts          (every alert delivered so far; --follow for new ones as they come)`,
    '',
  );
  return lines.join('\n');
}
