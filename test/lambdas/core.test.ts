import { kinesisDecoder } from '../../lambdas/shared/kinesis';
import { processBatch } from '../../lambdas/speed-layer/core';
import { EMPTY_RULE_STATE } from '../../lambdas/speed-layer/rules';
import { kinesisEvent, POISON, sequenceNumber, T0, txn, type Payload } from './fixtures';

const layout = { speedPrefix: 'speed', deadLetterPrefix: 'deadletter/speed' };
const NOW = T0 + 120_000;

function process(shard: number, payloads: Payload[], firstPosition = 0) {
  const records = kinesisDecoder.decode(kinesisEvent(shard, payloads, { firstPosition }));
  return processBatch({ records, ruleState: EMPTY_RULE_STATE, now: NOW, layout });
}

const objectsOf = (result: ReturnType<typeof processBatch>) =>
  Object.fromEntries(result.units.flatMap((unit) => unit.objects).map((o) => [o.key, o.body]));

const seq = (position: number) => sequenceNumber(0, position);

describe('speed views as per-segment partial aggregates', () => {
  it('writes one NDJSON object per view partition, columns as views.json, amounts exact with two decimals', () => {
    const result = process(0, [
      txn({ txnId: 'a', amount: 0.1, eventTime: T0 }),
      txn({ txnId: 'b', amount: 0.2, eventTime: T0 + 5_000 }),
      txn({ txnId: 'c', amount: 100, cardId: 'card-7', eventTime: T0 + 95_000 }), // 22:00:05, next hour
    ]);
    // Each partition's object is named by the segment's first record in that partition.
    const name21 = `shardId-000000000000-${seq(0)}.json`;
    const name22 = `shardId-000000000000-${seq(2)}.json`;
    expect(objectsOf(result)).toEqual({
      [`speed/spend_per_card_minute/dt=2026-11-21/hr=21/${name21}`]:
        `{"card_id":"card-000042","window_start":${Date.UTC(2026, 10, 21, 21, 58)},"txn_count":2,"total_amount":0.30}\n`,
      [`speed/spend_per_card_minute/dt=2026-11-21/hr=22/${name22}`]:
        `{"card_id":"card-7","window_start":${Date.UTC(2026, 10, 21, 22, 0)},"txn_count":1,"total_amount":100.00}\n`,
      [`speed/spend_per_customer_hour/dt=2026-11-21/hr=21/${name21}`]:
        `{"customer_id":"cust-000007","window_start":${Date.UTC(2026, 10, 21, 21)},"txn_count":2,"total_amount":0.30}\n`,
      [`speed/spend_per_customer_hour/dt=2026-11-21/hr=22/${name22}`]:
        `{"customer_id":"cust-000007","window_start":${Date.UTC(2026, 10, 21, 22)},"txn_count":1,"total_amount":100.00}\n`,
    });
    expect(result.segmentCount).toBe(1);
    expect(result.malformed).toEqual([]);
  });

  it('keeps the objects of different shards apart, even for the same window and card', () => {
    const keys = [0, 1, 2].flatMap((shard) => Object.keys(objectsOf(process(shard, [txn({ txnId: `s${shard}` })]))));
    expect(new Set(keys).size).toBe(6);
    expect(keys.filter((k) => k.includes('spend_per_card_minute'))).toEqual([
      `speed/spend_per_card_minute/dt=2026-11-21/hr=21/shardId-000000000000-${sequenceNumber(0, 0)}.json`,
      `speed/spend_per_card_minute/dt=2026-11-21/hr=21/shardId-000000000001-${sequenceNumber(1, 0)}.json`,
      `speed/spend_per_card_minute/dt=2026-11-21/hr=21/shardId-000000000002-${sequenceNumber(2, 0)}.json`,
    ]);
  });

  it('counts a transaction delivered twice in a batch once', () => {
    const result = process(0, [txn({ txnId: 'a', amount: 10 }), txn({ txnId: 'a', amount: 10 }), txn({ txnId: 'b', amount: 1 })]);
    const card = Object.entries(objectsOf(result)).find(([key]) => key.includes('spend_per_card_minute'))![1];
    expect(JSON.parse(card)).toMatchObject({ txn_count: 2, total_amount: 11 });
    expect(card).toContain('"total_amount":11.00');
    expect(result.viewDuplicates).toBe(1);
    expect(result.ruleDuplicates).toBe(1);
  });
});

