import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { KinesisClient, PutRecordsCommand, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { alertRecordSchema } from '../../lambdas/shared/alert';
import { kinesisDecoder } from '../../lambdas/shared/kinesis';
import { kinesisAlertsLog } from '../../lambdas/speed-layer/alerts-log';
import { toCents, validateTransaction } from '../../lambdas/shared/transaction';
import { createSpeedLayerHandler } from '../../lambdas/speed-layer/handler';
import {
  CLUSTER_ARN,
  kinesisEvent,
  mixedBatch,
  mskEvent,
  POISON,
  sequenceNumber,
  T0,
  TOPIC,
  txn,
  VALID_ENV,
  type Payload,
} from './fixtures';

const s3Mock = mockClient(S3Client);
const kinesisMock = mockClient(KinesisClient);
const ALERTS_STREAM = 'tributary-dev-alerts-log';
const NOW = T0 + 300_000;

function setup(options: { stateMaxBytes?: number } = {}) {
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'speed-layer' });
  jest.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics); // keep EMF off the test output
  const addMetric = jest.spyOn(metrics, 'addMetric');
  const handler = createSpeedLayerHandler({
    env: VALID_ENV,
    s3: new S3Client({ region: 'eu-west-1' }),
    alertsLog: kinesisAlertsLog(new KinesisClient({ region: 'eu-west-1' }), ALERTS_STREAM),
    logger: new Logger({ serviceName: 'speed-layer', logLevel: 'SILENT' }),
    metrics,
    clock: () => NOW,
    stateMaxBytes: options.stateMaxBytes,
  });
  const metric = (name: string) => addMetric.mock.calls.filter((c) => c[0] === name).map((c) => c[2]);
  return { handler, metric };
}

const puts = (): PutObjectCommandInput[] => s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
/** Every alert appended to the alerts log, as the notifier will read it: [partition key, alert record]. */
const appended = () =>
  kinesisMock.commandCalls(PutRecordsCommand).flatMap((call) =>
    call.args[0].input.Records!.map((r) => [r.PartitionKey!, JSON.parse(Buffer.from(r.Data!).toString('utf8'))] as const),
  );
const appendedIds = () => appended().map(([, alert]) => alert.alertId);
const putKeys = () => puts().map((p) => p.Key!).sort();
const seq = (position: number) => sequenceNumber(0, position);
const large = (id: string, offsetMs: number) => txn({ txnId: id, amount: 250, eventTime: T0 + offsetMs });

beforeEach(() => {
  s3Mock.reset();
  kinesisMock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
  // A PutRecords answer as Kinesis gives it: one result per record, in request order.
  kinesisMock.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => ({
    FailedRecordCount: 0,
    Records: input.Records!.map((_, i) => ({ ShardId: 'shardId-000000000000', SequenceNumber: `4966${i}` })),
  }));
});

