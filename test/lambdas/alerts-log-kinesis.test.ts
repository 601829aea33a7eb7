import * as fs from 'node:fs';
import { CreateStreamCommand, DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { AlertsLogWriteError, kinesisAlertsLog, PUT_RECORDS_MAX_ENTRIES } from '../../lambdas/speed-layer/alerts-log';
import type { Alert } from '../../lambdas/speed-layer/rules';
import { Supervisor, startKinesis } from '../../sandbox/engines';
import { kinesisClient } from '../../sandbox/log/kinesis';
import type { SandboxSettings } from '../../sandbox/settings';
import { testSettings } from '../helpers/sandbox';
import { alertRecord, T0 } from './fixtures';

/**
 * The speed layer's Kinesis alerts-log writer against kinesis-local (the sandbox's stand-in for Kinesis Data
 * Streams), read back with GetRecords; and, on the SDK mock, the one answer kinesis-local never gives: a
 * PutRecords partial failure, in the shape the Kinesis API Reference documents (PutRecords, PutRecordsResultEntry).
 */

const STREAM = 'tributary-alerts-log';
let settings: SandboxSettings;
let supervisor: Supervisor;
let client: KinesisClient;

const speedAlert = (overrides: Parameters<typeof alertRecord>[0]) => alertRecord(overrides) as Alert;

describe('on kinesis-local', () => {
  beforeAll(async () => {
    settings = await testSettings('tributary-alerts-log-kinesis');
    supervisor = new Supervisor(settings, { stopTimeoutMs: 10_000 });
    await startKinesis(supervisor, settings);
    client = kinesisClient(settings);
    await client.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 2 }));
    for (let i = 0; i < 100; i += 1) {
      const { StreamDescriptionSummary } = await client.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
      if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 120_000);

  afterAll(async () => {
    client?.destroy();
    await supervisor?.stopAll();
    fs.rmSync(settings.home, { recursive: true, force: true });
  }, 60_000);

  async function readStream(): Promise<Array<{ shardId: string; partitionKey: string; alert: Record<string, unknown> }>> {
    const { Shards } = await client.send(new ListShardsCommand({ StreamName: STREAM }));
    const out: Array<{ shardId: string; partitionKey: string; alert: Record<string, unknown> }> = [];
    for (const shard of Shards ?? []) {
      let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      for (let page = 0; iterator && page < 10; page += 1) {
        const { Records, NextShardIterator, MillisBehindLatest } = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        for (const r of Records ?? []) out.push({ shardId: shard.ShardId!, partitionKey: r.PartitionKey!, alert: JSON.parse(Buffer.from(r.Data!).toString('utf8')) });
        if (MillisBehindLatest === 0 && (Records ?? []).length === 0) break;
        iterator = NextShardIterator;
      }
    }
    return out;
  }

  it('appends every alert with the card as partition key and the alert JSON as data, 500 records per PutRecords at most', async () => {
    const log = kinesisAlertsLog(client, STREAM);
    // 501 alerts over 7 cards: two PutRecords calls, one card's alerts in order on one shard.
    const alerts = Array.from({ length: PUT_RECORDS_MAX_ENTRIES + 1 }, (_, i) => speedAlert({ cardId: `card-${i % 7}`, windowStart: T0 + i * 1_000 }));
    const sends = jest.spyOn(client, 'send');
    await log.append(alerts);
    expect(sends.mock.calls.map(([command]) => (command as PutRecordsCommand).input.Records!.length)).toEqual([500, 1]);
    sends.mockRestore();

    const records = await readStream();
    expect(records).toHaveLength(alerts.length);
    expect(records.every((r) => r.partitionKey === r.alert.cardId)).toBe(true);
    expect(records.map((r) => r.alert).sort((a, b) => Number(a.windowStart) - Number(b.windowStart))).toEqual(alerts);
    for (let card = 0; card < 7; card += 1) {
      const mine = records.filter((r) => r.partitionKey === `card-${card}`);
      expect(new Set(mine.map((r) => r.shardId)).size).toBe(1);
      const starts = mine.map((r) => Number(r.alert.windowStart));
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
    }
  }, 60_000);

  it('rejects when the stream does not exist', async () => {
    await expect(kinesisAlertsLog(client, 'no-such-stream').append([speedAlert({})])).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('PutRecords partial failure (Kinesis API Reference: PutRecords, PutRecordsResultEntry)', () => {
  // Made here, not at collection time: mockClient replaces send on every KinesisClient until restored.
  let kinesisMock: ReturnType<typeof mockClient>;
  beforeAll(() => {
    kinesisMock = mockClient(KinesisClient);
  });
  afterAll(() => kinesisMock.restore());

  it('rejects naming each refused alert and its ErrorCode, though the call itself succeeded', async () => {
    const alerts = [speedAlert({ cardId: 'card-1' }), speedAlert({ cardId: 'card-2' }), speedAlert({ cardId: 'card-3' })];
    kinesisMock.on(PutRecordsCommand).resolves({
      FailedRecordCount: 2,
      Records: [
        { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal Service Failure' },
        { ShardId: 'shardId-000000000001', SequenceNumber: '49667000000000000000000000000000000000000000000000000001' },
        { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000000 in stream tributary-alerts-log under account 123456789012.' },
      ],
    });
    const error = await kinesisAlertsLog(new KinesisClient({ region: 'eu-west-1' }), STREAM).append(alerts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlertsLogWriteError);
    expect((error as AlertsLogWriteError).message).toBe(`PutRecords to ${STREAM}: 2 of 3 alerts refused (InternalFailure)`);
    expect((error as AlertsLogWriteError).refused.map((r) => [r.alertId, r.errorCode])).toEqual([
      [alerts[0].alertId, 'InternalFailure'],
      [alerts[2].alertId, 'ProvisionedThroughputExceededException'],
    ]);
  });
});
