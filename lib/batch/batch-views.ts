import * as transactionSchema from '../../schemas/transaction.schema.json';
import { cardFraud, type CardFraudProduct } from '../../products/card-fraud';
import { toSnakeCase, viewColumns, type ViewName } from '../schemas';

/**
 * The Lambda architecture's batch layer, as SQL: every batch view recomputed
 * from the master dataset (`raw_transactions`) up to a watermark, exactly as
 * docs/reference-product.md specifies the views and rules. One text for both
 * engines: Athena (engine v3, Trino) in the cloud and DuckDB in the sandbox,
 * which runs it with the Trino macros of sandbox/serving/lake-sql.ts. The one
 * step the engines cannot share is R1's greedy scan: Athena has
 * MATCH_RECOGNIZE but its recursive queries stop at a depth of 10; DuckDB has
 * unbounded recursive CTEs but no MATCH_RECOGNIZE. Both forms are below, side
 * by side, and both are tested against the same specification.
 *
 * Free of CDK: the sandbox and the batch Lambda load it.
 */

export type SqlDialect = 'athena' | 'duckdb';

/** The views the batch layer recomputes: every aggregate and the alerts (no lateness, no enrichment join). */
export const BATCH_VIEWS = ['spend_per_card_minute', 'spend_per_customer_hour', 'card_velocity', 'customer_sessions', 'alerts'] as const satisfies readonly ViewName[];
export type BatchView = (typeof BATCH_VIEWS)[number];

/** The views the speed layer also produces: their Lambda serving view merges batch and speed. */
export const MERGED_VIEWS = ['spend_per_card_minute', 'spend_per_customer_hour', 'alerts'] as const satisfies readonly BatchView[];
export type MergedView = (typeof MERGED_VIEWS)[number];

/** The batch watermark's granularity (a platform setting, not a window of the product). */
export const MINUTE_MS = 60_000;

/** The column a view's rows are partitioned (and chunked) by: the start of its window. */
export const PARTITION_TIME_COLUMN: Record<BatchView, string> = {
  spend_per_card_minute: 'window_start',
  spend_per_customer_hour: 'window_start',
  card_velocity: 'window_start',
  customer_sessions: 'session_start',
  alerts: 'window_start',
};


export interface BatchSqlOptions {
  readonly dialect: SqlDialect;
  /** The raw table as the engine names it, e.g. `"tributary_lake"."raw_transactions"` or `raw_transactions`. */
  readonly rawTable: string;
  /**
   * Event time (epoch ms, a whole minute) up to which raw/ is taken as complete. Only events
   * before it are read, and only windows that close by it are written.
   */
  readonly watermarkMs: number;
  /** `detected_at` of the alerts: when the run started, epoch ms. */
  readonly detectedAtMs: number;
  /** The product whose views and rules to compute: its definition's windows and rule parameters go into the SQL. */
  readonly product?: CardFraudProduct;
}

/** `dt` (yyyy-MM-dd, UTC) of an epoch-ms column, in both engines. */
export const dayOf = (millis: string) => `date_format(from_unixtime(${millis} / 1000), '%Y-%m-%d')`;
/** `hr` (HH, UTC) of an epoch-ms column, in both engines. */
export const hourOf = (millis: string) => `date_format(from_unixtime(${millis} / 1000), '%H')`;

/** The UTC day of an epoch-ms instant, as the `dt` partition writes it. */
export const utcDay = (millis: number) => new Date(millis).toISOString().slice(0, 10);

export function checkWatermark(watermarkMs: number): void {
  if (!Number.isSafeInteger(watermarkMs) || watermarkMs <= 0 || watermarkMs % MINUTE_MS !== 0) {
    throw new RangeError(`The batch watermark must be a whole minute in epoch milliseconds, got ${watermarkMs}`);
  }
}