describe('malformed records', () => {
  const batch: Payload[] = [
    txn({ txnId: 'v0' }),
    POISON.schemaViolation(1),
    POISON.badJson(2),
    POISON.notUtf8(),
    POISON.notBase64(),
    txn({ txnId: 'v5' }),
  ];

  it('are each dead-lettered under a deterministic key with reason, details, coordinates and raw data', () => {
    const result = process(0, batch);
    expect(result.malformed.map((m) => [m.index, m.reason])).toEqual([
      [1, 'schema_violation'],
      [2, 'bad_json'],
      [3, 'undecodable'],
      [4, 'undecodable'],
    ]);
    const deadLetters = result.units.filter((u) => u.kind === 'dead_letter');
    expect(deadLetters.map((u) => u.objects[0].key)).toEqual(
      [1, 2, 3, 4].map((p) => `deadletter/speed/dt=2026-11-21/hr=21/shardId-000000000000-${seq(p)}.json`),
    );
    const event = kinesisEvent(0, batch);
    expect(JSON.parse(deadLetters[0].objects[0].body)).toEqual({
      reason: 'schema_violation',
      detail: '/amount must be > 0',
      errors: [{ path: '/amount', message: 'must be > 0' }],
      event_source: 'aws:kinesis',
      stream: event.Records[1].eventSourceARN,
      shard_id: 'shardId-000000000000',
      sequence_number: seq(1),
      partition_key: 'card-000042',
      arrival_time: T0 + 2_000 + 7,
      data_base64: event.Records[1].kinesis.data,
    });
    expect(JSON.parse(deadLetters[1].objects[0].body).detail).toMatch(/JSON/);
    expect(JSON.parse(deadLetters[3].objects[0].body)).toMatchObject({ detail: 'data is not valid base64', data_base64: 'eyJ0eG5JZCI6%%%' });
  });

  it('split the outputs at the first one into a segment before and a segment after', () => {
    const result = process(0, batch);
    const segments = result.units.filter((u) => u.kind === 'segment');
    expect(segments.map((s) => s.resumeIndex)).toEqual([0, 5]);
    expect(segments[0].objects[0].key).toContain(`shardId-000000000000-${seq(0)}.json`);
    expect(segments[1].objects[0].key).toContain(`shardId-000000000000-${seq(5)}.json`);
    expect(result.validCount).toBe(2);
  });
});

describe('redelivery from the first failed record', () => {
  const batch: Payload[] = [
    txn({ txnId: 'v0', amount: 150, eventTime: T0 }),
    txn({ txnId: 'v1', amount: 150, eventTime: T0 + 1_000 }),
    POISON.badJson(2),
    txn({ txnId: 'v3', amount: 150, eventTime: T0 + 2_000 }), // completes R1 with v0 and v1
    txn({ txnId: 'v3', amount: 150, eventTime: T0 + 2_000 }), // duplicate
    POISON.schemaViolation(5),
    txn({ txnId: 'v6', amount: 12.34, cardId: 'card-9', country: 'DE', eventTime: T0 + 61_000 }),
  ];

  it('rewrites the later segment under the same keys with the same bytes', () => {
    const first = process(0, batch);
    const laterSegment = first.units.find((u) => u.kind === 'segment' && u.resumeIndex === 3)!;
    expect(laterSegment.objects.map((o) => o.key)).toContain(
      `speed/spend_per_card_minute/dt=2026-11-21/hr=21/shardId-000000000000-${seq(3)}.json`,
    );

    // Lambda checkpoints below the lowest reported record (position 2) and redelivers from there.
    const retry = process(0, batch.slice(2), 2);
    const retrySegments = retry.units.filter((u) => u.kind === 'segment');
    expect(retrySegments).toHaveLength(1);
    const viewObjects = (objects: { key: string; body: string }[]) => objects.filter((o) => !o.key.includes('/alerts/'));
    expect(viewObjects(retrySegments[0].objects)).toEqual(viewObjects(laterSegment.objects));
    expect(retry.malformed.map((m) => m.record.coordinates.sequenceNumber)).toEqual([seq(2), seq(5)]);
    // The dead letters are rewritten under the same keys too.
    expect(retry.units.filter((u) => u.kind === 'dead_letter').map((u) => u.objects[0])).toEqual(
      first.units.filter((u) => u.kind === 'dead_letter').map((u) => u.objects[0]),
    );
  });

  it('attaches an alert to the segment of the record that completed it, with a key derived from its id', () => {
    const first = process(0, batch);
    const laterSegment = first.units.find((u) => u.resumeIndex === 3)!;
    expect(laterSegment.alerts.map((a) => a.alertId)).toEqual([`R1:card-000042:${T0}`]);
    const alertObject = laterSegment.objects.find((o) => o.key.includes('/alerts/'))!;
    expect(alertObject.key).toBe(`speed/alerts/dt=2026-11-21/hr=21/R1_card-000042_${T0}.json`);
    expect(alertObject.body).toBe(
      `{"alert_id":"R1:card-000042:${T0}","rule":"R1","card_id":"card-000042","customer_id":"cust-000007",` +
        `"window_start":${T0},"txn_ids":["v0","v1","v3"],"detected_by":"speed","detected_at":${NOW}}\n`,
    );
  });

  it('knows the rule state as of any record, for when writing from that record on fails', () => {
    const first = process(0, batch);
    const beforeV3 = first.stateBefore(3).state;
    expect(beforeV3.processedThrough).toBe(seq(1));
    expect(beforeV3.cards['card-000042'].largePending.map((t) => t.txnId)).toEqual(['v0', 'v1']);
    expect(first.state.state.processedThrough).toBe(seq(6));
    expect(first.state.state.cards['card-000042'].largePending).toEqual([]); // consumed by the R1 match
  });
});
