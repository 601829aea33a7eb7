import { BATCH_VIEWS, type BatchSqlOptions, type BatchView, batchViewSql, checkWatermark, MINUTE_MS, PARTITION_TIME_COLUMN } from './batch-views';
import { batchRunId } from './lambda-views';
import { viewColumns } from '../schemas';

/**
 * One batch run, planned: its id, its watermark, and the INSERT chunks that write it. Athena's
 * INSERT INTO writes at most 100 partitions per query; the batch tables are partitioned by run and
 * day, so each chunk covers at most {@link MAX_DAYS_PER_INSERT} days of one view.
 */

export const MAX_DAYS_PER_INSERT = 100;
const DAY_MS = 86_400_000;

export interface BatchChunk {
  readonly view: BatchView;
  /** Partition-time range [fromMs, toMs) of the rows this chunk writes, whole UTC days. */
  readonly fromMs: number;
  readonly toMs: number;
}

export interface BatchRunPlan {
  readonly run: string;
  readonly startedAtMs: number;
  readonly watermarkMs: number;
  readonly chunks: BatchChunk[];
}

/** The watermark of a run started at `startedAtMs`: `settleMinutes` earlier, down to the whole minute. */
export function batchWatermark(startedAtMs: number, settleMinutes: number): number {
  const settled = startedAtMs - settleMinutes * MINUTE_MS;
  return settled - (settled % MINUTE_MS);
}

/**
 * Plans a run. `firstRawDay` is the earliest `dt` of raw/ (undefined when raw/ is empty: then the
 * run writes nothing and only moves the watermark). Rows can start a day before the first event
 * (a sliding window reaches 9 minutes back), so the first chunk starts a day earlier.
 */
export function planBatchRun(options: { startedAtMs: number; settleMinutes: number; firstRawDay: string | undefined }): BatchRunPlan {
  const watermarkMs = batchWatermark(options.startedAtMs, options.settleMinutes);
  checkWatermark(watermarkMs);
  const chunks: BatchChunk[] = [];
  if (options.firstRawDay !== undefined) {
    const firstDayMs = Date.parse(`${options.firstRawDay}T00:00:00Z`);
    if (Number.isNaN(firstDayMs)) throw new RangeError(`firstRawDay must be yyyy-MM-dd, got '${options.firstRawDay}'`);
    const end = watermarkMs - (watermarkMs % DAY_MS) + DAY_MS;
    for (const view of BATCH_VIEWS) {
      for (let from = firstDayMs - DAY_MS; from < end; from += MAX_DAYS_PER_INSERT * DAY_MS) {
        chunks.push({ view, fromMs: from, toMs: Math.min(end, from + MAX_DAYS_PER_INSERT * DAY_MS) });
      }
    }
  }
  return { run: batchRunId(options.startedAtMs), startedAtMs: options.startedAtMs, watermarkMs, chunks };
}

/** The Athena statement that writes one chunk of a run into `batch_<view>`. */
export function insertChunkSql(database: string, plan: BatchRunPlan, chunk: BatchChunk): string {
  const options: BatchSqlOptions = {
    dialect: 'athena', rawTable: `"${database}"."raw_transactions"`, watermarkMs: plan.watermarkMs, detectedAtMs: plan.startedAtMs,
  };
  const time = PARTITION_TIME_COLUMN[chunk.view];
  const columns = viewColumns(chunk.view).map((c) => c.name);
  return `INSERT INTO "${database}"."batch_${chunk.view}"
SELECT ${columns.join(', ')}, '${plan.run}' AS run, dt
FROM (
${batchViewSql(chunk.view, options)}
) AS batch_rows
WHERE ${time} >= ${chunk.fromMs} AND ${time} < ${chunk.toMs}`;
}
