import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BATCH_VIEWS, type BatchView, insertChunkSql, lambdaViewName, NO_BATCH_RUN, planBatchRun, switchLambdaViewsSql, utcDay } from '../../lib/batch';
import { prestoType } from '../../lib/constructs/athena-view';
import { replaceServingViewSql } from '../../lib/constructs/reprocessing/serving-view';
import { lakeTables, servingColumns, servingViewName, versionedTables } from '../../lib/lake-catalog';
import { referenceQueries } from '../../lib/serving/named-queries';
import type { Transaction } from '../../lambdas/shared/transaction';
import { expectedResults, referenceAlerts, streamViews } from '../../sandbox/expected';
import { sandboxPlatformConfig } from '../../sandbox/platform-config';
import { makeWorkload } from '../../sandbox/run';
import { archiveColumns, partitionKeys, toRow } from '../../sandbox/stand-ins/archiver-convert';
import { processBatch } from '../../lambdas/speed-layer/core';
import { EMPTY_RULE_STATE } from '../../lambdas/speed-layer/rules';
import type { SourceRecord } from '../../lambdas/shared/source-record';
import { LakePrefix, SPEED_DEAD_LETTER_PREFIX } from '../../lib/lake-layout';
import { ParquetEncoder } from '../../sandbox/stand-ins/archiver-parquet';
import { REPO, viewRowKey } from '../helpers/sandbox';
import { synthProfile } from '../helpers/synth';
import { startTrino, trinoJavaHome, TRINO_VERSION, TrinoQueryError, type TrinoRow, type TrinoServer } from '../helpers/trino';
import { glueCatalog, lakeCatalogProperties, writeFileMetastore } from './glue-metastore';

/**
 * The platform's Athena SQL executed on Trino 476, the engine Athena engine v3 is built on, not only
 * parsed (test/serving/*-sql.test.ts parse it with sqlglot). The Glue catalog is the synthesized
 * one, table for table (test/trino/glue-metastore.ts); the data set is small and made to exercise
 * every rule and view. Run as deployed: the named queries, every INSERT chunk of a batch run
 * (R1's MATCH_RECOGNIZE among them, which no other engine here can run), the Lambda views'
 * switch and revert, and the Kappa replay's serving-view switch, each checked against the
 * reference recomputation (sandbox/expected) or hand-computed results. docs/serving.md says what
 * only Athena itself can show.
 */

const { templates } = synthProfile('prod');
const catalog = glueCatalog(templates);
const DB = catalog.database;
const q = (name: string) => `"${DB}"."${name}"`;

const HOUR = 3_600_000;
const MINUTE = 60_000;
const NOW = Date.now();
const THIS_HOUR = NOW - (NOW % HOUR);
const THIS_MINUTE = NOW - (NOW % MINUTE);
const hourOf = (ms: number) => new Date(ms).toISOString().slice(11, 13);

// The batch layer's input: a generated workload with labelled R1-R3 fraud, duplicates, late and out-of-order events,
// three hours ago (partition projection enumerates days up to NOW only).
const { config } = sandboxPlatformConfig(REPO);
const START = THIS_HOUR - 3 * HOUR;
const workload = makeWorkload({ seed: 5, startTime: START, rate: 20, durationSeconds: 240, rates: { r1: 5, r2: 5, r3: 5 } }, config);
const expected = expectedResults(workload.records, { partitions: 1 });
const firstDeliveries = expected.valid.filter((d) => d.first).map((d) => d.transaction);
const lastEvent = Math.max(...firstDeliveries.map((t) => t.eventTime));
const WATERMARK = Math.ceil((lastEvent + 31 * MINUTE) / HOUR) * HOUR;
/**
 * The first day this suite's data is in. Reads of a projected table or a view over one bound `dt`, as a
 * reader should: without it, `2020-01-01,NOW` projects every hour since 2020 (over 60,000 partitions per
 * hourly table), which takes Trino seconds per table and, in a union of several, more than a 1 GB heap.
 */
