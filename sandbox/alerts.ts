import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { alertRecordSchema, type AlertRecord } from '../lambdas/shared/alert';
import { score, type Score } from './expected';
import type { KnownGroundTruth, LabelledRecord } from './generator';
import { sandboxDirs, type SandboxSettings } from './settings';
import { NdjsonTail } from './ndjson-tail';
import { publishedTail, type PublishedMessage } from './stand-ins/sns';

/**
 * The real-time alerts as a subscriber of the SNS alerts topic sees them: what the alert notifier delivered
 * from the alerts log, per path (`detectedBy`: speed or stream), how often, and how long after the incident's
 * last transaction was produced. Produce times are what the producer saw: the moment the log accepted the
 * slice holding the transaction (`runs/<run>/produced-at.ndjson`, written while producing).
 */

export const PATHS = ['speed', 'stream'] as const;
export type AlertPath = (typeof PATHS)[number];

export interface DeliveredAlert {
  alert: AlertRecord;
  /** When the SNS stand-in accepted the notifier's Publish, epoch ms. */
  deliveredAt: number;
  messageId: string;
}

/** Every alert delivered to the topic so far, in delivery order (messages that are not alerts are skipped). */
export async function readDeliveredAlerts(settings: SandboxSettings): Promise<DeliveredAlert[]> {
  return new DeliveredAlerts(settings).refresh();
}

/** The delivered alerts, kept up to date by reading only what the topic received since the last refresh. */
export class DeliveredAlerts {
  readonly all: DeliveredAlert[] = [];
  private readonly tail;

  constructor(settings: SandboxSettings) {
    this.tail = publishedTail(settings, settings.alertsTopicName);
  }

  /** Reads the newly delivered alerts; returns every alert so far. */
  refresh(): DeliveredAlert[] {
    for (const message of this.tail.readNew()) this.all.push(...toDelivered(message));
    return this.all;
  }
}

function toDelivered(message: PublishedMessage): DeliveredAlert[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.message);
  } catch {
    return [];
  }
  const result = alertRecordSchema.safeParse(parsed);
  return result.success ? [{ alert: result.data, deliveredAt: Date.parse(message.publishedAt), messageId: message.messageId }] : [];
}

// ---------------------------------------------------------------- produce times

export const PRODUCED_AT_FILE = 'produced-at.ndjson';

