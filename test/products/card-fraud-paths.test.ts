import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kinesisDecoder } from '../../lambdas/shared/kinesis';
import type { Transaction } from '../../lambdas/shared/transaction';
import { processBatch } from '../../lambdas/speed-layer/core';
import { loadSpeedLayerEnv, speedRuleParameters } from '../../lambdas/speed-layer/env';
import { EMPTY_RULE_STATE } from '../../lambdas/speed-layer/rules';
import { batchViewSql } from '../../lib/batch';
import { speedLayerEnvironment } from '../../lib/speed-layer-environment';
import { flinkRuleProperties } from '../../lib/stream-job-properties';
import { cardFraud, type CardFraudProduct } from '../../products/card-fraud';
import { expectedResults, referenceAlerts } from '../../sandbox/expected';
import { generateWorkload } from '../../sandbox/generator';
import { openLakeSql, sqlString } from '../../sandbox/serving/lake-sql';
import { kinesisEvent, T0, txn } from '../lambdas/fixtures';
import { CHANGED } from './changed-definition';

/**
 * One contract test per path: each path reads the product definition's values (through its own
 * channel), so the same events give different alerts under the definition and under a changed copy
 * of it (R1 over 150.00, R2 within 2 min, R3 over 5x: test/products/changed-definition.ts). The Flink
 * job's is flink-apps' ProductRulesContractTest, with the same rules as the `Rules` property group
 * built below.
 */

/** Three over 100.00 (none over 150.00) in 30 s; a country change after 4 min; 60.00 after five of 10.00 (6x the mean). */
const EVENTS: Transaction[] = [
  txn({ txnId: 'a1', cardId: 'card-burst', amount: 120, eventTime: T0 }),
  txn({ txnId: 'a2', cardId: 'card-burst', amount: 120, eventTime: T0 + 15_000 }),
  txn({ txnId: 'a3', cardId: 'card-burst', amount: 120, eventTime: T0 + 30_000 }),
  txn({ txnId: 'b1', cardId: 'card-hop', amount: 10, country: 'GB', eventTime: T0 }),
  txn({ txnId: 'b2', cardId: 'card-hop', amount: 10, country: 'FR', eventTime: T0 + 240_000 }),
  ...[0, 1, 2, 3, 4].map((i) => txn({ txnId: `c${i}`, cardId: 'card-spike', amount: 10, country: 'GB', eventTime: T0 + i * 400_000 })),
  txn({ txnId: 'c5', cardId: 'card-spike', amount: 60, country: 'GB', eventTime: T0 + 2_000_000 }),
].sort((a, b) => a.eventTime - b.eventTime);

const R1 = `R1:card-burst:${T0}`;
const R2 = `R2:card-hop:${T0}`;
const R3 = `R3:card-spike:${T0 + 2_000_000}`;

describe('the speed layer reads R1/R2 from its environment, filled from the definition', () => {
  /** The environment lib/speed-layer-environment.ts gives the function, parsed as index.ts parses it at cold start. */
  function speedAlerts(product: CardFraudProduct): string[] {
    const env = loadSpeedLayerEnv(speedLayerEnvironment({ bucketName: 'lake-bucket', alertsLog: { type: 'kinesis', streamName: 'alerts' }, rules: product.rules }));
    const records = kinesisDecoder.decode(kinesisEvent(0, EVENTS));
    const result = processBatch({ records, ruleState: EMPTY_RULE_STATE, now: T0 + 2_100_000, layout: { speedPrefix: 'speed', deadLetterPrefix: 'deadletter/speed' }, rules: speedRuleParameters(env) });
    return result.alerts.map((a) => a.alertId).sort();
  }

  test('the definition: R1 and R2 (R3 is left to stream processing)', () => {
    expect(speedAlerts(cardFraud)).toEqual([R1, R2]);
  });

  test('the changed copy: neither', () => {
    expect(speedAlerts(CHANGED)).toEqual([]);
  });
});

describe('the Flink job gets the definition as its Rules property group', () => {
  test('every rule parameter, as the job reads it', () => {
    expect(flinkRuleProperties(CHANGED.rules)).toEqual({
      'r1.large-above.cents': '15000',
      'r1.within.ms': String(cardFraud.rules.R1.withinMs),
      'r2.within.ms': '120000',
      'r3.min-history': String(cardFraud.rules.R3.minHistory),
      'r3.factor': '5',
    });
  });
});

