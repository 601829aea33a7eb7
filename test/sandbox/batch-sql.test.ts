import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BATCH_VIEWS, type BatchView, NO_BATCH_RUN, lambdaViewName } from '../../lib/batch';
import { LakePrefix } from '../../lib/lake-layout';
import type { Transaction } from '../../lambdas/shared/transaction';
import { writeBatchViews } from '../../sandbox/batch';
import { expectedResults, referenceAlerts, streamViews } from '../../sandbox/expected';
import { sandboxPlatformConfig } from '../../sandbox/platform-config';
import { makeWorkload } from '../../sandbox/run';
import { type LakeSql, openLakeSql, sqlString } from '../../sandbox/serving/lake-sql';
import { REPO, viewRowKey } from '../helpers/sandbox';

/**
 * The batch layer's SQL, as the sandbox runs it on DuckDB, against the reference recomputation
 * (sandbox/expected, written from docs/reference-product.md): every view and every alert, exactly,
 * over a generated workload with duplicates, out-of-order and late events. No engines: the raw table
 * is loaded from the generated records, as the archive would have written them.
 */

const { config } = sandboxPlatformConfig(REPO);
const START = Date.parse('2026-11-22T09:00:00Z');
const workload = makeWorkload({ seed: 11, startTime: START, rate: 200, durationSeconds: 300, rates: { r1: 3, r2: 3, r3: 3 } }, config);
const expected = expectedResults(workload.records, { partitions: 1 });
/** Every transaction once, first delivery, late or not: what the batch layer reads. */
const firstDeliveries = expected.valid.filter((d) => d.first).map((d) => d.transaction);
const lastEvent = Math.max(...firstDeliveries.map((t) => t.eventTime));

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-sql-'));
  // The raw archive holds every valid delivery, duplicates included.
  const raw = expected.raw.map((t) => JSON.stringify({
    txn_id: t.txnId, card_id: t.cardId, customer_id: t.customerId, merchant_id: t.merchantId, amount: t.amount, currency: t.currency,
    country: t.country, channel: t.channel, event_time: t.eventTime, schema_version: t.schemaVersion,
  }));
  fs.writeFileSync(path.join(dir, 'raw.ndjson'), `${raw.join('\n')}\n`);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A lake of its own per run, with raw_transactions loaded and the run's batch views written. */
async function batchRun(run: string, watermarkMs: number): Promise<LakeSql> {
  const lake = path.join(dir, run);
  const writer = await openLakeSql(lake);
  await writer.connection.run(`DROP VIEW raw_transactions`);
  await writer.connection.run(`CREATE TABLE raw_transactions AS
    SELECT *, strftime(to_timestamp(event_time / 1000), '%Y-%m-%d') AS dt, strftime(to_timestamp(event_time / 1000), '%H') AS hr
    FROM read_json(${sqlString(path.join(dir, 'raw.ndjson'))}, format = 'newline_delimited', columns = {
      txn_id: 'VARCHAR', card_id: 'VARCHAR', customer_id: 'VARCHAR', merchant_id: 'VARCHAR', amount: 'DECIMAL(12,2)', currency: 'VARCHAR',
      country: 'VARCHAR', channel: 'VARCHAR', event_time: 'BIGINT', schema_version: 'INTEGER'})`);
  const rows = await writeBatchViews(writer, path.join(lake, LakePrefix.batch), { run, watermarkMs }, watermarkMs + 1);
  writer.close();
  expect(rows.spend_per_card_minute).toBeGreaterThan(0);
  return openLakeSql(lake, { batchRun: { run, watermarkMs } });
}

/** A view's rows as comparable strings, in both the lake's and the recomputation's shapes. */
async function batchRows(sql: LakeSql, view: Exclude<BatchView, 'alerts'>, run: string): Promise<string[]> {
  const rows = await sql.query(`SELECT * EXCLUDE (run) FROM batch_${view} WHERE run = '${run}'`);
  return rows.map((r) => viewRowKey(r)).sort();
}
function expectedRows(accepted: Transaction[], view: Exclude<BatchView, 'alerts'>, closed: (row: Record<string, unknown>) => boolean): string[] {
  return (streamViews(accepted)[view] as unknown as Record<string, unknown>[]).filter(closed).map((r) => viewRowKey(r)).sort();
}

async function batchAlerts(sql: LakeSql, run: string): Promise<string[]> {
  const rows = await sql.query(`SELECT alert_id, rule, card_id, customer_id, window_start, txn_ids, detected_by FROM batch_alerts WHERE run = '${run}'`);
  return rows.map((r) => JSON.stringify([r.alert_id, r.rule, r.card_id, r.customer_id, Number(r.window_start), r.txn_ids, r.detected_by])).sort();
}
function expectedAlerts(accepted: Transaction[]): string[] {
  return referenceAlerts(accepted).map((a) => JSON.stringify([a.alertId, a.rule, a.cardId, a.customerId, a.windowStart, a.txnIds, 'batch'])).sort();
}