describe('speed-layer handler', () => {
  it('writes the views and the alert to the lake, appends the alert to the alerts log, and returns the window state', async () => {
    const { handler } = setup();
    const response = await handler(kinesisEvent(0, [large('t-1', 0), large('t-2', 1_000), large('t-3', 2_000)], { window: true }));

    const name = `shardId-000000000000-${seq(0)}.json`;
    expect(putKeys()).toEqual([
      `speed/alerts/dt=2026-11-21/hr=21/R1_card-000042_${T0}.json`,
      `speed/spend_per_card_minute/dt=2026-11-21/hr=21/${name}`,
      `speed/spend_per_customer_hour/dt=2026-11-21/hr=21/${name}`,
    ]);
    const cardView = puts().find((p) => p.Key!.includes('spend_per_card_minute'))!;
    expect(cardView).toEqual({
      Bucket: 'tributary-dev-lake-123456789012',
      Key: `speed/spend_per_card_minute/dt=2026-11-21/hr=21/${name}`,
      Body: `{"card_id":"card-000042","window_start":${Date.UTC(2026, 10, 21, 21, 58)},"txn_count":3,"total_amount":750.00}\n`,
      ContentType: 'application/x-ndjson',
    });

    // One record on the alerts log: key = the card, value = the alert record (docs/reference-product.md).
    expect(kinesisMock.commandCalls(PutRecordsCommand).map((c) => c.args[0].input.StreamName)).toEqual([ALERTS_STREAM]);
    expect(appended()).toEqual([
      [
        'card-000042',
        {
          alertId: `R1:card-000042:${T0}`,
          rule: 'R1',
          cardId: 'card-000042',
          customerId: 'cust-000007',
          windowStart: T0,
          txnIds: ['t-1', 't-2', 't-3'],
          detectedBy: 'speed',
          detectedAt: NOW,
        },
      ],
    ]);
    // What the alert notifier accepts (lambdas/shared/alert.ts): the speed layer's alerts are valid alert records.
    expect(alertRecordSchema.safeParse(appended()[0][1]).success).toBe(true);
    expect(response.batchItemFailures).toEqual([]);
    expect(response.state).toMatchObject({ version: 1, maxEventTime: T0 + 2_000 });
    expect(Object.keys(response.state!.cards)).toEqual(['card-000042']);
  });

  it('returns no state when the mapping has no tumbling window', async () => {
    const { handler } = setup();
    expect(await handler(kinesisEvent(0, [txn()]))).toEqual({ batchItemFailures: [] });
  });

  it('answers a window invocation without records with the state it was given, writing nothing', async () => {
    const { handler } = setup();
    const state = { version: 1, maxEventTime: T0, processedThrough: seq(4), cards: { 'card-9': { largePending: [{ txnId: 'x', eventTime: T0 }] } } };
    expect(await handler(kinesisEvent(0, [], { window: true, state }))).toEqual({ batchItemFailures: [], state });
    expect(puts()).toEqual([]);
  });

  it('dead-letters exactly the malformed records and reports none of them: the dead letter is their destination, the rest of the batch goes on', async () => {
    const { handler, metric } = setup();
    const response = await handler(
      kinesisEvent(0, [txn({ txnId: 'a' }), POISON.badJson(1), txn({ txnId: 'c' }), POISON.notUtf8(), txn({ txnId: 'e' })], {
        window: true,
      }),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(putKeys().filter((k) => k.startsWith('deadletter/'))).toEqual([
      `deadletter/speed/dt=2026-11-21/hr=21/shardId-000000000000-${seq(1)}.json`,
      `deadletter/speed/dt=2026-11-21/hr=21/shardId-000000000000-${seq(3)}.json`,
    ]);
    // segment A = [a], segment B = [c, e]
    expect(putKeys().filter((k) => k.includes('spend_per_card_minute'))).toEqual([
      `speed/spend_per_card_minute/dt=2026-11-21/hr=21/shardId-000000000000-${seq(0)}.json`,
      `speed/spend_per_card_minute/dt=2026-11-21/hr=21/shardId-000000000000-${seq(2)}.json`,
    ]);
    expect(response.state!.processedThrough).toBe(seq(4));
    expect(response.state!.cards['card-000042'].previous?.txnId).toBe('e');
    expect(metric('RecordsDeadLettered')).toEqual([2]);
    expect(metric('SegmentsWritten')).toEqual([2]);
  });

  it('carries R1 and R2 across two invocations through the window state', async () => {
    const { handler } = setup();
    const first = await handler(
      kinesisEvent(0, [large('t-1', 0), txn({ txnId: 't-2', amount: 300, country: 'FR', eventTime: T0 + 10_000 })], { window: true }),
    );
    expect(appended()).toHaveLength(0);

    const carried = JSON.parse(JSON.stringify(first.state)); // as Lambda stores it
    await handler(
      kinesisEvent(0, [txn({ txnId: 't-3', amount: 120, country: 'BE', eventTime: T0 + 20_000 })], {
        window: true,
        state: carried,
        firstPosition: 2,
      }),
    );
    const alertIds = appendedIds();
    expect(alertIds).toEqual([`R2:card-000042:${T0 + 10_000}`, `R1:card-000042:${T0}`]);
  });

  it('on a redelivery from the first malformed record (a retry after a timeout), rewrites the later segment byte for byte and appends nothing twice', async () => {
    const { handler } = setup();
    const batch: Payload[] = [large('v0', 0), POISON.badJson(1), large('v2', 1_000), large('v3', 2_000), txn({ txnId: 'v4' })];
    const first = await handler(kinesisEvent(0, batch, { window: true }));
    expect(first.batchItemFailures).toEqual([]);
    const firstPuts = puts().filter((p) => p.Key!.includes(`-${seq(2)}.json`));
    expect(firstPuts).toHaveLength(2); // one object per view for segment B
    expect(appended()).toHaveLength(1); // R1 over v0, v2, v3

    s3Mock.resetHistory();
    kinesisMock.resetHistory();
    // Lambda redelivers from a checkpoint inside the batch, with the state the first invocation returned.
    const retry = await handler(
      kinesisEvent(0, batch.slice(1), { window: true, firstPosition: 1, state: JSON.parse(JSON.stringify(first.state)) }),
    );
    expect(retry.batchItemFailures).toEqual([]);
    expect(puts().filter((p) => p.Key!.includes('/spend_per_'))).toEqual(firstPuts);
    expect(appended()).toHaveLength(0);
    expect(retry.state).toEqual(first.state);
  });

  it('on an S3 failure, reports every record from the unwritten segment on and returns the state as of that record', async () => {
    const { handler, metric } = setup();
    const laterSegment = `-${seq(2)}.json`;
    s3Mock.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      if (input.Key!.endsWith(laterSegment)) throw Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' });
      return {};
    });
    const response = await handler(
      kinesisEvent(0, [txn({ txnId: 'a' }), POISON.schemaViolation(1), txn({ txnId: 'c' }), txn({ txnId: 'd' })], { window: true }),
    );
    // From c, the first record of the unwritten segment; the malformed record before it is in its dead letter.
    expect(response.batchItemFailures).toEqual([seq(2), seq(3)].map((s) => ({ itemIdentifier: s })));
    // c and d will come again: the state must not hold them, or the rules would skip them as redeliveries.
    expect(response.state!.processedThrough).toBe(seq(0));
    expect(response.state!.cards['card-000042'].previous?.txnId).toBe('a');
    expect(metric('SegmentsWritten')).toEqual([1]);
    expect(metric('RecordsRetriedAfterWriteFailure')).toEqual([2]);
  });

  it('when the alerts log refuses the append, has the records that completed the alert redelivered', async () => {
    const { handler, metric } = setup();
    kinesisMock.on(PutRecordsCommand).rejects(Object.assign(new Error('Rate exceeded for stream'), { name: 'ProvisionedThroughputExceededException' }));
    const response = await handler(kinesisEvent(0, [large('t-1', 0), large('t-2', 1_000), large('t-3', 2_000)], { window: true }));
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([seq(0), seq(1), seq(2)]);
    expect(response.state).toEqual({ version: 1, maxEventTime: 0, cards: {} });
    expect(metric('RecordsRetriedAfterWriteFailure')).toEqual([3]);
  });

  it('treats a PutRecords partial failure as a failed write: the unit is redelivered (Kinesis API Reference, PutRecords and PutRecordsResultEntry)', async () => {
    const { handler } = setup();
    // PutRecords answers 200 with FailedRecordCount > 0 and ErrorCode/ErrorMessage on the failed entries, at their request index.
    kinesisMock.on(PutRecordsCommand).resolves({
      FailedRecordCount: 1,
      Records: [
        {
          ErrorCode: 'ProvisionedThroughputExceededException',
          ErrorMessage: 'Rate exceeded for shard shardId-000000000000 in stream tributary-dev-alerts-log under account 123456789012.',
        },
      ],
    });
    const batch = [large('t-1', 0), large('t-2', 1_000), large('t-3', 2_000), txn({ txnId: 't-4', cardId: 'card-9' })];
    const response = await handler(kinesisEvent(0, batch, { window: true }));
    // The whole segment (t-1..t-4) stands or falls together; its views are rewritten under the same keys on redelivery.
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([seq(0), seq(1), seq(2), seq(3)]);
    expect(appendedIds()).toEqual([`R1:card-000042:${T0}`]);
  });

  it('throws when the event is not a Kinesis batch at all, since nothing can be reported', async () => {
    const { handler } = setup();
    await expect(handler({ Records: [{ eventID: 'x' }] } as never)).rejects.toThrow(TypeError);
  });

  it('processes a 10,000-record batch with exactly 1% malformed records', async () => {
    const { handler, metric } = setup();
    const payloads: Payload[] = mixedBatch(10_000, { malformedEvery: 100 });
    const event = kinesisEvent(0, payloads, { window: true });
    const response = await handler(event);

    const records = kinesisDecoder.decode(event);
    const expectedMalformed = records.filter((r) => !validateTransaction(r).valid).map((r) => r.coordinates.sequenceNumber);
    expect(expectedMalformed).toHaveLength(100);
    expect(response.batchItemFailures).toEqual([]);

    const deadLetters = puts().filter((p) => p.Key!.startsWith('deadletter/'));
    expect(deadLetters.map((p) => JSON.parse(p.Body as string).sequence_number)).toEqual(expectedMalformed);
    expect(new Set(deadLetters.map((p) => JSON.parse(p.Body as string).reason))).toEqual(
      new Set(['schema_violation', 'bad_json', 'undecodable']),
    );

    const valid = payloads.filter((p): p is ReturnType<typeof txn> => 'txnId' in p && p.amount > 0);
    expect(valid).toHaveLength(9_900);
    const expectedCents = valid.reduce((sum, t) => sum + toCents(t.amount), 0);
    for (const view of ['spend_per_card_minute', 'spend_per_customer_hour']) {
      const lines = puts()
        .filter((p) => p.Key!.includes(`/${view}/`))
        .flatMap((p) => (p.Body as string).trimEnd().split('\n').map((l) => JSON.parse(l)));
      expect(lines.reduce((sum, l) => sum + l.txn_count, 0)).toBe(9_900);
      expect(lines.reduce((sum, l) => sum + Math.round(l.total_amount * 100), 0)).toBe(expectedCents);
    }
    expect(metric('RecordsIn')).toEqual([10_000]);
    expect(metric('RecordsValid')).toEqual([9_900]);
    expect(metric('RecordsDeadLettered')).toEqual([100]);
    expect(JSON.stringify(response.state).length).toBeLessThanOrEqual(256 * 1024);
  });
});

