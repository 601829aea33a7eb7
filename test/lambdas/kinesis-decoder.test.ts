import { kinesisDecoder, readTumblingWindow } from '../../lambdas/shared/kinesis';
import { kinesisEvent, sequenceNumber, shardId, STREAM_ARN, T0, txn } from './fixtures';

describe('Kinesis decoder', () => {
  it('turns every Kinesis record into a source record with its coordinates and bytes', () => {
    const event = kinesisEvent(3, [txn({ txnId: 'a' }), txn({ txnId: 'b', cardId: 'card-9' })], { firstPosition: 10 });
    const records = kinesisDecoder.decode(event);
    expect(records).toHaveLength(2);
    expect(records[1].coordinates).toEqual({
      eventSource: 'aws:kinesis',
      stream: STREAM_ARN,
      shardId: 'shardId-000000000003',
      sequenceNumber: sequenceNumber(3, 11),
      partitionKey: 'card-9',
      arrivalTime: T0 + 2_000 + 11 * 7,
    });
    expect(JSON.parse(records[1].data.toString('utf8'))).toEqual(txn({ txnId: 'b', cardId: 'card-9' }));
    expect(records[1].encodedData).toBe(event.Records[1].kinesis.data);
    expect(records[1].decodeError).toBeUndefined();
  });

  it('takes the shard from the tumbling-window event when present, else from eventID', () => {
    const withWindow = kinesisEvent(1, [txn()], { window: true });
    withWindow.Records[0].eventID = 'shardId-000000000099:x'; // the top-level shardId wins
    expect(kinesisDecoder.decode(withWindow)[0].coordinates.shardId).toBe('shardId-000000000001');
    expect(kinesisDecoder.decode(kinesisEvent(7, [txn()]))[0].coordinates.shardId).toBe(shardId(7));
  });

  it('marks data that is not base64 instead of decoding garbage', () => {
    const [record] = kinesisDecoder.decode(kinesisEvent(0, [{ base64: 'eyJ0eG5JZCI6%%%' }]));
    expect(record.decodeError).toBe('data is not valid base64');
    expect(record.data).toHaveLength(0);
  });

  it('reports failures in the Kinesis partial batch response shape', () => {
    const records = kinesisDecoder.decode(kinesisEvent(2, [txn(), txn(), txn()]));
    expect(kinesisDecoder.failureResponse([records[1], records[2]])).toEqual({
      batchItemFailures: [{ itemIdentifier: sequenceNumber(2, 1) }, { itemIdentifier: sequenceNumber(2, 2) }],
    });
    expect(kinesisDecoder.failureResponse([])).toEqual({ batchItemFailures: [] });
  });

  it('reads the tumbling window only when the event has one', () => {
    expect(readTumblingWindow(kinesisEvent(0, [txn()]))).toBeUndefined();
    const event = kinesisEvent(0, [txn()], { window: true, state: { version: 1 } });
    event.isFinalInvokeForWindow = true;
    expect(readTumblingWindow(event)).toEqual({
      start: '2026-11-21T21:55:00Z',
      end: '2026-11-21T22:10:00Z',
      state: { version: 1 },
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: false,
    });
  });
});