describe('batch views recomputed past every event', () => {
  // Past the last session's end and the last hour's, so every window and session is closed.
  const watermark = Math.ceil((lastEvent + 31 * 60_000) / 3_600_000) * 3_600_000;
  let sql: LakeSql;
  beforeAll(async () => {
    sql = await batchRun('full', watermark);
  });
  afterAll(() => sql.close());

  test('the workload has what makes batch and stream differ: duplicates and late events', () => {
    expect(expected.stream.duplicateIndexes.length).toBeGreaterThan(50);
    expect(expected.stream.late.length).toBeGreaterThan(10);
    expect(firstDeliveries.length).toBeGreaterThan(50_000);
  });

  test.each(['spend_per_card_minute', 'spend_per_customer_hour', 'card_velocity', 'customer_sessions'] as const)(
    '%s equals the recomputation over every transaction once, late ones included',
    async (view) => {
      const want = expectedRows(firstDeliveries, view, () => true);
      expect(want.length).toBeGreaterThan(0);
      expect(await batchRows(sql, view, 'full')).toEqual(want);
    },
  );

  test('alerts equal the recomputation of R1, R2 and R3 (greedy R1 included)', async () => {
    const want = expectedAlerts(firstDeliveries);
    for (const rule of ['R1', 'R2', 'R3']) expect(want.filter((a) => a.includes(`"${rule}"`)).length).toBeGreaterThan(5);
    expect(await batchAlerts(sql, 'full')).toEqual(want);
  });

  test('rows are partitioned by the UTC day of their window start', async () => {
    const [row] = await sql.query(`SELECT count(*) AS wrong FROM batch_card_velocity WHERE dt <> strftime(to_timestamp(window_start / 1000), '%Y-%m-%d')`);
    expect(Number(row.wrong)).toBe(0);
  });
});

describe('batch views recomputed up to a watermark inside the events', () => {
  // Mid-run: windows open at the watermark must not be written; events after it must not be read.
  const watermark = Math.floor((START + 150_000) / 60_000) * 60_000;
  const before = firstDeliveries.filter((t) => t.eventTime < watermark);
  let sql: LakeSql;
  beforeAll(async () => {
    sql = await batchRun('mid', watermark);
  });
  afterAll(() => sql.close());

  test.each([
    ['spend_per_card_minute', (r: Record<string, unknown>) => Number(r.window_start) + 60_000 <= watermark],
    ['spend_per_customer_hour', (r: Record<string, unknown>) => Number(r.window_start) + 3_600_000 <= watermark],
    ['card_velocity', (r: Record<string, unknown>) => Number(r.window_end) <= watermark],
    ['customer_sessions', (r: Record<string, unknown>) => Number(r.session_end) < watermark],
  ] as const)('%s holds exactly the windows that closed by the watermark', async (view, closed) => {
    expect(await batchRows(sql, view, 'mid')).toEqual(expectedRows(before, view, closed));
  });

  test('alerts are those of the events before the watermark', async () => {
    expect(before.length).toBeLessThan(firstDeliveries.length);
    expect(await batchAlerts(sql, 'mid')).toEqual(expectedAlerts(before));
  });

  test('the Lambda serving views read the batch run, and the speed layer only after its watermark', async () => {
    // No speed rows in this lake: each merged view is exactly its batch side.
    for (const view of BATCH_VIEWS) {
      const [served] = await sql.query(`SELECT count(*) AS n FROM ${lambdaViewName(view)}`);
      const [batch] = await sql.query(`SELECT count(*) AS n FROM batch_${view} WHERE run = 'mid'`);
      expect([view, served.n]).toEqual([view, batch.n]);
    }
    const [hours] = await sql.query(`SELECT count(*) AS wrong FROM lambda_spend_per_card_minute WHERE hr <> strftime(to_timestamp(window_start / 1000), '%H')`);
    expect(Number(hours.wrong)).toBe(0);
  });
});

test('before any batch run the Lambda serving views are empty, not an error', async () => {
  const sql = await openLakeSql(path.join(dir, 'empty'), { batchRun: NO_BATCH_RUN });
  try {
    for (const view of BATCH_VIEWS) expect(await sql.query(`SELECT * FROM ${lambdaViewName(view)}`)).toEqual([]);
  } finally {
    sql.close();
  }
});