describe('speed-layer handler with MSK events', () => {
  const partition = (n: number) => `${TOPIC}-${n}`;
  const failure = (n: number, offset: number) => ({ itemIdentifier: { partition: partition(n), offset } });
  const viewKey = (view: string, n: number, first: number) => `speed/${view}/dt=2026-11-21/hr=21/${partition(n)}-${first}.json`;

  it('processes each topic-partition as its own unit, keys named by topic-partition and offsets, no state', async () => {
    const { handler, metric } = setup();
    const response = await handler(
      mskEvent([
        { partition: 0, payloads: [large('t-1', 0), large('t-2', 1_000), large('t-3', 2_000)], firstOffset: 1_000 },
        { partition: 3, payloads: [txn({ txnId: 'u-1', cardId: 'card-7' })], firstOffset: 52 },
      ]),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(putKeys()).toEqual([
      `speed/alerts/dt=2026-11-21/hr=21/R1_card-000042_${T0}.json`,
      viewKey('spend_per_card_minute', 0, 1_000),
      viewKey('spend_per_card_minute', 3, 52),
      viewKey('spend_per_customer_hour', 0, 1_000),
      viewKey('spend_per_customer_hour', 3, 52),
    ]);
    // Every key is S3-safe: only unreserved characters besides the separators.
    expect(putKeys().every((key) => /^[A-Za-z0-9._=/-]+$/.test(key))).toBe(true);
    expect(appendedIds()).toEqual([
      `R1:card-000042:${T0}`,
    ]);
    expect(metric('RecordsIn')).toEqual([3, 1]);
  });

  it('dead-letters poison records of each kind per topic-partition and offset, reporting none', async () => {
    const { handler, metric } = setup();
    const event = mskEvent([
      {
        partition: 0,
        payloads: [txn({ txnId: 'a' }), POISON.schemaViolation(1), txn({ txnId: 'c' }), POISON.badJson(3), txn({ txnId: 'e' })],
        firstOffset: 1_000,
      },
      { partition: 1, payloads: [POISON.notUtf8(), txn({ txnId: 'f' }), POISON.notBase64(), txn({ txnId: 'h' })], firstOffset: 200 },
      { partition: 2, payloads: [txn({ txnId: 'g' }), txn({ txnId: 'tombstone' })], firstOffset: 77 },
    ]);
    event.records[partition(2)][1].value = null;
    const response = await handler(event);

    expect(response).toEqual({
      batchItemFailures: [],
    });
    const deadLetters = puts()
      .filter((p) => p.Key!.startsWith('deadletter/'))
      .map((p) => ({ key: p.Key, ...JSON.parse(p.Body as string) }));
    expect(deadLetters.map((d) => [d.key, d.reason, d.detail.slice(0, 25)])).toEqual([
      [`deadletter/speed/dt=2026-11-21/hr=21/${partition(0)}-1001.json`, 'schema_violation', '/amount must be > 0'],
      [`deadletter/speed/dt=2026-11-21/hr=21/${partition(0)}-1003.json`, 'bad_json', expect.any(String)],
      [`deadletter/speed/dt=2026-11-21/hr=21/${partition(1)}-200.json`, 'undecodable', 'data is not valid UTF-8'],
      [`deadletter/speed/dt=2026-11-21/hr=21/${partition(1)}-202.json`, 'undecodable', 'value is not valid base64'],
      [`deadletter/speed/dt=2026-11-21/hr=21/${partition(2)}-78.json`, 'undecodable', 'value is missing'],
    ]);
    expect(deadLetters[0]).toMatchObject({
      event_source: 'aws:kafka',
      stream: CLUSTER_ARN,
      shard_id: partition(0),
      sequence_number: '1001',
      partition_key: 'card-000042',
      arrival_time: T0 + 2_000 + 1_001 * 7,
      data_base64: event.records[partition(0)][1].value,
    });
    // Each topic-partition is cut at its own first failure: A = [a], B = [c, e]; [f, h] (nothing before 200); [g].
    expect(putKeys().filter((k) => k.includes('spend_per_card_minute'))).toEqual([
      viewKey('spend_per_card_minute', 0, 1_000),
      viewKey('spend_per_card_minute', 0, 1_002),
      viewKey('spend_per_card_minute', 1, 201),
      viewKey('spend_per_card_minute', 2, 77),
    ]);
    expect(metric('RecordsDeadLettered')).toEqual([2, 2, 1]);
  });

  it('on a redelivery from the malformed offset (a retry after a timeout), rewrites the same keys with the same bytes', async () => {
    const { handler } = setup();
    const batch: Payload[] = [large('v0', 0), POISON.badJson(1), large('v2', 1_000), large('v3', 2_000), txn({ txnId: 'v4' })];
    const first = await handler(
      mskEvent([
        { partition: 0, payloads: batch, firstOffset: 1_000 },
        { partition: 1, payloads: [txn({ txnId: 'w0', cardId: 'card-7' })], firstOffset: 500 },
      ]),
    );
    expect(first).toEqual({ batchItemFailures: [] });
    const firstPuts = puts();
    expect(appended()).toHaveLength(1); // R1 over v0, v2, v3

    s3Mock.resetHistory();
    kinesisMock.resetHistory();
    // A redelivery of topic-partition 0 from offset 1001.
    const retry = await handler(mskEvent([{ partition: 0, payloads: batch.slice(1), firstOffset: 1_001 }]));

    expect(retry).toEqual(first);
    expect(putKeys()).toEqual([
      `deadletter/speed/dt=2026-11-21/hr=21/${partition(0)}-1001.json`,
      viewKey('spend_per_card_minute', 0, 1_002),
      viewKey('spend_per_customer_hour', 0, 1_002),
    ]);
    for (const put of puts()) expect(put).toEqual(firstPuts.find((p) => p.Key === put.Key));
    // No window state: v0 is not redelivered, so the retry cannot complete R1 again (the first invocation published it).
    expect(appended()).toHaveLength(0);
  });

  it('on an S3 failure in one topic-partition, has only that partition redelivered from the unwritten segment on', async () => {
    const { handler, metric } = setup();
    s3Mock.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      if (input.Key!.endsWith(`${partition(1)}-201.json`)) throw Object.assign(new Error('Internal error'), { name: 'InternalError' });
      return {};
    });
    const response = await handler(
      mskEvent([
        { partition: 0, payloads: [txn({ txnId: 'a' }), txn({ txnId: 'b' })], firstOffset: 10 },
        { partition: 1, payloads: [POISON.badJson(0), txn({ txnId: 'c' }), txn({ txnId: 'd' })], firstOffset: 200 },
      ]),
    );
    expect(response).toEqual({ batchItemFailures: [failure(1, 201), failure(1, 202)] });
    expect(metric('RecordsRetriedAfterWriteFailure')).toEqual([0, 2]);
  });

  it('gives the same speed view and the same alerts as the same transactions delivered through Kinesis', async () => {
    const { handler } = setup();
    // 1% to 2% poison of every kind; every 13th transaction abroad, so that both R1 and R2 fire.
    const payloads = mixedBatch(1_200, { malformedEvery: 60, cards: 40 }).map((p, i) =>
      'txnId' in p && i % 13 === 0 ? { ...p, country: 'BE' } : p,
    );
    // The producer keys by card, so one card's transactions stay in order on one of 4 partitions.
    const partitionOf = (p: Payload, i: number) => ('cardId' in p ? Number(p.cardId.slice(-6)) % 4 : i % 4);
    const byPartition = [0, 1, 2, 3].map((n) => ({
      partition: n,
      payloads: payloads.filter((p, i) => partitionOf(p, i) === n),
      firstOffset: 3_000 + n * 17,
    }));

    type Rows = Array<Record<string, unknown>>;
    const rowsOf = (prefix: string): Rows =>
      puts()
        .filter((p) => p.Key!.startsWith(prefix))
        .flatMap((p) => (p.Body as string).trimEnd().split('\n').map((line) => JSON.parse(line)));
    /** The serving view: partials summed per key and window start, in cents. */
    const speedView = (view: string, keyColumn: string) => {
      const summed = new Map<string, { txn_count: number; cents: number }>();
      for (const row of rowsOf(`speed/${view}/`)) {
        const id = `${row[keyColumn]}@${row.window_start}`;
        const sum = summed.get(id) ?? { txn_count: 0, cents: 0 };
        sum.txn_count += row.txn_count as number;
        sum.cents += Math.round((row.total_amount as number) * 100);
        summed.set(id, sum);
      }
      return new Map([...summed].sort(([a], [b]) => (a < b ? -1 : 1)));
    };
    const byAlertId = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      String(a.alert_id ?? a.alertId) < String(b.alert_id ?? b.alertId) ? -1 : 1;
    const outcome = (failures: number) => ({
      failures,
      cardMinute: speedView('spend_per_card_minute', 'card_id'),
      customerHour: speedView('spend_per_customer_hour', 'customer_id'),
      alertRows: rowsOf('speed/alerts/').sort(byAlertId),
      alertMessages: appended()
        .map(([, alert]) => alert)
        .sort(byAlertId),
      viewObjects: puts().filter((p) => p.Key!.includes('/spend_per_')).length,
    });

    const kinesisResponse = await handler(kinesisEvent(0, payloads));
    const viaKinesis = outcome(kinesisResponse.batchItemFailures.length);
    s3Mock.resetHistory();
    kinesisMock.resetHistory();
    const mskResponse = await handler(mskEvent(byPartition));
    const viaMsk = outcome(mskResponse.batchItemFailures.length);

    const valid = payloads.filter((p) => 'txnId' in p && p.amount > 0).length;
    expect(viaKinesis.failures).toBe(0);
    expect(payloads.length - valid).toBeGreaterThan(0);
    expect([...viaKinesis.cardMinute.values()].reduce((n, s) => n + s.txn_count, 0)).toBe(valid);
    expect(new Set(viaKinesis.alertRows.map((a) => a.rule))).toEqual(new Set(['R1', 'R2']));
    expect(viaMsk.viewObjects).toBeGreaterThan(viaKinesis.viewObjects); // the MSK partials are spread over 4 partitions

    expect(viaMsk.failures).toBe(viaKinesis.failures);
    expect(viaMsk.cardMinute).toEqual(viaKinesis.cardMinute);
    expect(viaMsk.customerHour).toEqual(viaKinesis.customerHour);
    expect(viaMsk.alertRows).toEqual(viaKinesis.alertRows);
    expect(viaMsk.alertMessages).toEqual(viaKinesis.alertMessages);
  });
});
