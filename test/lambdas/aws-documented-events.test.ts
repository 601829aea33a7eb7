import { Logger } from '@aws-lambda-powertools/logger';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeEvent, UnsupportedEventSourceError } from '../../lambdas/shared/event-source';
import { kinesisDecoder, readTumblingWindow, type KinesisEvent } from '../../lambdas/shared/kinesis';
import { mskDecoder, type MskEvent } from '../../lambdas/shared/msk';
import { T0, txn } from './fixtures';
import { silentSpeedLayerHandler } from './speed-layer-harness';

/**
 * The decoders and the speed-layer handler on event shapes exactly as AWS documents them (issue 16, part 4).
 * Each event below is written out from the page named above it, values unchanged; where a page was read
 * through a copy (a translation of the same page, or Powertools' reference that reproduces it), the copy is
 * named too. The documented payloads are not transactions ("Hello, this is a test.", {"key":"value"}), so the
 * handler must dead-letter them and go on; a second run puts a Tributary transaction into the same envelope.
 */

const s3Mock = mockClient(S3Client);
const NOW = T0 + 300_000;

const handler = (logger?: Logger) =>
  silentSpeedLayerHandler({ now: NOW, env: { LAKE_BUCKET_NAME: 'lake', SPEED_PREFIX: 'speed', DEAD_LETTER_PREFIX: 'deadletter/speed' }, logger });
const puts = () => s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
const deadLetterOf = (key: string) => JSON.parse(String(puts().find((p) => p.Key === key)?.Body));
const asData = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

beforeEach(() => s3Mock.reset().on(PutObjectCommand).resolves({}));

describe('Kinesis: the Lambda developer guide, "Using AWS Lambda with Kinesis", Example Kinesis Record Event (an earlier revision, without approximateArrivalTimestamp)', () => {
  // Source: https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html (earlier revision of the page, as stored).
  // The same shape as the Java library's sample event: no approximateArrivalTimestamp.
  const documented = (): KinesisEvent =>
    ({
      Records: [
        {
          kinesis: {
            partitionKey: 'partitionKey-3',
            kinesisSchemaVersion: '1.0',
            data: 'SGVsbG8sIHRoaXMgaXMgYSB0ZXN0IDEyMy4=',
            sequenceNumber: '49545115243490985018280067714973144582180062593244200961',
          },
          eventSource: 'aws:kinesis',
          eventID: 'shardId-000000000000:49545115243490985018280067714973144582180062593244200961',
          invokeIdentityArn: 'arn:aws:iam::account-id:role/testLEBRole',
          eventVersion: '1.0',
          eventName: 'aws:kinesis:record',
          eventSourceARN: 'arn:aws:kinesis:us-west-2:35667example:stream/examplestream',
          awsRegion: 'us-west-2',
        },
      ],
    }) as unknown as KinesisEvent;

  it('decodes with the shard from eventID and an unknown arrival time', () => {
    const [record] = kinesisDecoder.decode(documented());
    expect(record.coordinates).toEqual({
      eventSource: 'aws:kinesis',
      stream: 'arn:aws:kinesis:us-west-2:35667example:stream/examplestream',
      shardId: 'shardId-000000000000',
      sequenceNumber: '49545115243490985018280067714973144582180062593244200961',
      partitionKey: 'partitionKey-3',
      arrivalTime: undefined,
    });
    expect(record.data.toString()).toBe('Hello, this is a test 123.');
  });

  it('dead-letters its payload under the processing hour (this event threw RangeError: Invalid time value before)', async () => {
    await expect(handler()(documented())).resolves.toEqual({ batchItemFailures: [] });
    const key = 'deadletter/speed/dt=2026-11-21/hr=22/shardId-000000000000-49545115243490985018280067714973144582180062593244200961.json';
    expect(deadLetterOf(key)).toMatchObject({ reason: 'bad_json', arrival_time: null, partition_key: 'partitionKey-3' });
  });
});

