import { viewColumns } from '../schemas';
import { BATCH_VIEWS, type BatchView, hourOf, MERGED_VIEWS, type MergedView, PARTITION_TIME_COLUMN, utcDay, windowEndBound } from './batch-views';

/**
 * The Lambda architecture's serving views, `lambda_<view>`: the batch view of
 * one run up to its watermark, merged with the speed layer's view after it.
 * A batch run re-points them (`CREATE OR REPLACE VIEW`, one atomic catalog
 * update per view) only once every row of the run is written, so a reader
 * never sees a run half written, and a failed run leaves the last good one
 * serving. One definition for Athena and DuckDB.
 *
 * - spend_per_card_minute, spend_per_customer_hour: a window that ends by the
 *   watermark comes from the batch view, a later one from the speed layer's
 *   partial sums, added up here (with the hourly HAVING the speed layer leaves
 *   to serving). Each window comes from exactly one side.
 * - alerts: the batch run's alerts (every rule, from events before the
 *   watermark), then the speed layer's (R1, R2) whose window starts at or
 *   after it, one row per alert id. An alert whose events straddle the
 *   watermark is served once the next run's watermark has passed them.
 * - card_velocity, customer_sessions: the batch view alone; the speed layer
 *   has no such view.
 */

/** The batch run a Lambda serving view reads. */
export interface BatchRunPointer {
  /** `run=<id>` of the batch views. */
  readonly run: string;
  /** Event time (epoch ms) up to which the run's views are complete; 0 before the first run. */
  readonly watermarkMs: number;
}

/** What the views serve before any batch run: the speed layer alone. */
export const NO_BATCH_RUN: BatchRunPointer = { run: 'none', watermarkMs: 0 };

/** `20261122T101500Z`: a run id from the run's start, sortable and safe as a partition value. */
export function batchRunId(startedAtMs: number): string {
  return new Date(startedAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export const lambdaViewName = (view: BatchView): string => `lambda_${view}`;

/** The columns a Lambda serving view exposes: the view's columns, then `dt` and `hr` of its partition time. */
export function lambdaViewColumns(view: BatchView): { name: string; type: string }[] {
  return [...viewColumns(view).map((c) => ({ name: c.name, type: c.type })), { name: 'dt', type: 'string' }, { name: 'hr', type: 'string' }];
}

const isMerged = (view: BatchView): view is MergedView => (MERGED_VIEWS as readonly string[]).includes(view);

function checkPointer(pointer: BatchRunPointer): void {
  if (!/^[0-9A-Za-z]+$/.test(pointer.run)) throw new RangeError(`A batch run id is letters and digits, got '${pointer.run}'`);
  if (!Number.isSafeInteger(pointer.watermarkMs) || pointer.watermarkMs < 0) throw new RangeError(`Bad batch watermark ${pointer.watermarkMs}`);
}

/** The speed layer's side of a merged view: windows that end after the watermark, partial sums added up. */
function speedSide(view: MergedView, table: (name: string) => string, watermarkMs: number): string {
  const fromDay = utcDay(Math.max(0, watermarkMs - windowEndBound(view)));
  if (view === 'alerts') {
    return `SELECT alert_id, arbitrary(rule), arbitrary(card_id), arbitrary(customer_id), arbitrary(window_start), arbitrary(txn_ids),
       arbitrary(detected_by), min(detected_at), arbitrary(dt), arbitrary(hr)
FROM ${table('speed_alerts')}
WHERE dt >= '${fromDay}' AND window_start >= ${watermarkMs}
GROUP BY alert_id`;
  }
  const key = view === 'spend_per_card_minute' ? 'card_id' : 'customer_id';
  const having = view === 'spend_per_customer_hour' ? '\nHAVING sum(total_amount) > 1000' : '';
  return `SELECT ${key}, window_start, CAST(sum(txn_count) AS bigint), CAST(sum(total_amount) AS decimal(18,2)), dt, hr
FROM ${table(`speed_${view}`)}
WHERE dt >= '${fromDay}' AND window_start + ${windowEndBound(view)} > ${watermarkMs}
GROUP BY ${key}, window_start, dt, hr${having}`;
}

/**
 * The query of `lambda_<view>` for one batch run: `database` names the Glue database in Athena and
 * is left out in DuckDB.
 */
export function lambdaViewSql(database: string | undefined, view: BatchView, pointer: BatchRunPointer): string {
  checkPointer(pointer);
  const table = (name: string) => (database === undefined ? `"${name}"` : `"${database}"."${name}"`);
  const columns = viewColumns(view).map((c) => c.name);
  const batch = `SELECT ${columns.join(', ')}, dt, ${hourOf(PARTITION_TIME_COLUMN[view])} AS hr
FROM ${table(`batch_${view}`)}
WHERE run = '${pointer.run}'`;
  if (!isMerged(view)) return batch;
  return `${batch}
UNION ALL
${speedSide(view, table, pointer.watermarkMs)}`;
}

/** The statements a batch run ends with: every Lambda serving view re-pointed at it. */
export function switchLambdaViewsSql(database: string, pointer: BatchRunPointer): string[] {
  return BATCH_VIEWS.map((view) => `CREATE OR REPLACE VIEW "${database}"."${lambdaViewName(view)}" AS ${lambdaViewSql(database, view, pointer)}`);
}

