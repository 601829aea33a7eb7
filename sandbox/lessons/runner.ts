import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Transaction } from '../../lambdas/shared/transaction';
import { expectedResults } from '../expected';
import { generateWorkload, type LabelledRecord } from '../generator';
import { produceAtRate } from '../produce';
import { readProgress } from '../run';
import { readBatchRun, servedBatchRun } from '../batch';
import { openLakeSql, sqlString, type LakeSql } from '../serving/lake-sql';
import { LOCAL_CHECKPOINT_INTERVAL_MS, type Sandbox } from '../session';
import { sandboxDirs } from '../settings';

/**
 * What every lesson shares: a lesson is an experiment on a running sandbox (real engines) with a few
 * hand-placed transactions for cards of its own, carried by clean generated background traffic whose
 * only job is to move event time (and so the stream job's watermark) forward over every partition.
 * A lesson prints what it did, what came out and why, and ends by checking its point: `LessonFailed`
 * when it does not hold, so the lesson is its own test.
 */

export interface LessonContext {
  sandbox: Sandbox;
  out: (line: string) => void;
}

export interface Lesson {
  name: string;
  title: string;
  /** It kills or replaces the stream job, so the sandbox's processes must be this process's own (not another `up`'s). */
  ownSandbox?: boolean;
  run(context: LessonContext): Promise<void>;
}

export class LessonFailed extends Error {
  override name = 'LessonFailed';
}

/** The lesson's point: throws LessonFailed with what was expected and what came out. */
export function check(holds: boolean, point: string, detail: () => string): void {
  if (!holds) throw new LessonFailed(`${point}: ${detail()}`);
}

export const MINUTE = 60_000;
/** Background traffic: records per second of EVENT time. Sparse, so long event-time spans stay small. */
const BACKGROUND_EVENTS_PER_SECOND = 1;
/** Wall-clock rate the records are produced at: event time runs far faster than the clock. */
const PRODUCE_RATE = 400;
/** Event time past a window's close the background runs on, so every partition's watermark passes it. */
export const CLOSE_MARGIN_MS = 90_000;