interface PropertyRules {
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly enum?: readonly (string | number)[];
  readonly const?: string | number;
  readonly minimum?: number;
  readonly exclusiveMinimum?: number;
  readonly maximum?: number;
}

const literal = (value: string | number) => (typeof value === 'number' ? String(value) : `'${value.replaceAll("'", "''")}'`);

/**
 * The event schema's rules, as a predicate on a raw row. raw/ holds what Firehose could convert,
 * which includes records the schema rejects (an amount of 0, a missing field, an unknown channel);
 * the batch reads only the rows that pass, as every other path does. Derived from
 * schemas/transaction.schema.json, so it follows the schema. What the conversion erased cannot be
 * checked: a field the schema does not know (dropped), a number sent as a string (parsed), more
 * than two decimals (rejected by the conversion itself).
 */
export function validTransactionPredicate(): string {
  const required = new Set<string>(transactionSchema.required);
  const checks: string[] = [];
  for (const [name, rules] of Object.entries(transactionSchema.properties as Record<string, PropertyRules>)) {
    const column = toSnakeCase(name);
    if (required.has(name)) checks.push(`${column} IS NOT NULL`);
    if (rules.minLength !== undefined) checks.push(`length(${column}) >= ${rules.minLength}`);
    if (rules.maxLength !== undefined) checks.push(`length(${column}) <= ${rules.maxLength}`);
    if (rules.pattern !== undefined) checks.push(`regexp_like(${column}, ${literal(rules.pattern)})`);
    if (rules.enum !== undefined) checks.push(`${column} IN (${rules.enum.map(literal).join(', ')})`);
    if (rules.const !== undefined) checks.push(`${column} = ${literal(rules.const)}`);
    if (rules.minimum !== undefined) checks.push(`${column} >= ${rules.minimum}`);
    if (rules.exclusiveMinimum !== undefined) checks.push(`${column} > ${rules.exclusiveMinimum}`);
    if (rules.maximum !== undefined) checks.push(`${column} <= ${rules.maximum}`);
  }
  return checks.join('\n    AND ');
}

/**
 * The transactions the batch layer reads: valid ones, each txnId once, event time before the watermark.
 * Copies of a txnId are identical on the log; should two ever differ, the batch keeps the one
 * first in (event_time, amount, country, merchant_id) order, where stream processing keeps the
 * first delivered (docs/reprocessing.md names the difference).
 */
function transactionsCte(o: BatchSqlOptions): string {
  return `deliveries AS (
  SELECT txn_id, card_id, customer_id, merchant_id, amount, country, event_time,
         row_number() OVER (PARTITION BY txn_id ORDER BY event_time, amount, country, merchant_id) AS copy
  FROM ${o.rawTable}
  WHERE dt <= '${utcDay(o.watermarkMs)}' AND event_time < ${o.watermarkMs}
    AND ${validTransactionPredicate()}
),
txn AS (
  SELECT txn_id, card_id, customer_id, amount, country, event_time, CAST(amount * 100 AS bigint) AS cents
  FROM deliveries
  WHERE copy = 1
)`;
}