describe('Kinesis: the Lambda developer guide, "Using Lambda with Kinesis Data Streams", example event', () => {
  // Source: https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html (current page), as reproduced in
  // Powertools' parser reference (https://docs.aws.amazon.com/powertools/typescript/2.16.0/api/types/_aws-lambda-powertools_parser.types.KinesisDataStreamEvent.html).
  // That copy breaks off at invokeIdentityArn; the last three fields are those of the tumbling-window example below.
  const documented = (data = 'SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg=='): KinesisEvent => ({
    Records: [
      {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: '1',
          sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
          data,
          approximateArrivalTimestamp: 1545084650.987,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: 'shardId-000000000006:49590338271490256608559692538361571095921575989136588898',
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-kinesis-role',
        awsRegion: 'us-east-1',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream',
      },
    ],
  });

  it('reads the arrival time in seconds as epoch milliseconds, and dead-letters "Hello, this is a test." under its arrival hour', async () => {
    expect(kinesisDecoder.decode(documented())[0].coordinates.arrivalTime).toBe(1545084650987);
    await expect(handler()(documented())).resolves.toEqual({ batchItemFailures: [] });
    expect(puts().map((p) => p.Key)).toEqual([
      'deadletter/speed/dt=2018-12-17/hr=22/shardId-000000000006-49590338271490256608559692538361571095921575989136588898.json',
    ]);
  });

  it('counts a transaction carried in the same envelope', async () => {
    await expect(handler()(documented(asData(txn({ txnId: 'doc-1', amount: 12.34 }))))).resolves.toEqual({ batchItemFailures: [] });
    const view = puts().find((p) => p.Key!.startsWith('speed/spend_per_card_minute/'))!;
    expect(view.Key).toContain('/shardId-000000000006-49590338271490256608559692538361571095921575989136588898.json');
    expect(String(view.Body)).toContain('"txn_count":1,"total_amount":12.34');
  });
});

describe('Kinesis: the Lambda developer guide, tumbling windows, Example KinesisTimeWindowEvent', () => {
  // Source: https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html (read through its China-region
  // copy https://docs.amazonaws.cn/lambda/latest/dg/services-kinesis-windows.html and the event as quoted in
  // https://github.com/aws-powertools/powertools-lambda-typescript/issues/3915).
  const documented = (): KinesisEvent => ({
    Records: [
      {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: '1',
          sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
          data: 'SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==',
          approximateArrivalTimestamp: 1607497475.0,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: 'shardId-000000000006:49590338271490256608559692538361571095921575989136588898',
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::123456789012:role/lambda-kinesis-role',
        awsRegion: 'us-east-1',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream',
      },
    ],
    window: { start: '2020-12-09T07:04:00Z', end: '2020-12-09T07:06:00Z' },
    state: { '1': 282, '2': 715 },
    shardId: 'shardId-000000000006',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream',
    isFinalInvokeForWindow: false,
    isWindowTerminatedEarly: false,
  });

  it('reads the window fields', () => {
    expect(readTumblingWindow(documented())).toEqual({
      start: '2020-12-09T07:04:00Z',
      end: '2020-12-09T07:06:00Z',
      state: { '1': 282, '2': 715 },
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
    });
    expect(kinesisDecoder.decode(documented())[0].coordinates.shardId).toBe('shardId-000000000006');
  });

  it('treats the documented state (not ours) as unreadable: warns, starts the window afresh, and answers with state', async () => {
    const logger = new Logger({ serviceName: 'speed-layer', logLevel: 'SILENT' });
    const warn = jest.spyOn(logger, 'warn');
    const response = await handler(logger)(documented());
    expect(warn).toHaveBeenCalledWith('Unreadable window state; starting the window afresh', expect.anything());
    expect(response).toEqual({ batchItemFailures: [], state: expect.objectContaining({ version: 1, cards: {} }) });
    expect(puts().map((p) => p.Key)).toEqual([expect.stringMatching(/^deadletter\/speed\/dt=2020-12-09\/hr=07\/shardId-000000000006-/)]);
  });
});