/** A lesson's own ids (txnIds, cards), new each run, so the stream job's deduplication never meets them twice. */
export function lessonId(name: string): string {
  return `lsn-${name}-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
}

/** A valid transaction of the lesson's card, as JSON text, keyed by its card like the generator's. */
export function txn(fields: Pick<Transaction, 'txnId' | 'cardId' | 'customerId' | 'amount' | 'eventTime'> & Partial<Transaction>): LabelledRecord {
  const t: Transaction = { merchantId: 'merchant-lesson', currency: 'EUR', country: 'NL', channel: 'POS', schemaVersion: 1, ...fields };
  const ordered = { txnId: t.txnId, cardId: t.cardId, customerId: t.customerId, merchantId: t.merchantId, amount: t.amount, currency: t.currency, country: t.country, channel: t.channel, eventTime: t.eventTime, schemaVersion: t.schemaVersion };
  return { key: t.cardId, data: JSON.stringify(ordered), label: { kind: 'recorded' } };
}

/** A lesson's own ids and time: its card and customer, where its event time starts, and the minute it studies. */
export interface LessonSetup {
  id: string;
  card: string;
  customer: string;
  /** Where the lesson's event time (and background) starts: {@link lessonStart}. */
  start: number;
  /** The minute the lesson's transactions go in: two minutes of background after the start. */
  base: number;
  /** A valid transaction of the lesson's card, `offsetMs` after `base`. */
  pay(label: string, offsetMs: number, amount: number): LabelledRecord;
}

export function setUpLesson(context: LessonContext, name: string): LessonSetup {
  const id = lessonId(name);
  const card = `${id}-card`;
  const customer = `${id}-cust`;
  const start = lessonStart(context);
  const base = start + 2 * MINUTE;
  return { id, card, customer, start, base, pay: (label, offsetMs, amount) => txn({ txnId: `${id}-${label}`, cardId: card, customerId: customer, amount, eventTime: base + offsetMs }) };
}

/** A placed record and where it goes in the traffic: after the background has reached `producedAt` (event time). */
export interface Placed {
  record: LabelledRecord;
  producedAt: number;
}

/**
 * The event time a lesson may start at: a whole minute after anything lessons produced before in this
 * sandbox (the watermark never goes back, so earlier event times would all be late), after the served
 * batch run's watermark, and not before now.
 */
export function lessonStart(context: LessonContext): number {
  const clock = readClock(context);
  const batch = readBatchRun(context.sandbox.settings)?.watermarkMs ?? 0;
  return Math.ceil((Math.max(Date.now(), clock + MINUTE, batch) + 1) / MINUTE) * MINUTE;
}

function clockFile(context: LessonContext): string {
  return path.join(sandboxDirs(context.sandbox.settings).home, 'lessons', 'event-clock.json');
}

function readClock(context: LessonContext): number {
  try {
    return Number((JSON.parse(fs.readFileSync(clockFile(context), 'utf8')) as { highestEventTime: number }).highestEventTime) || 0;
  } catch {
    return 0;
  }
}

function writeClock(context: LessonContext, highestEventTime: number): void {
  fs.mkdirSync(path.dirname(clockFile(context)), { recursive: true });
  fs.writeFileSync(clockFile(context), `${JSON.stringify({ highestEventTime: Math.max(highestEventTime, readClock(context)) })}\n`);
}

export interface Phase {
  /** Background from the previous phase's end (or `from`) up to this event time. */
  until: number;
  placed?: readonly Placed[];
  /** Records per second of wall time; default 400. */
  rate?: number;
}

export interface TrafficOptions {
  /** Event time the background starts at (the lesson's start). */
  from: number;
  /**
   * Produced one after another; before each next phase the sandbox reads everything the phase put on
   * the log, so whatever the next phase sends is judged against the watermark the phase left.
   */
  phases: readonly Phase[];
  /** Also wait until the raw archive has delivered everything (for the batch layer). */
  archive?: boolean;
  seed?: number;
  /** Called once every path has taken in phase `index` (before the next phase is produced). */
  afterPhase?: (index: number) => Promise<void>;
}

/** Clean background traffic: no fraud, late, out-of-order, duplicate or malformed records. */
function background(from: number, until: number, seed: number): LabelledRecord[] {
  if (until <= from) return [];
  return generateWorkload({
    seed,
    startTime: from,
    rate: BACKGROUND_EVENTS_PER_SECOND,
    durationSeconds: (until - from) / 1000,
    rates: { r1: 0, r2: 0, r3: 0, outOfOrder: 0, late: 0, duplicate: 0, malformed: 0 },
  }).records;
}

const eventTimeOf = (r: LabelledRecord) => (JSON.parse(r.data) as { eventTime: number }).eventTime;

/** Background records with the placed ones put in: each right after the last background record at or before its place. */
export function interleave(backgroundRecords: readonly LabelledRecord[], placed: readonly Placed[]): LabelledRecord[] {
  const out: LabelledRecord[] = [];
  const pending = [...placed].sort((a, b) => a.producedAt - b.producedAt);
  for (const record of backgroundRecords) {
    while (pending.length && pending[0].producedAt < eventTimeOf(record)) out.push(pending.shift()!.record);
    out.push(record);
  }
  return [...out, ...pending.map((p) => p.record)];
}

/**
 * Puts the traffic on the log phase by phase and waits until every path has taken it in and committed it.
 * Returns every record produced, in order, and when producing began (wall clock, what Kafka stamps).
 */
export async function runTraffic(context: LessonContext, options: TrafficOptions): Promise<{ records: LabelledRecord[]; producedFrom: number }> {
  const produced: LabelledRecord[] = [];
  const producedFrom = Date.now();
  const { sandbox, out } = context;
  if (!sandbox.flink.running) throw new LessonFailed('the lessons need the Flink stream job running (start the sandbox without --no-flink)');
  let from = options.from;
  for (const [i, phase] of options.phases.entries()) {
    const records = interleave(background(from, phase.until, (options.seed ?? 7) + i), phase.placed ?? []);
    writeClock(context, phase.until);
    const began = Date.now();
    await produceAtRate(sandbox.log, records, { rate: phase.rate ?? PRODUCE_RATE });
    produced.push(...records);
    await caughtUp(context, options.archive === true && i === options.phases.length - 1);
    out(`  (phase ${i + 1}: ${records.length} records, event time ${iso(from)} .. ${iso(phase.until)}, taken in by every path in ${((Date.now() - began) / 1000).toFixed(0)} s)`);
    from = phase.until;
    // The stream job's file sinks commit on a checkpoint: the windows the watermark closed are in the lake after the next two.
    await sleep(2 * (sandbox.flink.checkpointIntervalMs ?? LOCAL_CHECKPOINT_INTERVAL_MS));
    await options.afterPhase?.(i);
  }
  return { records: produced, producedFrom };
}

const CATCH_UP_TIMEOUT_MS = 180_000;

async function caughtUp(context: LessonContext, archive: boolean): Promise<void> {
  const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
  for (;;) {
    const p = await readProgress(context.sandbox);
    const read = p.speedLag === 0 && p.flinkLag === 0 && p.archiveLag !== undefined && p.archiveLag === p.archiveBuffered;
    if (read && (!archive || p.archiveBuffered === 0)) return;
    if (Date.now() > deadline) {
      throw new LessonFailed(`the sandbox did not take in the lesson's records within ${CATCH_UP_TIMEOUT_MS / 1000} s (speed lag ${p.speedLag}, flink lag ${p.flinkLag}, archive lag ${p.archiveLag}, buffered ${p.archiveBuffered})`);
    }
    await sleep(1000);
  }
}