function txnIdOf(record: LabelledRecord): string | undefined {
  try {
    const txnId = (JSON.parse(record.data) as { txnId?: unknown }).txnId;
    return typeof txnId === 'string' ? txnId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records when each produced transaction was accepted by the log: kept in memory for the run's summary and
 * appended to `<runDir>/produced-at.ndjson` for `sandbox alerts` in another terminal.
 */
export class ProducedAt {
  readonly times = new Map<string, number>();
  private readonly file: string | undefined;

  constructor(runDir?: string) {
    this.file = runDir ? path.join(runDir, PRODUCED_AT_FILE) : undefined;
  }

  accepted(slice: readonly LabelledRecord[], acceptedAt: number): void {
    const lines: string[] = [];
    for (const record of slice) {
      const txnId = txnIdOf(record);
      // A duplicate delivery keeps the first acceptance: the incident was complete from then on.
      if (txnId === undefined || this.times.has(txnId)) continue;
      this.times.set(txnId, acceptedAt);
      lines.push(JSON.stringify({ txnId, acceptedAt }));
    }
    if (this.file && lines.length) fs.appendFileSync(this.file, `${lines.join('\n')}\n`);
  }
}

/** The produce times of every run in the sandbox's home (txnIds carry their run's id, so they never collide). */
export function readProducedAt(settings: SandboxSettings): Map<string, number> {
  return new ProducedAtIndex(settings).refresh();
}

interface ProducedAtLine {
  txnId: string;
  acceptedAt: number;
}

/**
 * The produce times of every run, kept up to date by reading only what each run's `produced-at.ndjson`
 * gained since the last refresh (a run produces up to thousands of lines a second).
 */
export class ProducedAtIndex {
  readonly times = new Map<string, number>();
  private readonly tails = new Map<string, NdjsonTail<ProducedAtLine>>();

  constructor(private readonly settings: SandboxSettings) {}

  refresh(): Map<string, number> {
    const runs = sandboxDirs(this.settings).runs;
    if (!fs.existsSync(runs)) return this.times;
    for (const run of fs.readdirSync(runs)) {
      const file = path.join(runs, run, PRODUCED_AT_FILE);
      let tail = this.tails.get(file);
      if (!tail) {
        tail = new NdjsonTail(file, (line) => JSON.parse(line) as ProducedAtLine);
        this.tails.set(file, tail);
      }
      for (const { txnId, acceptedAt } of tail.readNew()) {
        if (!this.times.has(txnId)) this.times.set(txnId, acceptedAt);
      }
    }
    return this.times;
  }
}

/** Produced (the last of the alert's transactions accepted by the log) -> delivered to the topic; undefined if a produce time is unknown. */
export function alertLatencyMs(delivered: DeliveredAlert, producedAt: ReadonlyMap<string, number>): number | undefined {
  const times = delivered.alert.txnIds.map((id) => producedAt.get(id));
  if (times.some((t) => t === undefined)) return undefined;
  return delivered.deliveredAt - Math.max(...(times as number[]));
}

// ---------------------------------------------------------------- per-path summary

export interface LatencyStats {
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Nearest-rank percentiles. */
export function latencyStats(samples: readonly number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => (sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] : null);
  return { count: sorted.length, p50Ms: rank(50), p99Ms: rank(99), maxMs: sorted.length ? sorted[sorted.length - 1] : null };
}

export interface PathDeliveries {
  /** Distinct alerts (by `<detectedBy>:<alertId>`) delivered. */
  alerts: number;
  /** Alert ids delivered more than once: the notifier's idempotency should keep this empty. */
  deliveredMoreThanOnce: string[];
  /** The delivered alerts against the ground truth. */
  score?: Score;
  /** Produce -> delivered, over the first delivery of each alert. */
  latency: LatencyStats;
}

/** The deliveries of alerts about `runTxnPrefix`'s transactions, per path. */
export function pathDeliveries(
  delivered: readonly DeliveredAlert[],
  producedAt: ReadonlyMap<string, number>,
  runTxnPrefix: string,
  truth?: KnownGroundTruth,
): Record<AlertPath, PathDeliveries> {
  const result = {} as Record<AlertPath, PathDeliveries>;
  for (const detectedBy of PATHS) {
    const mine = delivered.filter((d) => d.alert.detectedBy === detectedBy && d.alert.txnIds[0]?.startsWith(runTxnPrefix));
    const first = new Map<string, DeliveredAlert>();
    const count = new Map<string, number>();
    for (const d of mine) {
      count.set(d.alert.alertId, (count.get(d.alert.alertId) ?? 0) + 1);
      if (!first.has(d.alert.alertId)) first.set(d.alert.alertId, d);
    }
    const alerts = [...first.values()];
    result[detectedBy] = {
      alerts: alerts.length,
      deliveredMoreThanOnce: [...count].filter(([, n]) => n > 1).map(([id]) => id),
      score: truth ? score(alerts.map((d) => d.alert), truth) : undefined,
      latency: latencyStats(alerts.map((d) => alertLatencyMs(d, producedAt)).filter((ms): ms is number => ms !== undefined)),
    };
  }
  return result;
}

// ---------------------------------------------------------------- `sandbox alerts`

const seconds = (ms: number | undefined) => (ms === undefined ? '      ?' : `${(ms / 1000).toFixed(2).padStart(6)} s`);

/** One delivered alert as `sandbox alerts` prints it. */
export function formatDeliveredAlert(d: DeliveredAlert, producedAt: ReadonlyMap<string, number>): string {
  const a = d.alert;
  return [
    new Date(d.deliveredAt).toISOString().slice(11, 23),
    a.detectedBy.padEnd(6),
    a.rule,
    a.cardId.padEnd(14),
    seconds(alertLatencyMs(d, producedAt)),
    `(delivered ${((d.deliveredAt - a.detectedAt) / 1000).toFixed(2)} s after detection)`,
    a.alertId,
  ].join('  ');
}

export interface FollowOptions {
  /** Keep printing new alerts until the signal aborts. */
  follow: boolean;
  /** Print the alerts delivered before the command started too (default: only with --follow off). */
  fromStart: boolean;
  out: (line: string) => void;
  signal?: AbortSignal;
  pollMs?: number;
}

/** Prints the delivered alerts; with `follow`, each new one as the notifier delivers it. */
export async function printAlerts(settings: SandboxSettings, options: FollowOptions): Promise<number> {
  const alerts = new DeliveredAlerts(settings);
  const producedAt = new ProducedAtIndex(settings);
  let seen = options.fromStart || !options.follow ? 0 : alerts.refresh().length;
  let printed = 0;
  options.out('delivered     path    rule  card            latency: last transaction produced -> delivered');
  for (;;) {
    const delivered = alerts.refresh();
    if (delivered.length > seen) {
      const times = producedAt.refresh();
      for (const d of delivered.slice(seen)) options.out(formatDeliveredAlert(d, times));
      printed += delivered.length - seen;
      seen = delivered.length;
    }
    if (!options.follow || options.signal?.aborted) return printed;
    await sleep(options.pollMs ?? 250, undefined, { signal: options.signal }).catch(() => undefined);
    if (options.signal?.aborted) return printed;
  }
}
