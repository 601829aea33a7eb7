import { isMskEvent, mskDecoder } from '../../lambdas/shared/msk';
import { validateTransaction } from '../../lambdas/shared/transaction';
import { CLUSTER_ARN, kinesisEvent, mskEvent, POISON, T0, TOPIC, txn } from './fixtures';

describe('MSK decoder', () => {
  it('turns every Kafka record into a source record: shard = topic-partition, sequence = offset, key = card id', () => {
    const event = mskEvent([
      { partition: 2, payloads: [txn({ txnId: 'a' }), txn({ txnId: 'b', cardId: 'card-9' })], firstOffset: 41 },
      { partition: 0, payloads: [txn({ txnId: 'c' })], firstOffset: 7 },
    ]);
    const records = mskDecoder.decode(event);

    expect(records.map((r) => [r.coordinates.shardId, r.coordinates.sequenceNumber])).toEqual([
      [`${TOPIC}-2`, '41'],
      [`${TOPIC}-2`, '42'],
      [`${TOPIC}-0`, '7'],
    ]);
    expect(records[1].coordinates).toEqual({
      eventSource: 'aws:kafka',
      stream: CLUSTER_ARN,
      shardId: `${TOPIC}-2`,
      sequenceNumber: '42',
      partitionKey: 'card-9',
      arrivalTime: T0 + 2_000 + 42 * 7,
    });
    // The shard id is exactly the key Lambda groups the records under (and expects back in failures).
    expect(Object.keys(event.records)).toEqual([records[0].coordinates.shardId, records[2].coordinates.shardId]);
    expect(JSON.parse(records[1].data.toString('utf8'))).toEqual(txn({ txnId: 'b', cardId: 'card-9' }));
    expect(records[1].encodedData).toBe(event.records[`${TOPIC}-2`][1].value);
    expect(records.map((r) => r.decodeError)).toEqual([undefined, undefined, undefined]);
  });

  it('reads an unkeyed record (key absent or null) with an empty partition key', () => {
    const event = mskEvent([{ partition: 0, payloads: [txn({ txnId: 'a' }), txn({ txnId: 'b' })] }]);
    delete event.records[`${TOPIC}-0`][0].key;
    event.records[`${TOPIC}-0`][1].key = null;
    const records = mskDecoder.decode(event);
    expect(records.map((r) => r.coordinates.partitionKey)).toEqual(['', '']);
    expect(records.map((r) => validateTransaction(r).valid)).toEqual([true, true]);
  });

  it('marks a missing value and a value that is not base64 as undecodable', () => {
    const event = mskEvent([{ partition: 1, payloads: [txn(), POISON.notBase64(), txn()] }]);
    const partition = event.records[`${TOPIC}-1`];
    partition[0].value = null; // a tombstone
    const records = mskDecoder.decode(event);

    expect(records.map((r) => r.decodeError)).toEqual(['value is missing', 'value is not valid base64', undefined]);
    expect(records.slice(0, 2).map((r) => r.data.length)).toEqual([0, 0]);
    expect(records.map((r) => r.encodedData)).toEqual(partition.map((p) => p.value ?? ''));
    expect(records.slice(0, 2).map((r) => validateTransaction(r))).toEqual(
      records.slice(0, 2).map((r) => ({ valid: false, reason: 'undecodable', detail: r.decodeError, errors: [] })),
    );
  });

  it('keeps a record whose key is not text (binary, or not even base64): the key as delivered is its partition key', () => {
    const event = mskEvent([{ partition: 1, payloads: [txn(), txn()] }]);
    const partition = event.records[`${TOPIC}-1`];
    partition[0].key = 'Y2FyZC0%%%';
    partition[1].key = Buffer.from([0x63, 0xff]).toString('base64');
    const records = mskDecoder.decode(event);

    expect(records.map((r) => r.decodeError)).toEqual([undefined, undefined]);
    expect(records.map((r) => r.coordinates.partitionKey)).toEqual(['Y2FyZC0%%%', 'Y/8=']);
    expect(records.map((r) => validateTransaction(r).valid)).toEqual([true, true]);
  });

  it('refuses an event whose topic could not be part of an S3 key (Kafka allows only [A-Za-z0-9._-])', () => {
    const event = mskEvent([{ partition: 0, payloads: [txn()] }]);
    event.records[`${TOPIC}-0`][0].topic = '../speed';
    expect(() => mskDecoder.decode(event)).toThrow(TypeError);
  });

  it('reports failures in the Kafka partial batch response shape: topic-partition and numeric offset', () => {
    const records = mskDecoder.decode(
      mskEvent([
        { partition: 0, payloads: [txn(), txn()], firstOffset: 10 },
        { partition: 3, payloads: [txn()], firstOffset: 5 },
      ]),
    );
    expect(mskDecoder.failureResponse([records[1], records[2]])).toEqual({
      batchItemFailures: [
        { itemIdentifier: { partition: `${TOPIC}-0`, offset: 11 } },
        { itemIdentifier: { partition: `${TOPIC}-3`, offset: 5 } },
      ],
    });
    expect(mskDecoder.failureResponse([])).toEqual({ batchItemFailures: [] });
  });

  it('tells an MSK event from a Kinesis event by its eventSource', () => {
    expect(isMskEvent(mskEvent([{ partition: 0, payloads: [txn()] }]))).toBe(true);
    expect(isMskEvent(kinesisEvent(0, [txn()]))).toBe(false);
  });
});
