import type { BatchRunPointer } from '../../lib/batch';
import type { LakeSql } from '../serving/lake-sql';
import { sqlString } from '../serving/lake-sql';

/**
 * Lambda vs Kappa, side by side: one view, spend per card-minute, summed per minute of event time as
 * each path wrote it (the speed layer's partial sums, the stream job's served version, the served batch
 * run), with what explains a minute where they differ. The explanations are measured, not assumed: late
 * events are the stream job's own late_events rows for that minute, duplicates are raw/'s rows beyond
 * its distinct txnIds, and the batch watermark and the stream job's newest window come from the data.
 */

const MINUTE_MS = 60_000;
/** The chart covers the newest minutes of event time with data in any path. */
export const COMPARE_MINUTES = 60;

export type ComparePath = 'speed' | 'stream' | 'batch';

export interface PathMinute {
  txns: number;
  amount: number;
}

export interface CompareMinute {
  /** Start of the minute, epoch ms (UTC). */
  minute: number;
  speed?: PathMinute;
  stream?: PathMinute;
  batch?: PathMinute;
  /** Events of this minute in the stream job's late_events (beyond its allowed lateness). */
  late: number;
  /** Rows of this minute in raw/ beyond its distinct txnIds. */
  duplicates: number;
  /** Why the paths differ here; empty when they agree. */
  why: string[];
}

export interface CompareAnswer {
  minutes: CompareMinute[];
  servedVersion: number;
  batchRun?: BatchRunPointer;
  elapsedMs: number;
}

const perMinute = (table: string, where = 'true') =>
  `SELECT window_start AS minute, sum(txn_count) AS txns, sum(total_amount) AS amount FROM ${table} WHERE ${where} GROUP BY 1`;

/** The comparison's SQL over a lake opened with the serving views (serving_* at the served version). */
export function compareSql(batchRun: BatchRunPointer | undefined): string {
  return `WITH
speed AS (${perMinute('speed_spend_per_card_minute')}),
stream AS (${perMinute('serving_spend_per_card_minute')}),
batch AS (${perMinute('batch_spend_per_card_minute', batchRun ? `run = ${sqlString(batchRun.run)}` : 'false')}),
late AS (SELECT event_time - event_time % ${MINUTE_MS} AS minute, count(*) AS n FROM serving_late_events GROUP BY 1),
raw AS (SELECT event_time - event_time % ${MINUTE_MS} AS minute, count(*) - count(DISTINCT txn_id) AS n FROM raw_transactions GROUP BY 1),
minutes AS (SELECT minute FROM speed UNION SELECT minute FROM stream UNION SELECT minute FROM batch)
SELECT m.minute,
  speed.txns AS speed_txns, speed.amount AS speed_amount,
  stream.txns AS stream_txns, stream.amount AS stream_amount,
  batch.txns AS batch_txns, batch.amount AS batch_amount,
  coalesce(late.n, 0) AS late, coalesce(raw.n, 0) AS duplicates,
  (SELECT max(minute) FROM stream) AS stream_newest
FROM minutes m
LEFT JOIN speed USING (minute) LEFT JOIN stream USING (minute) LEFT JOIN batch USING (minute)
LEFT JOIN late USING (minute) LEFT JOIN raw USING (minute)
WHERE m.minute > (SELECT max(minute) FROM minutes) - ${COMPARE_MINUTES * MINUTE_MS}
ORDER BY m.minute`;
}

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const same = (a?: PathMinute, b?: PathMinute) => a?.txns === b?.txns && a?.amount === b?.amount;

/** What explains the paths' difference in one minute, from what was measured there. */
export function explain(m: Omit<CompareMinute, 'why'>, batchRun: BatchRunPointer | undefined, streamNewest: number | undefined): string[] {
  if (same(m.speed, m.stream) && same(m.stream, m.batch)) return [];
  const why: string[] = [];
  if (!batchRun) why.push('no batch run yet');
  else if (!m.batch && m.minute + MINUTE_MS > batchRun.watermarkMs) {
    why.push(`after the batch watermark (${hhmm(batchRun.watermarkMs)}): not in run ${batchRun.run} yet; the lambda_ view takes the speed layer's here`);
  }
  if (!m.stream && (streamNewest === undefined || m.minute > streamNewest)) why.push('the stream job\'s window is still open (its watermark trails the newest event)');
  if (m.late > 0) why.push(`${m.late} late event${m.late === 1 ? '' : 's'}: beyond the stream job's allowed lateness (in late_events, not in its window); the speed layer and batch count them`);
  const exact = m.batch ?? m.stream;
  if (m.duplicates > 0 && m.speed && exact && m.speed.txns > exact.txns) {
    why.push(`${m.duplicates} duplicate${m.duplicates === 1 ? '' : 's'} on the log: the stream job and batch drop them by txnId, the speed layer only within a batch (approximate by design)`);
  }
  if (!why.length) why.push('not explained by late events, duplicates, the batch watermark or an open window');
  return why;
}

const pathMinute = (txns: unknown, amount: unknown): PathMinute | undefined =>
  (txns === null || txns === undefined ? undefined : { txns: Number(txns), amount: Number(amount) });

export async function compareViews(lake: LakeSql, servedVersion: number, batchRun: BatchRunPointer | undefined): Promise<CompareAnswer> {
  const began = Date.now();
  const rows = await lake.query(compareSql(batchRun));
  const minutes = rows.map((r): CompareMinute => {
    const m = {
      minute: Number(r.minute),
      speed: pathMinute(r.speed_txns, r.speed_amount),
      stream: pathMinute(r.stream_txns, r.stream_amount),
      batch: pathMinute(r.batch_txns, r.batch_amount),
      late: Number(r.late),
      duplicates: Number(r.duplicates),
    };
    return { ...m, why: explain(m, batchRun, r.stream_newest === null ? undefined : Number(r.stream_newest)) };
  });
  return { minutes, servedVersion, batchRun, elapsedMs: Date.now() - began };
}