const FIRST_DAY = utcDay(THIS_HOUR - 30 * HOUR);
const plan = planBatchRun({ startedAtMs: WATERMARK + 15 * MINUTE, settleMinutes: 15, firstRawDay: utcDay(Math.min(...expected.raw.map((t) => t.eventTime))) });

/** Rows the archive converts but the event schema rejects: the batch must read past them. */
const schemaInvalid: Transaction[] = [
  { ...firstDeliveries[0], txnId: 'invalid-zero-amount', amount: 0 },
  { ...firstDeliveries[1], txnId: 'invalid-channel', channel: 'telepathy' as Transaction['channel'] },
];

let dir: string;
let trino: TrinoServer;
let startMs = 0;
const sql = (text: string) => trino.query(text, { schema: DB });

/** The deployed views: Glue tables of type VIRTUAL_VIEW holding a `/* Presto View: <base64> *\/` definition. */
const views = catalog.tables.filter((t) => t.TableType === 'VIRTUAL_VIEW');

/** Writes raw_transactions as the raw archive does: Snappy Parquet per dt/hr prefix, every valid delivery (duplicates too). */
async function writeRaw(lakeDir: string): Promise<void> {
  const columns = archiveColumns();
  const byPartition = new Map<string, Record<string, string | null>[]>();
  for (const txn of [...expected.raw, ...schemaInvalid]) {
    const keys = partitionKeys(txn);
    const row = toRow(JSON.parse(JSON.stringify(txn)), columns);
    if (!keys.ok || !row.ok) throw new Error(`cannot archive ${txn.txnId}: ${JSON.stringify([keys, row])}`);
    const prefix = `raw/dt=${keys.keys.dt}/hr=${keys.keys.hr}`;
    byPartition.set(prefix, [...(byPartition.get(prefix) ?? []), row.row]);
  }
  const encoder = await ParquetEncoder.create(dir);
  try {
    for (const [prefix, rows] of byPartition) {
      fs.mkdirSync(path.join(lakeDir, prefix), { recursive: true });
      fs.writeFileSync(path.join(lakeDir, prefix, 'archive-1.parquet'), await encoder.encode(rows, columns));
    }
  } finally {
    await encoder.close();
  }
}

// The speed layer's output, as its own core writes it (lambdas/speed-layer: NDJSON lines, partial sums per
// segment, one object per alert, dead letters), from two batches of records near NOW on two shards.
const T1 = THIS_MINUTE - 30 * MINUTE;
const T2 = THIS_MINUTE - 20 * MINUTE;
const MID_HOUR = THIS_HOUR + Math.floor((NOW - THIS_HOUR) / 2);
const T3 = MID_HOUR - (MID_HOUR % MINUTE); // this hour, in the past
const txn = (id: string, card: string, customer: string, eventTime: number, amount: number, country = 'DE'): Transaction =>
  ({ ...firstDeliveries[0], txnId: `speed-${id}`, cardId: card, customerId: customer, eventTime, amount, country });
const SPEED_BATCHES: (Transaction | 'bad_json' | 'schema_violation' | 'undecodable-old')[][] = [
  [
    'undecodable-old', // arrived 8 days ago: outside dead_letters_by_reason's 7 days
    txn('e1', 'card-e', 'cust-e', NOW - 26 * HOUR, 10, 'DE'), txn('e2', 'card-e', 'cust-e', NOW - 26 * HOUR + MINUTE, 10, 'FR'), // R2, older than a day
    txn('c1', 'card-c', 'cust-c', NOW - 4 * HOUR, 40), // older than the last hour, and before the batch watermark
    txn('a1', 'card-a', 'cust-a', T1, 150), txn('a2', 'card-a', 'cust-a', T1 + 10_000, 120),
    'bad_json', // cuts the batch: the records after it are a second segment, with partial sums of their own
    txn('a3', 'card-a', 'cust-a', T1 + 20_000, 130), // R1 on card-a
    txn('b1', 'card-b', 'cust-b', T2, 20, 'DE'), txn('b2', 'card-b', 'cust-b', T2 + MINUTE, 30, 'FR'), // R2 on card-b
    'schema_violation', 'bad_json',
    txn('d1', 'card-d', 'cust-d', T3, 600),
  ],
  [txn('a4', 'card-a', 'cust-a', T1 + 30_000, 50), txn('d2', 'card-d', 'cust-d', T3 + 1000, 500)],
];