describe('the batch SQL is generated from the definition (DuckDB, as the sandbox runs it)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'product-batch-'));
    fs.writeFileSync(path.join(dir, 'raw.ndjson'), EVENTS.map((t) => JSON.stringify({
      txn_id: t.txnId, card_id: t.cardId, customer_id: t.customerId, merchant_id: t.merchantId, amount: t.amount, currency: t.currency,
      country: t.country, channel: t.channel, event_time: t.eventTime, schema_version: t.schemaVersion,
    })).join('\n'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function batch(product: CardFraudProduct, view: 'alerts' | 'card_velocity' | 'spend_per_customer_hour'): Promise<Record<string, unknown>[]> {
    const sql = await openLakeSql(path.join(dir, 'lake'));
    try {
      await sql.connection.run('DROP VIEW raw_transactions');
      await sql.connection.run(`CREATE TABLE raw_transactions AS
        SELECT *, strftime(to_timestamp(event_time / 1000), '%Y-%m-%d') AS dt FROM read_json(${sqlString(path.join(dir, 'raw.ndjson'))},
          format = 'newline_delimited', columns = {txn_id: 'VARCHAR', card_id: 'VARCHAR', customer_id: 'VARCHAR', merchant_id: 'VARCHAR',
          amount: 'DECIMAL(12,2)', currency: 'VARCHAR', country: 'VARCHAR', channel: 'VARCHAR', event_time: 'BIGINT', schema_version: 'INTEGER'})`);
      const watermarkMs = Math.ceil((T0 + 4 * 3_600_000) / 3_600_000) * 3_600_000;
      return await sql.query(batchViewSql(view, { dialect: 'duckdb', rawTable: 'raw_transactions', watermarkMs, detectedAtMs: watermarkMs, product }));
    } finally {
      sql.close();
    }
  }
  const ids = (rows: Record<string, unknown>[]) => rows.map((r) => r.alert_id).sort();

  test('alerts: R1 and R2 under the definition, R3 alone under the changed copy; the oracle agrees both times', async () => {
    expect(ids(await batch(cardFraud, 'alerts'))).toEqual([R1, R2]);
    expect(ids(await batch(CHANGED, 'alerts'))).toEqual([R3]);
    for (const product of [cardFraud, CHANGED]) {
      expect(ids(await batch(product, 'alerts'))).toEqual(referenceAlerts(EVENTS, product.rules).map((a) => a.alertId).sort());
    }
  });

  // The definition refuses these changes until the speed layer and Flink read them too (products/card-fraud): built unvalidated here.
  test('views: the velocity window and the hourly threshold are the definition\'s', async () => {
    const fiveMinutes = CHANGED.views.card_velocity.window.sizeMs / 2;
    const shorter = { ...CHANGED, views: { ...CHANGED.views, card_velocity: { ...CHANGED.views.card_velocity, window: { kind: 'sliding' as const, sizeMs: fiveMinutes, slideMs: 60_000 } } } };
    const velocity = async (p: CardFraudProduct) => (await batch(p, 'card_velocity')).filter((r) => r.card_id === 'card-hop' && Number(r.window_end) - Number(r.window_start) === p.views.card_velocity.window.sizeMs);
    // b1 and b2 (4 min apart) share the windows that hold both: six of ten minutes, two of five.
    expect((await velocity(cardFraud)).filter((r) => Number(r.txn_count) === 2)).toHaveLength(6);
    expect((await velocity(shorter)).filter((r) => Number(r.txn_count) === 2)).toHaveLength(1);

    const lowThreshold = { ...CHANGED, views: { ...CHANGED.views, spend_per_customer_hour: { ...CHANGED.views.spend_per_customer_hour, totalAbove: 300 } } };
    expect(await batch(cardFraud, 'spend_per_customer_hour')).toEqual([]);
    expect((await batch(lowThreshold, 'spend_per_customer_hour')).map((r) => r.customer_id)).toEqual([EVENTS[0].customerId]);
  });
});

describe('the sandbox generator and the oracle read the definition', () => {
  const options = { seed: 5, startTime: Date.parse('2026-11-22T09:00:00Z'), rate: 100, durationSeconds: 120, rates: { r1: 4, r2: 4, r3: 4 } };
  /** The oracle's alerts over every transaction once (late ones included: they never complete a rule). */
  const oracleIds = (records: Parameters<typeof expectedResults>[0], product: CardFraudProduct) =>
    referenceAlerts(expectedResults(records, { partitions: 1 }).valid.filter((d) => d.first).map((d) => d.transaction), product.rules).map((a) => a.alertId).sort();

  test('the ground truth of a workload generated from a definition is what the oracle finds under that definition', () => {
    for (const product of [cardFraud, CHANGED]) {
      const workload = generateWorkload(options, product);
      const truth = workload.groundTruth.incidents.map((i) => i.alertId).sort();
      for (const rule of ['R1', 'R2', 'R3']) expect(truth.filter((id) => id.startsWith(rule)).length).toBeGreaterThan(3);
      expect(oracleIds(workload.records, product)).toEqual(truth);
    }
  });

  test('the changed definition changes the workload: its R1 bursts are over 150.00', () => {
    const workload = generateWorkload(options, CHANGED);
    const burst = workload.records.filter((r) => r.label.kind === 'fraud' && r.label.rule === 'R1').map((r) => JSON.parse(r.data).amount as number);
    expect(burst.length).toBeGreaterThan(9);
    expect(Math.min(...burst)).toBeGreaterThan(150);
    // Scored under the other definition, the same workload's truth is not what the oracle finds.
    expect(oracleIds(workload.records, cardFraud)).not.toEqual(workload.groundTruth.incidents.map((i) => i.alertId).sort());
  });
});