describe('Amazon MSK: the Lambda developer guide, "Using Lambda with Amazon MSK", example event (with Kafka headers)', () => {
  // Source: https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html (read through its Korean copy
  // https://docs.aws.amazon.com/ko_kr/lambda/latest/dg/with-msk.html; the record after "timesta" as in Powertools'
  // reference https://docs.aws.amazon.com/powertools/typescript/2.14.0/api/types/_aws-lambda-powertools_parser.types.KafkaMskEvent.html).
  const documented = (value = 'eyJrZXkiOiJ2YWx1ZSJ9'): MskEvent => ({
    eventSource: 'aws:kafka',
    eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2',
    bootstrapServers: 'b-2.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092,b-1.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092',
    records: {
      'mytopic-0': [
        {
          topic: 'mytopic',
          partition: 0,
          offset: 15,
          timestamp: 1545084650987,
          timestampType: 'CREATE_TIME',
          key: 'cmVjb3JkS2V5',
          value,
          headers: [{ headerKey: [104, 101, 97, 100, 101, 114, 86, 97, 108, 117, 101] }],
        },
      ],
    },
  });

  it('decodes topic-partition, offset, key, timestamp; the headers are carried but not read', () => {
    const event = documented();
    const [record] = mskDecoder.decode(event);
    expect(record.coordinates).toEqual({
      eventSource: 'aws:kafka',
      stream: 'arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2',
      shardId: 'mytopic-0',
      sequenceNumber: '15',
      partitionKey: 'recordKey',
      arrivalTime: 1545084650987,
    });
    expect(record.data.toString()).toBe('{"key":"value"}');
    expect(Buffer.from(event.records['mytopic-0'][0].headers[0].headerKey).toString()).toBe('headerValue');
    expect(mskDecoder.failureResponse([record])).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 'mytopic-0', offset: 15 } }] });
  });

  it('dead-letters {"key":"value"} as a schema violation and reports nothing', async () => {
    await expect(handler()(documented())).resolves.toEqual({ batchItemFailures: [] });
    expect(deadLetterOf('deadletter/speed/dt=2018-12-17/hr=22/mytopic-0-15.json')).toMatchObject({
      reason: 'schema_violation',
      event_source: 'aws:kafka',
      partition_key: 'recordKey',
      arrival_time: 1545084650987,
    });
  });

  it('counts a transaction carried in the same envelope', async () => {
    await expect(handler()(documented(asData(txn({ txnId: 'doc-2', amount: 7 }))))).resolves.toEqual({ batchItemFailures: [] });
    expect(puts().some((p) => p.Key!.startsWith('speed/spend_per_card_minute/') && p.Key!.endsWith('/mytopic-0-15.json'))).toBe(true);
  });
});

describe('Self-managed Apache Kafka: the documented example event', () => {
  // Source: https://docs.aws.amazon.com/lambda/latest/dg/with-kafka.html (example event), as reproduced in
  // Powertools' reference https://docs.aws.amazon.com/powertools/typescript/2.13.0/api/types/_aws-lambda-powertools_parser.types.KafkaSelfManagedEvent.html.
  const documented = {
    eventSource: 'SelfManagedKafka',
    bootstrapServers: 'b-2.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092,b-1.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092',
    records: {
      'mytopic-0': [
        {
          topic: 'mytopic',
          partition: 0,
          offset: 15,
          timestamp: 1545084650987,
          timestampType: 'CREATE_TIME',
          key: 'cmVjb3JkS2V5',
          value: 'eyJrZXkiOiJ2YWx1ZSJ9',
          headers: [{ headerKey: [104, 101, 97, 100, 101, 114, 86, 97, 108, 117, 101] }],
        },
      ],
    },
  };

  it('is refused as an unsupported event source, by name, before any record is decoded', async () => {
    expect(() => decodeEvent(documented as unknown as MskEvent)).toThrow(UnsupportedEventSourceError);
    await expect(handler()(documented as unknown as KinesisEvent)).rejects.toThrow('Unsupported event source "SelfManagedKafka"');
    expect(puts()).toEqual([]);
  });
});