function writeSpeed(lakeDir: string): void {
  let ruleState = EMPTY_RULE_STATE;
  SPEED_BATCHES.forEach((batch, shard) => {
    const records: SourceRecord[] = batch.map((item, i) => {
      const coordinates = {
        eventSource: 'aws:kinesis', stream: 'arn:aws:kinesis:eu-west-1:123456789012:stream/transactions', shardId: `shardId-${shard}`,
        sequenceNumber: String(1000 + i), partitionKey: typeof item === 'string' ? 'card-x' : item.cardId,
        arrivalTime: item === 'undecodable-old' ? NOW - 8 * 24 * HOUR : NOW - HOUR + i,
      };
      if (item === 'undecodable-old') return { coordinates, data: Buffer.alloc(0), encodedData: '!!', decodeError: 'not base64' };
      const text = item === 'bad_json' ? '{"txnId": ' : JSON.stringify(item === 'schema_violation' ? { ...txn(`bad-${i}`, 'card-x', 'cust-x', NOW - HOUR, 10), amount: 0 } : item);
      return { coordinates, data: Buffer.from(text), encodedData: Buffer.from(text).toString('base64') };
    });
    const result = processBatch({ records, ruleState, now: NOW, layout: { speedPrefix: LakePrefix.speed, deadLetterPrefix: SPEED_DEAD_LETTER_PREFIX } });
    ruleState = result.state.state;
    for (const object of result.units.flatMap((u) => u.objects)) {
      fs.mkdirSync(path.dirname(path.join(lakeDir, object.key)), { recursive: true });
      fs.writeFileSync(path.join(lakeDir, object.key), object.body);
    }
  });
}
const partitionValues = (ms: number) => `'${utcDay(ms)}', '${hourOf(ms)}'`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trino-athena-'));
  writeFileMetastore(dir, { database: DB, tables: catalog.tables }, TRINO_VERSION);
  await writeRaw(path.join(dir, 'lake'));
  writeSpeed(path.join(dir, 'lake'));
  const started = Date.now();
  trino = await startTrino({ workDir: dir, catalogs: { awsdatacatalog: lakeCatalogProperties(dir) } });
  startMs = Date.now() - started;
}, 240_000);

afterAll(async () => {
  await trino?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`Trino started in ${(startMs / 1000).toFixed(1)} s\n`);
});

test('without a Java Trino can run on, the launcher says what it found and how to fix it', () => {
  expect(() => trinoJavaHome({ TRINO_JAVA_HOME: '/nonexistent-jdk' })).toThrow(
    /needs Java 24 or newer, and TRINO_JAVA_HOME=\/nonexistent-jdk is not one \(looked at: no JDK\)\. Install a JDK 24\+/,
  );
});