/** R1 as (card_id, customer_id, window_start, txn_ids): the card's large transactions, greedy non-overlapping triples. */
function r1Ctes(dialect: SqlDialect, { R1 }: CardFraudProduct['rules']): string {
  if (dialect === 'athena') {
    return `r1 AS (
  SELECT card_id, customer_id, window_start, txn_ids
  FROM (SELECT card_id, customer_id, txn_id, event_time FROM txn WHERE cents > ${R1.largeAboveCents})
  MATCH_RECOGNIZE (
    PARTITION BY card_id
    ORDER BY event_time, txn_id
    MEASURES A.customer_id AS customer_id, A.event_time AS window_start, ARRAY[A.txn_id, B.txn_id, C.txn_id] AS txn_ids
    ONE ROW PER MATCH
    AFTER MATCH SKIP PAST LAST ROW
    PATTERN (A B C)
    DEFINE C AS C.event_time - A.event_time < ${R1.withinMs}
  )
)`;
  }
  // The scan of the specification, one step per recursion: at position p, a hit emits and moves to p + 3, a miss to p + 1.
  return `large AS (
  SELECT card_id, customer_id, txn_id, event_time,
         row_number() OVER (PARTITION BY card_id ORDER BY event_time, txn_id) AS pos
  FROM txn
  WHERE cents > ${R1.largeAboveCents}
),
triples AS (
  SELECT a.card_id, a.pos, a.customer_id, a.event_time AS window_start, ARRAY[a.txn_id, b.txn_id, c.txn_id] AS txn_ids,
         c.event_time - a.event_time < ${R1.withinMs} AS hit
  FROM large a
  JOIN large b ON b.card_id = a.card_id AND b.pos = a.pos + 1
  JOIN large c ON c.card_id = a.card_id AND c.pos = a.pos + 2
),
scan(card_id, pos) AS (
  SELECT card_id, pos FROM triples WHERE pos = 1
  UNION ALL
  SELECT t.card_id, CASE WHEN t.hit THEN t.pos + 3 ELSE t.pos + 1 END
  FROM scan s JOIN triples t ON t.card_id = s.card_id AND t.pos = s.pos
),
r1 AS (
  SELECT t.card_id, t.customer_id, t.window_start, t.txn_ids
  FROM triples t JOIN scan s ON s.card_id = t.card_id AND s.pos = t.pos
  WHERE t.hit
)`;
}

function alertsSql(o: BatchSqlOptions, { rules }: CardFraudProduct): string {
  const cardOrder = 'PARTITION BY card_id ORDER BY event_time, txn_id';
  const earlier = `(${cardOrder} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)`;
  return `WITH ${o.dialect === 'duckdb' ? 'RECURSIVE ' : ''}${transactionsCte(o)},
${r1Ctes(o.dialect, rules)},
ordered AS (
  SELECT card_id, customer_id, txn_id, event_time, country, cents,
         lag(txn_id) OVER (${cardOrder}) AS prev_txn_id,
         lag(event_time) OVER (${cardOrder}) AS prev_event_time,
         lag(country) OVER (${cardOrder}) AS prev_country,
         count(*) OVER ${earlier} AS earlier_count,
         sum(cents) OVER ${earlier} AS earlier_cents
  FROM txn
),
rules AS (
  SELECT 'R1' AS rule, card_id, customer_id, window_start, txn_ids FROM r1
  UNION ALL
  SELECT 'R2', card_id, customer_id, prev_event_time, ARRAY[prev_txn_id, txn_id]
  FROM ordered
  WHERE country <> prev_country AND event_time - prev_event_time < ${rules.R2.withinMs}
  UNION ALL
  SELECT 'R3', card_id, customer_id, event_time, ARRAY[txn_id]
  FROM ordered
  WHERE earlier_count >= ${rules.R3.minHistory} AND cents * earlier_count > ${rules.R3.factor} * earlier_cents
)
SELECT rule || ':' || card_id || ':' || CAST(window_start AS varchar) AS alert_id, rule, card_id, customer_id,
       window_start, txn_ids, 'batch' AS detected_by, CAST(${o.detectedAtMs} AS bigint) AS detected_at,
       ${dayOf('window_start')} AS dt
FROM rules`;
}

