import * as fs from 'node:fs';
import type { Transaction } from '../../lambdas/shared/transaction';
import type { GeneratedWorkload } from '../../sandbox/generator';
import { sandboxPlatformConfig } from '../../sandbox/platform-config';
import { replay, type ReplayResult } from '../../sandbox/replay';
import { makeWorkload, runWorkload } from '../../sandbox/run';
import { type BatchRunRecord, runBatch, servedBatchRun } from '../../sandbox/batch';
import { type ExpectedResults, expectedResults, referenceAlerts, streamGivenLate, streamViews } from '../../sandbox/expected';
import { type LakeSql, openLakeSql } from '../../sandbox/serving/lake-sql';
import { readServingVersion } from '../../sandbox/serving/version';
import { flinkProcessName, startSandbox, type Sandbox } from '../../sandbox/session';
import { sandboxDirs } from '../../sandbox/settings';
import { REPO, testSettings, viewRowKey } from '../helpers/sandbox';

/**
 * Reprocessing on the sandbox, on over 100k generated events (duplicates, out-of-order, late and malformed
 * included): the stream job (v=1), its Kappa replay (v=2) and the Lambda batch layer give the same views and
 * alerts, apart from exactly the differences docs/reprocessing.md names (lateness). Serving switches
 * atomically, and a replay that dies midway leaves the old version serving.
 */

const { config } = sandboxPlatformConfig(REPO);
const CHECKPOINT_MS = 3000;

let sandbox: Sandbox;
let workload: GeneratedWorkload;
let produceStartedAt: string;
let first: ReplayResult;
let expected: ExpectedResults;
let midBatch: BatchRunRecord;
let fullBatch: BatchRunRecord;
/** The lake as a reader saw it between the two batch runs: the Lambda views on the mid run. */
let lakeAtMid: LakeSql;
/** What every query of the serving view returned while the first replay ran: a row count and a content hash. */
const observed: string[] = [];
const CONTENT = 'SELECT count(*) AS n, sum(hash(card_id, window_start, txn_count, total_amount)) AS h';