describe('the Glue catalog as deployed', () => {
  test('every table has the templates\' columns and partition keys, in Trino\'s types', async () => {
    const tables = catalog.tables.filter((t) => t.TableType === 'EXTERNAL_TABLE');
    expect(tables.map((t) => t.Name).sort()).toEqual(lakeTables().map((t) => t.tableName).sort());
    for (const table of tables) {
      const columns = await sql(`SHOW COLUMNS FROM ${q(table.Name)}`);
      const want = [...table.StorageDescriptor.Columns, ...(table.PartitionKeys ?? [])].map((c) => [c.Name, prestoType(c.Type)]);
      expect([table.Name, columns.map((c) => [c.Column, String(c.Type).replace(/\s+/g, '')])]).toEqual([table.Name, want.map(([n, t]) => [n, t.replace(/\s+/g, '')])]);
    }
  });

  test('the archive\'s Parquet reads through the raw table\'s projected dt/hr partitions', async () => {
    const [row] = await sql(`SELECT count(*) AS n, count(DISTINCT txn_id) AS txns FROM ${q('raw_transactions')} WHERE dt >= '${utcDay(START - HOUR)}'`);
    expect(row).toEqual({ n: expected.raw.length + schemaInvalid.length, txns: firstDeliveries.length + schemaInvalid.length });
  });

  // Athena engine v3 (Trino) runs a view as its definer unless the definition says runAsInvoker, and refuses a
  // definer view without an owner ("INVALID_VIEW: Run-as identity must be set for a run-as definer view"): found by
  // this suite before lib/constructs/athena-view.ts wrote one.
  test('every deployed view (serving_ and lambda_) reads, its columns as its Glue table lists them', async () => {
    expect(views.length).toBe(versionedTables(lakeTables()).length + BATCH_VIEWS.length);
    expect(views.map((v) => v.Name).sort()).toEqual([...versionedTables(lakeTables()).map(servingViewName), ...BATCH_VIEWS.map(lambdaViewName)].sort());
    for (const view of views) {
      // Analysing the query checks the definition: its SQL, its owner, and its columns against the query's (a stale view fails).
      await sql(`SELECT * FROM ${q(view.Name)} WHERE false`);
      const columns = await sql(`SHOW COLUMNS FROM ${q(view.Name)}`);
      expect([view.Name, columns.map((c) => c.Column)]).toEqual([view.Name, view.StorageDescriptor.Columns.map((c) => c.Name)]);
    }
  });
});

describe('the named queries', () => {
  const run = async (name: string): Promise<TrinoRow[]> => {
    const query = referenceQueries().find((r) => r.name === name);
    if (!query) throw new Error(`no named query ${name}`);
    return sql(query.sql);
  };

  test('there are the five this suite checks', () => {
    expect(referenceQueries().map((r) => r.name)).toEqual(['alerts_last_day', 'big_spenders_today', 'dead_letters_by_reason', 'raw_events_per_hour', 'top_cards_last_hour']);
  });

  test('alerts_last_day counts each alert id once, per rule, over the last day', async () => {
    expect(await run('alerts_last_day')).toEqual([{ rule: 'R1', alerts: 1, cards: 1 }, { rule: 'R2', alerts: 1, cards: 1 }]);
  });

  test('big_spenders_today adds up the partial sums and keeps totals over 1000', async () => {
    const rows = await run('big_spenders_today');
    expect(rows.map((r) => [r.customer_id, r.txn_count, r.total_amount])).toEqual([['cust-d', 2, '1100.00']]);
    expect(rows[0].hour_start).toBe(`${new Date(THIS_HOUR).toISOString().replace('T', ' ').replace('Z', '')} UTC`);
  });

  test('dead_letters_by_reason counts the last 7 days by reason', async () => {
    expect((await run('dead_letters_by_reason')).map((r) => [r.reason, r.records])).toEqual([['bad_json', 2], ['schema_violation', 1]]);
  });

  test('raw_events_per_hour counts the archive per event hour, duplicates apart', async () => {
    const want = new Map<string, { events: number; txns: Set<string> }>();
    for (const t of [...expected.raw, ...schemaInvalid]) {
      const key = `${utcDay(t.eventTime)} ${hourOf(t.eventTime)}`;
      const entry = want.get(key) ?? { events: 0, txns: new Set() };
      entry.events += 1;
      entry.txns.add(t.txnId);
      want.set(key, entry);
    }
    const rows = await run('raw_events_per_hour');
    expect(rows.map((r) => [`${r.dt} ${r.hr}`, r.events, r.distinct_events])).toEqual([...want].sort().map(([k, v]) => [k, v.events, v.txns.size]));
    expect(rows.some((r) => Number(r.events) > Number(r.distinct_events))).toBe(true);
  });

  test('top_cards_last_hour adds up the partial sums of the last hour, largest first', async () => {
    expect((await run('top_cards_last_hour')).map((r) => [r.card_id, r.txn_count, r.total_amount])).toEqual([['card-d', 2, '1100.00'], ['card-a', 4, '450.00'], ['card-b', 2, '50.00']]);
  });
});