function aggregateSql(view: Exclude<BatchView, 'alerts'>, o: BatchSqlOptions, { views }: CardFraudProduct): string {
  const total = 'CAST(sum(amount) AS decimal(18,2)) AS total_amount';
  const w = o.watermarkMs;
  const minute = views.spend_per_card_minute.window.sizeMs;
  const hour = views.spend_per_customer_hour.window.sizeMs;
  const velocity = views.card_velocity.window;
  const slides = Array.from({ length: velocity.sizeMs / velocity.slideMs }, (_, k) => `(${k})`).join(', ');
  const gap = views.customer_sessions.window.gapMs;
  const body: Record<typeof view, string> = {
    // Only windows that end by the watermark (with a one-minute window, every window of an event before it).
    spend_per_card_minute: `windows AS (
  SELECT card_id, event_time - event_time % ${minute} AS window_start, count(*) AS txn_count, ${total}
  FROM txn
  GROUP BY card_id, event_time - event_time % ${minute}
)
SELECT card_id, window_start, txn_count, total_amount, ${dayOf('window_start')} AS dt FROM windows WHERE window_start + ${minute} <= ${w}`,
    spend_per_customer_hour: `windows AS (
  SELECT customer_id, event_time - event_time % ${hour} AS window_start, count(*) AS txn_count, ${total}
  FROM txn
  GROUP BY customer_id, event_time - event_time % ${hour}
)
SELECT customer_id, window_start, txn_count, total_amount, ${dayOf('window_start')} AS dt
FROM windows
WHERE total_amount > ${views.spend_per_customer_hour.totalAbove} AND window_start + ${hour} <= ${w}`,
    // Each transaction is in the size/slide windows that start in the size/slide slides up to its own.
    card_velocity: `windows AS (
  SELECT card_id, event_time - event_time % ${velocity.slideMs} - slide.k * ${velocity.slideMs} AS window_start, count(*) AS txn_count, ${total}
  FROM txn CROSS JOIN (VALUES ${slides}) AS slide(k)
  GROUP BY card_id, event_time - event_time % ${velocity.slideMs} - slide.k * ${velocity.slideMs}
)
SELECT card_id, window_start, window_start + ${velocity.sizeMs} AS window_end, txn_count, total_amount, ${dayOf('window_start')} AS dt
FROM windows
WHERE window_start + ${velocity.sizeMs} <= ${w}`,
    // A session goes on while the next event is at most the gap after the last (Flink merges windows that touch);
    // it is closed once the watermark is past its end, so no event before the watermark can extend it.
    customer_sessions: `marked AS (
  SELECT customer_id, txn_id, event_time, amount,
         CASE WHEN event_time - lag(event_time) OVER (PARTITION BY customer_id ORDER BY event_time, txn_id) <= ${gap} THEN 0 ELSE 1 END AS starts
  FROM txn
),
numbered AS (
  SELECT customer_id, event_time, amount,
         sum(starts) OVER (PARTITION BY customer_id ORDER BY event_time, txn_id ROWS UNBOUNDED PRECEDING) AS session_no
  FROM marked
),
sessions AS (
  SELECT customer_id, min(event_time) AS session_start, max(event_time) + ${gap} AS session_end, count(*) AS txn_count, ${total}
  FROM numbered
  GROUP BY customer_id, session_no
)
SELECT customer_id, session_start, session_end, txn_count, total_amount, ${dayOf('session_start')} AS dt
FROM sessions
WHERE session_end < ${w}`,
  };
  return `WITH ${transactionsCte(o)},
${body[view]}`;
}

/**
 * The query that recomputes one batch view: the view's columns (schemas/views.json order), then
 * `dt` of the row's partition time.
 */
export function batchViewSql(view: BatchView, options: BatchSqlOptions): string {
  checkWatermark(options.watermarkMs);
  const product = options.product ?? cardFraud;
  return view === 'alerts' ? alertsSql(options, product) : aggregateSql(view, options, product);
}

/** The columns a batch view's query returns, in order. */
export const batchViewColumns = (view: BatchView): string[] => [...viewColumns(view).map((c) => c.name), 'dt'];

/**
 * Where the merged view splits a window between batch and speed: windows that end by the
 * watermark come from the batch view, later ones from the speed layer.
 */
export function windowEndBound(view: MergedView, { views }: CardFraudProduct = cardFraud): number {
  return view === 'alerts' ? 0 : views[view].window.sizeMs;
}
