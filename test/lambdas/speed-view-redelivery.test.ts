import { kinesisDecoder } from '../../lambdas/shared/kinesis';
import type { SourceRecord } from '../../lambdas/shared/source-record';
import { processBatch } from '../../lambdas/speed-layer/core';
import { EMPTY_RULE_STATE } from '../../lambdas/speed-layer/rules';
import { kinesisEvent, T0, txn, type Payload } from './fixtures';

/**
 * Issue 16, the speed view's double count: one shard's log replayed through the core the way the event source
 * mapping redelivers it, with batches that end anywhere, writes that partly fail (the records from the first
 * unwritten unit on come again, in a batch that may end elsewhere), and crashes in the middle of the writes
 * followed by bisection (the halves are processed as batches of their own). The lake overwrites by key, as S3
 * does. However the deliveries fall, the views must count every valid record exactly once.
 */

const layout = { speedPrefix: 'speed', deadLetterPrefix: 'deadletter/speed' };

/** A small deterministic generator (mulberry32). */
function random(seed: number) {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** A shard of `size` records around an hour boundary, out of order by up to 20 min, every 9th malformed. */
function shardLog(rand: (n: number) => number, size: number): SourceRecord[] {
  const payloads: Payload[] = Array.from({ length: size }, (_, i) =>
    i % 9 === 4
      ? { raw: Buffer.from('{') }
      : txn({ txnId: `t-${i}`, cardId: `card-${rand(4)}`, customerId: `cust-${rand(3)}`, amount: 1 + rand(50), eventTime: T0 + rand(2_400_000) - 600_000 }),
  );
  return kinesisDecoder.decode(kinesisEvent(0, payloads));
}

type Lake = Map<string, string>;

/** Process one batch; write each object unless `fails` says otherwise. Returns the index (in `records`) to resume from. */
function deliver(lake: Lake, records: readonly SourceRecord[], fails: () => boolean): number {
  const result = processBatch({ records, ruleState: EMPTY_RULE_STATE, now: T0, layout });
  const written = result.units.map((unit) => unit.objects.map((object) => (fails() ? false : (lake.set(object.key, object.body), true))).every(Boolean));
  const firstUnwritten = result.units.find((_, i) => !written[i]);
  return firstUnwritten?.resumeIndex ?? records.length;
}

/** The views' counts per card and per customer, summed over every object in the lake. */
function counted(lake: Lake) {
  const totals = new Map<string, number>();
  for (const [key, body] of lake) {
    const view = key.split('/')[1];
    if (!view.startsWith('spend_per_')) continue;
    for (const row of body.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string | number>)) {
      const id = `${view}:${row.card_id ?? row.customer_id}`;
      totals.set(id, (totals.get(id) ?? 0) + Number(row.txn_count));
    }
  }
  return totals;
}

function truth(log: readonly SourceRecord[]) {
  const totals = new Map<string, number>();
  for (const record of log) {
    let t: { cardId: string; customerId: string };
    try {
      t = JSON.parse(record.data.toString());
    } catch {
      continue;
    }
    for (const id of [`spend_per_card_minute:${t.cardId}`, `spend_per_customer_hour:${t.customerId}`]) totals.set(id, (totals.get(id) ?? 0) + 1);
  }
  return totals;
}

/** The mapping's behaviour for one shard: batches from the checkpoint, retries that end elsewhere, bisection after a crash. */
function replay(seed: number) {
  const rand = random(seed);
  const log = shardLog(rand, 40 + rand(40));
  const lake: Lake = new Map();
  const fails = () => rand(10) < 3;
  let checkpoint = 0;
  while (checkpoint < log.length) {
    const end = Math.min(log.length, checkpoint + 1 + rand(20));
    const batch = log.slice(checkpoint, end);
    const scenario = rand(3);
    if (scenario === 0) {
      checkpoint += deliver(lake, batch, () => false);
    } else if (scenario === 1) {
      // Some writes fail: Lambda redelivers from the first unwritten unit, in a batch that may end elsewhere.
      checkpoint += deliver(lake, batch, fails);
    } else {
      // A crash in the middle of the writes, then BisectBatchOnFunctionError: each half is a batch of its own.
      deliver(lake, batch, fails);
      const mid = Math.ceil(batch.length / 2);
      for (const half of [batch.slice(0, mid), batch.slice(mid)]) {
        let done = 0;
        // Each half fails and is redelivered like any batch, its retries ending anywhere within it.
        while (done < half.length) done += deliver(lake, half.slice(done, done + 1 + rand(half.length)), fails);
      }
      checkpoint = end;
    }
  }
  return { counted: counted(lake), truth: truth(log) };
}

describe('speed views under redelivery', () => {
  it.each(Array.from({ length: 200 }, (_, i) => i + 1))('seed %i: every valid record is counted exactly once', (seed) => {
    const { counted: views, truth: expected } = replay(seed);
    expect(Object.fromEntries([...views].sort())).toEqual(Object.fromEntries([...expected].sort()));
  });
});