describe('a batch run, as the batch layer runs it', () => {
  const batchRows = async (view: Exclude<BatchView, 'alerts'>) =>
    (await sql(`SELECT * FROM ${q(`batch_${view}`)} WHERE run = '${plan.run}' AND dt >= '${FIRST_DAY}'`)).map((r) => viewRowKey(r)).sort();

  test('every INSERT chunk runs, R1\'s MATCH_RECOGNIZE included', async () => {
    expect(plan.chunks.length).toBeGreaterThanOrEqual(BATCH_VIEWS.length);
    // Two at a time, as the batch run's WriteBatchViews Map state runs them by default (maxConcurrency 2).
    const pending = [...plan.chunks];
    const worker = async () => {
      for (let chunk = pending.shift(); chunk; chunk = pending.shift()) await sql(insertChunkSql(DB, plan, chunk));
    };
    await Promise.all([worker(), worker()]);
  }, 300_000);

  test.each(['spend_per_card_minute', 'spend_per_customer_hour', 'card_velocity', 'customer_sessions'] as const)(
    'batch_%s equals the recomputation over every valid transaction once',
    async (view) => {
      const want = (streamViews(firstDeliveries)[view] as unknown as Record<string, unknown>[]).map((r) => viewRowKey(r)).sort();
      expect(want.length).toBeGreaterThan(0);
      expect(await batchRows(view)).toEqual(want);
    },
  );

  test('batch_alerts equals R1 (greedy, in MATCH_RECOGNIZE), R2 and R3 recomputed from the specification', async () => {
    const want = referenceAlerts(firstDeliveries).map((a) => JSON.stringify([a.alertId, a.rule, a.cardId, a.customerId, a.windowStart, a.txnIds])).sort();
    for (const rule of ['R1', 'R2', 'R3']) expect([rule, want.filter((a) => a.includes(`"${rule}"`)).length]).not.toEqual([rule, 0]);
    const rows = await sql(`SELECT alert_id, rule, card_id, customer_id, window_start, txn_ids, detected_by, dt FROM ${q('batch_alerts')} WHERE run = '${plan.run}' AND dt >= '${FIRST_DAY}'`);
    expect(rows.map((r) => JSON.stringify([r.alert_id, r.rule, r.card_id, r.customer_id, r.window_start, r.txn_ids])).sort()).toEqual(want);
    for (const r of rows) expect([r.detected_by, r.dt]).toEqual(['batch', utcDay(Number(r.window_start))]);
  });

  test('the switch re-points every lambda_ view at the run: batch up to the watermark, speed after it', async () => {
    for (const statement of switchLambdaViewsSql(DB, { run: plan.run, watermarkMs: plan.watermarkMs })) await sql(statement);
    const count = async (name: string, where = 'true') => Number((await sql(`SELECT count(*) AS n FROM ${q(name)} WHERE dt >= '${FIRST_DAY}' AND ${where}`))[0].n);
    const batchCount = (view: BatchView) => count(`batch_${view}`, `run = '${plan.run}'`);
    // Speed windows after the watermark: card-a's minute (three partial sums, one row), card-b's two, card-d's; cust-d's hour; two alerts.
    expect(await count(lambdaViewName('spend_per_card_minute'))).toBe(await batchCount('spend_per_card_minute') + 4);
    expect(await count(lambdaViewName('spend_per_customer_hour'))).toBe(await batchCount('spend_per_customer_hour') + 1);
    expect(await count(lambdaViewName('alerts'))).toBe(await batchCount('alerts') + 2);
    expect(await count(lambdaViewName('card_velocity'))).toBe(await batchCount('card_velocity'));
    expect(await count(lambdaViewName('customer_sessions'))).toBe(await batchCount('customer_sessions'));
    const [cardA] = await sql(`SELECT txn_count, total_amount, hr FROM ${q(lambdaViewName('spend_per_card_minute'))} WHERE dt >= '${FIRST_DAY}' AND card_id = 'card-a'`);
    expect(cardA).toEqual({ txn_count: 4, total_amount: '450.00', hr: hourOf(T1) });
  });

  test('the revert to no run serves the speed layer alone', async () => {
    for (const statement of switchLambdaViewsSql(DB, NO_BATCH_RUN)) await sql(statement);
    const ids = async (view: BatchView, key: string) => (await sql(`SELECT ${key} AS k FROM ${q(lambdaViewName(view))} WHERE dt >= '${FIRST_DAY}'`)).map((r) => r.k).sort();
    expect(await ids('spend_per_card_minute', 'card_id')).toEqual(['card-a', 'card-b', 'card-b', 'card-c', 'card-d', 'card-e', 'card-e']);
    expect(await ids('spend_per_customer_hour', 'customer_id')).toEqual(['cust-d']);
    expect((await ids('alerts', 'alert_id')).length).toBe(3);
    expect(await ids('card_velocity', 'card_id')).toEqual([]);
    expect(await ids('customer_sessions', 'customer_id')).toEqual([]);
  });
});