/** How the card-minutes a stream job version wrote for a lesson compare with the oracle's (sandbox/expected). */
export interface OracleComparison {
  /** Card-minutes the watermark must have closed, each as the oracle has it. */
  closed: number;
  /** `card@window_start: found / wanted`, for every card-minute that differs or is missing. */
  wrong: string[];
}

/**
 * The card-minutes of `version` in the lesson's event time, against the independent recomputation of the
 * stream job's results from the records produced (sandbox/expected), with this allowed lateness. A
 * window is written once, when the watermark passes its end plus the allowed lateness, so the last one
 * written shows how far the watermark got: every window due before it must be there, and nothing written
 * may differ. The lesson's background has no late or out-of-order events, so the oracle is exact.
 */
export async function compareWithOracle(
  context: LessonContext,
  records: readonly LabelledRecord[],
  options: { version: number; from: number; allowedLatenessMs: number },
): Promise<OracleComparison> {
  const { settings, config } = context.sandbox;
  const expected = expectedResults(records, { partitions: settings.shards, maxOutOfOrdernessMs: config.streamProcessing.maxOutOfOrdernessMs, allowedLatenessMs: options.allowedLatenessMs });
  const want = new Map(expected.stream.outputs.views.spend_per_card_minute.map((r) => [`${r.card_id}@${r.window_start}`, `${r.txn_count}/${cents(r.total_amount)}`]));
  const rows = await withLake(context, (lake) =>
    lake.query(`SELECT card_id, window_start, txn_count, total_amount FROM views_spend_per_card_minute WHERE v = '${options.version}' AND window_start >= ${options.from}`),
  );
  const found = new Map(rows.map((r) => [`${r.card_id}@${r.window_start}`, `${r.txn_count}/${cents(r.total_amount)}`]));
  const finalAt = (windowStart: number) => windowStart + MINUTE - 1 + options.allowedLatenessMs;
  const reached = Math.max(...rows.map((r) => finalAt(Number(r.window_start))));
  const due = expected.stream.outputs.views.spend_per_card_minute.filter((r) => finalAt(r.window_start) <= reached);
  const wrong = [
    ...due.filter((r) => found.get(`${r.card_id}@${r.window_start}`) !== want.get(`${r.card_id}@${r.window_start}`)).map((r) => `${r.card_id}@${r.window_start}`),
    ...[...found.keys()].filter((key) => found.get(key) !== want.get(key)),
  ];
  return { closed: due.length, wrong: [...new Set(wrong)].map((key) => `${key}: ${found.get(key) ?? 'none'} / ${want.get(key) ?? 'none'}`) };
}

export interface Totals {
  count: number;
  cents: number;
}

/** One card-minute of a spend view (`table`, with `where` conditions such as the version): its rows added up. */
export async function cardMinute(lake: LakeSql, table: string, card: string, windowStart: number, where = ''): Promise<Totals> {
  const [row] = await lake.query(
    `SELECT sum(txn_count) AS n, sum(total_amount) AS total FROM ${table} WHERE ${where ? `${where} AND ` : ''}card_id = ${sqlString(card)} AND window_start = ${windowStart}`,
  );
  return { count: Number(row?.n ?? 0), cents: cents(row?.total ?? 0) };
}

export const showTotals = (t: Totals | undefined) => (t && t.count > 0 ? `${t.count} txn  ${money(t.cents)}` : 'no row');
export const sameTotals = (t: Totals | undefined, want: Totals) => t?.count === want.count && t.cents === want.cents;

/** DuckDB over the lake as it is now, with the served version's and batch run's serving views; closed after `use`. */
export async function withLake<T>(context: LessonContext, use: (lake: LakeSql) => Promise<T>): Promise<T> {
  const { settings } = context.sandbox;
  const lake = await openLakeSql(sandboxDirs(settings).lake, { servedVersion: context.sandbox.flink.version, batchRun: servedBatchRun(settings) });
  try {
    return await use(lake);
  } finally {
    lake.close();
  }
}

export const iso = (ms: number) => new Date(ms).toISOString();
/** A time as hh:mm:ss, enough within one lesson. */
export const hms = (ms: number) => new Date(ms).toISOString().slice(11, 19);
export const cents = (amount: unknown) => Math.round(Number(amount) * 100);
export const money = (c: number) => (c / 100).toFixed(2);