beforeAll(async () => {
  const settings = await testSettings('tributary-replay', { log: 'kafka' });
  const startTime = Math.floor((Date.now() + 20_000) / 60_000) * 60_000 - 20_000;
  workload = makeWorkload({
    seed: 5,
    startTime,
    rate: 1000,
    durationSeconds: 105,
    rates: { r1: 4, r2: 4, r3: 4 },
  }, config);
  sandbox = await startSandbox(settings, { cards: workload.groundTruth.cards, flinkCheckpointIntervalMs: CHECKPOINT_MS });
  produceStartedAt = new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  // Faster than event time: 105 s of events in about 70 s.
  await runWorkload(sandbox, { rate: 1500, durationSeconds: 105, seed: 5, workload, stopArchiveWhenCaughtUp: true, out: () => undefined });

  // Two batch runs over the archive: one with its watermark inside the events (so the Lambda serving views
  // merge batch and speed), then one past every event, every hour and every session.
  expected = expectedResults(workload.records, { partitions: settings.shards, ...config.streamProcessing });
  const lastEvent = Math.max(...expected.raw.map((t) => t.eventTime));
  // The first whole minute of the run: fraud on both sides of it (none in the run's fraud-free tail).
  midBatch = await runBatch(settings, config, { watermarkMs: startTime + 20_000 });
  lakeAtMid = await openLakeSql(sandboxDirs(settings).lake, { batchRun: servedBatchRun(settings) });
  fullBatch = await runBatch(settings, config, { watermarkMs: Math.ceil((lastEvent + 31 * 60_000) / 3_600_000) * 3_600_000 });

  // Query the serving view over and over while the replay runs and switches.
  let replaying = true;
  const poller = (async () => {
    while (replaying) {
      const lake = await openLakeSql(sandboxDirs(settings).lake, { servedVersion: readServingVersion(settings)?.version ?? 1 });
      const [content] = await lake.query(`${CONTENT} FROM serving_spend_per_card_minute`);
      lake.close();
      observed.push(JSON.stringify(content));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  first = await replay(sandbox, { from: produceStartedAt, reason: 'test', checkpointIntervalMs: CHECKPOINT_MS, out: () => undefined });
  replaying = false;
  await poller;
}, 900_000);

afterAll(async () => {
  lakeAtMid?.close();
  await sandbox?.log.close();
  await sandbox?.supervisor.stopAll();
  if (sandbox) fs.rmSync(sandbox.settings.home, { recursive: true, force: true });
}, 120_000);

async function rows(sql: string): Promise<string[]> {
  const lake = await openLakeSql(sandboxDirs(sandbox.settings).lake);
  try {
    return (await lake.query(sql)).map((r) => JSON.stringify(r)).sort();
  } finally {
    lake.close();
  }
}

test('the replay catches up, switches serving to v=2 and retires v=1', () => {
  expect(first).toMatchObject({ ok: true, from: 1, to: 2, serving: 2 });
  expect(first.steps.map((s) => s.step)).toEqual(['start-replay', 'catch-up', 'switch', 'retire']);
  expect(readServingVersion(sandbox.settings)).toMatchObject({ version: 2, previous: 1, reason: 'test' });
  const running = sandbox.supervisor.running().map((r) => r.name);
  expect(running).toContain(flinkProcessName(2));
  expect(running).not.toContain(flinkProcessName(1));
});

test('v=2 holds the same alerts as v=1, and card-minutes that differ only by the events whose lateness differs', async () => {
  const alerts = (v: number) => rows(`SELECT alert_id, rule, card_id, txn_ids FROM views_alerts WHERE v = '${v}'`);
  const v1Alerts = await alerts(1);
  expect(v1Alerts.length).toBeGreaterThan(20);
  expect(await alerts(2)).toEqual(v1Alerts);

  // Lateness depends on how far the watermark had got when an event was read: live, the partitions advance
  // together; a replay reads them as fast as it can, unevenly. So a few events can be late in one version and
  // on time in the other (docs/reprocessing.md). Each such event must account exactly for its window's difference.
  const lateIn = async (v: number) => new Set((await rows(`SELECT txn_id FROM views_late_events WHERE v = '${v}'`)).map((r) => JSON.parse(r).txn_id as string));
  const late1 = await lateIn(1);
  const late2 = await lateIn(2);
  const onlyLateIn1 = [...late1].filter((t) => !late2.has(t));
  const onlyLateIn2 = [...late2].filter((t) => !late1.has(t));
  expect(late1.size).toBeGreaterThan(0);

  // A window is written once the watermark passes it; compare the windows both versions' watermarks passed.
  const reached = async (v: number) =>
    Number((await rows(`SELECT max(window_start) AS m FROM views_spend_per_card_minute WHERE v = '${v}'`)).map((r) => JSON.parse(r).m)[0]);
  const upTo = Math.min(await reached(1), await reached(2));
  const cardMinutes = async (v: number) =>
    new Map(
      (await rows(`SELECT card_id, window_start, txn_count, total_amount FROM views_spend_per_card_minute WHERE v = '${v}' AND window_start <= ${upTo}`))
        .map((r) => JSON.parse(r))
        .map((r) => [`${r.card_id}@${r.window_start}`, { count: Number(r.txn_count), cents: Math.round(Number(r.total_amount) * 100) }]),
    );
  const v1 = await cardMinutes(1);
  const v2 = await cardMinutes(2);
  expect(v1.size).toBeGreaterThan(300);

  // The expected difference per card-minute: + each event on time in v2 only, - each event on time in v1 only.
  const txns = new Map(workload.records.flatMap((r) => (r.label.kind === 'malformed' ? [] : [JSON.parse(r.data) as { txnId: string; cardId: string; amount: number; eventTime: number }])).map((t) => [t.txnId, t]));
  const expectedDelta = new Map<string, { count: number; cents: number }>();
  const shift = (txnId: string, sign: number) => {
    const t = txns.get(txnId)!;
    const key = `${t.cardId}@${t.eventTime - (t.eventTime % 60_000)}`;
    const d = expectedDelta.get(key) ?? { count: 0, cents: 0 };
    expectedDelta.set(key, { count: d.count + sign, cents: d.cents + sign * Math.round(t.amount * 100) });
  };
  onlyLateIn1.forEach((t) => shift(t, +1));
  onlyLateIn2.forEach((t) => shift(t, -1));
  for (const key of new Set([...v1.keys(), ...v2.keys()])) {
    const a = v1.get(key) ?? { count: 0, cents: 0 };
    const b = v2.get(key) ?? { count: 0, cents: 0 };
    const want = expectedDelta.get(key) ?? { count: 0, cents: 0 };
    expect([key, b.count - a.count, b.cents - a.cents]).toEqual([key, want.count, want.cents]);
  }
});

test('every query during the switch read one version whole', async () => {
  const version = async (v: number) => (await rows(`${CONTENT} FROM views_spend_per_card_minute WHERE v = '${v}'`))[0];
  const [v1, v2] = [await version(1), await version(2)];
  expect(v1).not.toEqual(v2);
  expect(observed.length).toBeGreaterThan(5);
  // Before the switch all of v=1, after it all of v=2, and nothing else in between.
  for (const seen of observed) expect([v1, v2]).toContain(seen);
  expect(observed[0]).toEqual(v1);
  expect(observed[observed.length - 1]).toEqual(v2);
});

test('a replay that dies midway leaves the old version serving and its job running', async () => {
  const killer = setInterval(() => {
    const victim = sandbox.supervisor.running().find((r) => r.name === flinkProcessName(3));
    if (victim) process.kill(victim.pid, 'SIGKILL');
  }, 200);
  let failed: ReplayResult;
  try {
    failed = await replay(sandbox, { from: produceStartedAt, checkpointIntervalMs: CHECKPOINT_MS, out: () => undefined });
  } finally {
    clearInterval(killer);
  }
  expect(failed).toMatchObject({ ok: false, from: 2, to: 3, serving: 2 });
  expect(failed.error).toMatch(/flink-stream-v3/);
  expect(readServingVersion(sandbox.settings)?.version).toBe(2);
  expect(sandbox.supervisor.running().map((r) => r.name)).toContain(flinkProcessName(2));
  const lake = await openLakeSql(sandboxDirs(sandbox.settings).lake, { servedVersion: 2 });
  try {
    const [served] = await lake.query(`SELECT count(*) AS n FROM serving_alerts`);
    const [v2] = await lake.query(`SELECT count(*) AS n FROM views_alerts WHERE v = '2'`);
    expect(served).toEqual(v2);
    expect(Number(served.n)).toBeGreaterThan(20);
  } finally {
    lake.close();
  }
}, 300_000);

describe('stream = replay = batch', () => {
  const alertKey = (a: { alertId: string; txnIds: string[] }) => `${a.alertId}:${a.txnIds.join(',')}`;
  const lakeAlerts = async (where: string) =>
    (await rows(`SELECT alert_id, txn_ids FROM ${where}`)).map((r) => JSON.parse(r)).map((r) => alertKey({ alertId: r.alert_id, txnIds: r.txn_ids })).sort();
  const firstDeliveries = () => expected.valid.filter((d) => d.first).map((d) => d.transaction);
  // What raw/ holds that no check can tell from a valid transaction: Firehose's conversion erased what was
  // wrong (a field the schema does not know is dropped, an amount sent as a string is parsed). The batch
  // counts these; the stream and speed paths dead-letter them (docs/reprocessing.md).
  const erased = () =>
    workload.records.flatMap((r) =>
      r.label.kind === 'malformed' && ['unknown_field', 'bad_type'].includes(r.label.malformation)
        ? [{ ...(JSON.parse(r.data) as Transaction), amount: Number(JSON.parse(r.data).amount) }]
        : [],
    );
  const batchInput = () => [...firstDeliveries(), ...erased()];

  test('the run is over 100k events, with duplicates, late and malformed records', () => {
    expect(workload.records.length).toBeGreaterThanOrEqual(100_000);
    expect(expected.stream.duplicateIndexes.length).toBeGreaterThan(100);
    expect(expected.malformed.length).toBeGreaterThan(100);
    expect(expected.stream.late.length).toBeGreaterThan(10);
  });

  test('the batch views equal the recomputation over every event once: late events folded in, duplicates not', async () => {
    const reference = streamViews(batchInput());
    for (const view of ['spend_per_card_minute', 'spend_per_customer_hour', 'card_velocity', 'customer_sessions'] as const) {
      const batch = (await rows(`SELECT * EXCLUDE (run, dt) FROM batch_${view} WHERE run = '${fullBatch.run}'`)).map((r) => viewRowKey(JSON.parse(r))).sort();
      const want = (reference[view] as unknown as Record<string, unknown>[]).map(viewRowKey).sort();
      expect([view, batch.length]).toEqual([view, want.length]);
      expect(batch).toEqual(want);
    }
    expect(fullBatch.rows.spend_per_card_minute).toBeGreaterThan(1000);
  });

  test('the stream views (v=1 and v=2) differ from the batch views by exactly their late events', async () => {
    // Each version's rows are the recomputation without the events it found late (and nothing else);
    // the batch's are the recomputation with them: so the difference is exactly those events.
    for (const v of [1, 2]) {
      const late = (await rows(`SELECT txn_id FROM views_late_events WHERE v = '${v}'`)).map((r) => JSON.parse(r).txn_id as string);
      const outputs = streamGivenLate(expected, late, { requireClearlyLate: false });
      for (const view of ['spend_per_card_minute', 'card_velocity'] as const) {
        const want = new Set((outputs.views[view] as unknown as Record<string, unknown>[]).map(viewRowKey));
        const written = (await rows(`SELECT * FROM views_${view} WHERE v = '${v}'`)).map((r) => viewRowKey(JSON.parse(r)));
        expect(written.length).toBeGreaterThan(400);
        expect([v, view, written.filter((row) => !want.has(row))]).toEqual([v, view, []]);
      }
    }
  });

  test('the batch, v=1 and v=2 hold the same alerts, each the exact recomputation of what it read', async () => {
    const batch = await lakeAlerts(`batch_alerts WHERE run = '${fullBatch.run}'`);
    expect(batch).toEqual(referenceAlerts(batchInput()).map(alertKey).sort());
    expect(batch.length).toBeGreaterThan(50);
    const v1 = await lakeAlerts(`views_alerts WHERE v = '1'`);
    expect(await lakeAlerts(`views_alerts WHERE v = '2'`)).toEqual(v1);
    // The stream's: the recomputation without the events it found late.
    const late1 = (await rows(`SELECT txn_id FROM views_late_events WHERE v = '1'`)).map((r) => JSON.parse(r).txn_id as string);
    expect(v1).toEqual(streamGivenLate(expected, late1, { requireClearlyLate: false }).alerts.map(alertKey).sort());
    // Where they differ at all, it is for a record only one of them read: late (stream) or erased (batch).
    const differing = [...batch.filter((a) => !v1.includes(a)), ...v1.filter((a) => !batch.includes(a))];
    expect(differing.length).toBeLessThan(batch.length / 10);
  });

  test('the Lambda serving view merges the batch up to its watermark with the speed layer after it', async () => {
    const w = midBatch.watermarkMs;
    const merged = await lakeAtMid.query(`SELECT card_id, window_start, txn_count, total_amount FROM lambda_spend_per_card_minute`);
    const fromBatch = merged.filter((r) => Number(r.window_start) + 60_000 <= w).map(viewRowKey).sort();
    const fromSpeed = merged.filter((r) => Number(r.window_start) + 60_000 > w).map(viewRowKey).sort();
    // Up to the watermark: the batch, which is the recomputation over the events before it.
    const before = batchInput().filter((t) => t.eventTime < w);
    expect(fromBatch).toEqual((streamViews(before).spend_per_card_minute as unknown as Record<string, unknown>[]).map(viewRowKey).sort());
    // After it: the speed layer's partial sums, added up; each window from one side only.
    const speed = await lakeAtMid.query(
      `SELECT card_id, window_start, sum(txn_count) AS txn_count, sum(total_amount) AS total_amount FROM speed_spend_per_card_minute WHERE window_start + 60000 > ${w} GROUP BY ALL`,
    );
    expect(fromSpeed).toEqual(speed.map(viewRowKey).sort());
    expect(fromBatch.length).toBeGreaterThan(300);
    expect(fromSpeed.length).toBeGreaterThan(300);
    const alerts = await lakeAtMid.query(`SELECT detected_by, count(*) AS n, count(DISTINCT alert_id) AS ids FROM lambda_alerts GROUP BY detected_by ORDER BY detected_by`);
    expect(alerts.map((a) => a.detected_by)).toEqual(['batch', 'speed']);
    for (const a of alerts) expect(a.n).toEqual(a.ids);
  });
});