describe('a Kappa replay\'s serving-view switch', () => {
  const table = versionedTables(lakeTables()).find((t) => t.tableName === 'views_spend_per_card_minute')!;
  const write = (version: number, cards: string[]) =>
    sql(`INSERT INTO ${q(table.tableName)} VALUES ${cards.map((card, i) => `('${card}', ${START + i * MINUTE}, 1, DECIMAL '10.00', '${version}', ${partitionValues(START + i * MINUTE)})`).join(', ')}`);

  test('the view reads the version its statement names, and the switch moves it whole', async () => {
    await write(1, ['v1-a', 'v1-b']);
    await write(2, ['v2-a', 'v2-b', 'v2-c']);
    const served = async () => (await sql(`SELECT card_id FROM ${q(servingViewName(table))} WHERE dt >= '${FIRST_DAY}'`)).map((r) => r.card_id).sort();
    await sql(replaceServingViewSql(DB, table, 1));
    expect(await served()).toEqual(['v1-a', 'v1-b']);
    await sql(replaceServingViewSql(DB, table, 2));
    expect(await served()).toEqual(['v2-a', 'v2-b', 'v2-c']);
    const columns = await sql(`SHOW COLUMNS FROM ${q(servingViewName(table))}`);
    expect(columns.map((c) => c.Column)).toEqual(servingColumns(table).map((c) => c.name));
  }, 120_000);

  test('every serving view\'s switch statement runs and the view reads', async () => {
    for (const versioned of versionedTables(lakeTables())) {
      await sql(replaceServingViewSql(DB, versioned, 3));
      await sql(`SELECT count(*) FROM ${q(servingViewName(versioned))} WHERE dt >= '${FIRST_DAY}'`);
    }
  }, 180_000);

  test('a statement naming a column the table lacks fails in Trino, as it would in Athena', async () => {
    const bad = replaceServingViewSql(DB, table, 1).replace('"txn_count"', '"txn_total"');
    await expect(sql(bad)).rejects.toThrow(TrinoQueryError);
    await expect(sql(bad)).rejects.toThrow(/COLUMN_NOT_FOUND/);
  });
});
