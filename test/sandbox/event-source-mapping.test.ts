import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kinesisDecoder, readTumblingWindow, type KinesisEvent } from '../../lambdas/shared/kinesis';
import { isMskEvent, mskDecoder, type MskEvent } from '../../lambdas/shared/msk';
import { defaultConfig } from '../../lib/config';
import type { LogReader, LogRecord } from '../../sandbox/log/types';
import {
  EventSourceMapping,
  kinesisEventFormat,
  mappingOptionsFromConfig,
  notifierMappingOptions,
  mskEventFormat,
  type EventFormat,
  type EventSourceMappingOptions,
  type MappingHandler,
  type OnFailureRecord,
} from '../../sandbox/stand-ins/event-source-mapping';

/**
 * The event source mapping stand-in's semantics, over a small in-memory LogReader (a test double of the
 * LOG only: batching, retries, bisecting, checkpoints, windows and the on-failure records under test are
 * the stand-in's own). Event shapes are checked by decoding them with the speed layer's own decoders.
 */

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/test-stream';
const CLUSTER_ARN = 'arn:aws:kafka:us-east-1:000000000000:cluster/test/abc-1';
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:speed';
const ROLE_ARN = 'arn:aws:iam::000000000000:role/speed';
const SHARD = 'shardId-000000000000';
const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

const kinesis = kinesisEventFormat({ streamArn: STREAM_ARN, region: 'us-east-1', invokeIdentityArn: ROLE_ARN });
const msk = mskEventFormat({ clusterArn: CLUSTER_ARN, topic: 'txns', bootstrapServers: '127.0.0.1:9092' });

/** The log as the mapping sees it: units of records with increasing numeric positions, and commits. */
class MemoryLog implements LogReader {
  readonly data = new Map<string, LogRecord[]>();
  readonly positions = new Map<string, string>();
  readonly commits: Array<[string, string]> = [];
  private next = 0;

  constructor(units: string[]) {
    for (const unit of units) this.data.set(unit, []);
  }

  append(unit: string, key: string, data: string, arrivalTime = Date.now()): LogRecord {
    const record = { unit, position: String(1000 + this.next++), key, data: Buffer.from(data), arrivalTime };
    this.data.get(unit)!.push(record);
    return record;
  }

  async units() {
    return [...this.data.keys()];
  }
  async read(unit: string, after: string | undefined, max: number) {
    return this.data
      .get(unit)!
      .filter((r) => after === undefined || BigInt(r.position) > BigInt(after))
      .slice(0, max);
  }
  async committed(unit: string) {
    return this.positions.get(unit);
  }
  async commit(unit: string, position: string) {
    this.positions.set(unit, position);
    this.commits.push([unit, position]);
  }
  async lag(unit: string) {
    return (await this.read(unit, this.positions.get(unit), Number.MAX_SAFE_INTEGER)).length;
  }
  async close() {}
}

const BASE: EventSourceMappingOptions = {
  batchSize: 10,
  maxBatchingWindowSeconds: 0,
  retryAttempts: 2,
  maxRecordAgeSeconds: -1,
  tumblingWindowSeconds: 0,
  startingPosition: 'TRIM_HORIZON',
  timeoutSeconds: 5,
  bisectBatchOnFunctionError: true,
  reportBatchItemFailures: true,
  pollIntervalMs: 10,
  retryDelayMs: 0,
};

let onFailureDir: string;
const running: EventSourceMapping[] = [];

beforeEach(async () => {
  onFailureDir = await fs.mkdtemp(path.join(os.tmpdir(), 'esm-on-failure-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
  await fs.rm(onFailureDir, { recursive: true, force: true });
});

async function startMapping(
  log: LogReader,
  handler: MappingHandler<unknown>,
  options: Partial<EventSourceMappingOptions> = {},
  extra: { format?: EventFormat; clock?: () => number } = {},
) {
  const mapping = new EventSourceMapping({
    reader: log,
    format: extra.format ?? kinesis,
    handler,
    options: { ...BASE, ...options },
    onFailureDir,
    functionArn: FUNCTION_ARN,
    clock: extra.clock,
  });
  running.push(mapping);
  await mapping.start();
  return mapping;
}

async function waitFor(condition: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function onFailureRecords(): Promise<OnFailureRecord[]> {
  const files = (await fs.readdir(onFailureDir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(files.map(async (f) => JSON.parse(await fs.readFile(path.join(onFailureDir, f), 'utf8')) as OnFailureRecord));
}

/** The sequence numbers of a Kinesis event, through the handler's own decoder. */
const sequenceNumbers = (event: unknown) => kinesisDecoder.decode(event as KinesisEvent).map((r) => r.coordinates.sequenceNumber);
const payloads = (event: unknown) => kinesisDecoder.decode(event as KinesisEvent).map((r) => r.data.toString('utf8'));

describe('event shapes', () => {
  it('builds the exact Kinesis event, which the speed layer decoder reads back', () => {
    const record: LogRecord = { unit: SHARD, position: '4961', key: 'card-7', data: Buffer.from('{"a":1}'), arrivalTime: 1_795_306_193_208 };
    const event = kinesis.event(SHARD, [record]) as KinesisEvent;
    expect(event).toEqual({
      Records: [
        {
          kinesis: {
            kinesisSchemaVersion: '1.0',
            partitionKey: 'card-7',
            sequenceNumber: '4961',
            data: Buffer.from('{"a":1}').toString('base64'),
            approximateArrivalTimestamp: 1_795_306_193.208,
          },
          eventSource: 'aws:kinesis',
          eventVersion: '1.0',
          eventID: `${SHARD}:4961`,
          eventName: 'aws:kinesis:record',
          invokeIdentityArn: ROLE_ARN,
          awsRegion: 'us-east-1',
          eventSourceARN: STREAM_ARN,
        },
      ],
    });
    const [decoded] = kinesisDecoder.decode(event);
    expect(decoded.coordinates).toEqual({
      eventSource: 'aws:kinesis',
      stream: STREAM_ARN,
      shardId: SHARD,
      sequenceNumber: '4961',
      partitionKey: 'card-7',
      arrivalTime: 1_795_306_193_208,
    });
    expect(decoded.data.toString()).toBe('{"a":1}');
    expect(readTumblingWindow(event)).toBeUndefined();
    // The decoder's own failure response names records the mapping finds in the batch.
    expect(kinesis.reportedFailures(SHARD, [record], kinesisDecoder.failureResponse([decoded]).batchItemFailures)).toEqual(['4961']);
  });

  it('adds the tumbling-window fields the handler reads', () => {
    const window = { start: '2026-11-21T12:00:00.000Z', end: '2026-11-21T12:05:00.000Z', state: { n: 1 }, isFinalInvokeForWindow: true, isWindowTerminatedEarly: false };
    const event = kinesis.event(SHARD, [], window) as KinesisEvent;
    expect(event).toMatchObject({ Records: [], window: { start: window.start, end: window.end }, state: { n: 1 }, shardId: SHARD, eventSourceARN: STREAM_ARN });
    expect(readTumblingWindow(event)).toEqual(window);
  });

  it('builds the exact MSK event, which the speed layer decoder reads back', () => {
    const records: LogRecord[] = [
      { unit: '2', position: '41', key: 'card-1', data: Buffer.from('x'), arrivalTime: T0 },
      { unit: '2', position: '42', key: 'card-1', data: Buffer.from('y'), arrivalTime: T0 + 5 },
    ];
    const event = msk.event('2', records) as MskEvent;
    expect(event).toEqual({
      eventSource: 'aws:kafka',
      eventSourceArn: CLUSTER_ARN,
      bootstrapServers: '127.0.0.1:9092',
      records: {
        'txns-2': records.map((r) => ({
          topic: 'txns',
          partition: 2,
          offset: Number(r.position),
          timestamp: r.arrivalTime,
          timestampType: 'CREATE_TIME',
          key: Buffer.from('card-1').toString('base64'),
          value: r.data.toString('base64'),
          headers: [],
        })),
      },
    });
    expect(isMskEvent(event)).toBe(true);
    const decoded = mskDecoder.decode(event);
    expect(decoded.map((d) => d.coordinates)).toEqual(
      records.map((r) => ({ eventSource: 'aws:kafka', stream: CLUSTER_ARN, shardId: 'txns-2', sequenceNumber: r.position, partitionKey: 'card-1', arrivalTime: r.arrivalTime })),
    );
    expect(decoded.map((d) => d.data.toString())).toEqual(['x', 'y']);
    expect(msk.reportedFailures('2', records, mskDecoder.failureResponse([decoded[1]]).batchItemFailures)).toEqual(['42']);
    // A partition that is not this one, or an offset not in the batch, is a malformed response.
    expect(msk.reportedFailures('2', records, [{ itemIdentifier: { partition: 'txns-3', offset: 42 } }])).toBeUndefined();
    expect(msk.reportedFailures('2', records, [{ itemIdentifier: { partition: 'txns-2', offset: 43 } }])).toBeUndefined();
  });

  it('takes the mapping settings from the project config as the speed layer stack deploys them', () => {
    expect(mappingOptionsFromConfig(defaultConfig.speedLayer, 'kinesis')).toEqual({
      batchSize: defaultConfig.speedLayer.batchSize,
      maxBatchingWindowSeconds: defaultConfig.speedLayer.maxBatchingWindowSeconds,
      retryAttempts: defaultConfig.speedLayer.retryAttempts,
      maxRecordAgeSeconds: defaultConfig.speedLayer.maxRecordAgeSeconds,
      tumblingWindowSeconds: defaultConfig.speedLayer.tumblingWindowSeconds,
      startingPosition: defaultConfig.speedLayer.startingPosition,
      timeoutSeconds: defaultConfig.speedLayer.timeoutSeconds,
      bisectBatchOnFunctionError: true,
      reportBatchItemFailures: true,
      // Kinesis: Lambda polls each shard once per second; MSK pollers keep fetching.
      pollIntervalMs: 1000,
    });
    expect(mappingOptionsFromConfig(defaultConfig.speedLayer, 'kafka').pollIntervalMs).toBe(100);
  });

  it('takes the alert notifier\'s mapping from the project config as the alerts stack deploys it', () => {
    const notifier = defaultConfig.alerts.notifier;
    expect(notifierMappingOptions(notifier, 'kafka')).toEqual({
      batchSize: notifier.batchSize,
      maxBatchingWindowSeconds: notifier.maxBatchingWindowSeconds,
      retryAttempts: notifier.retryAttempts,
      maxRecordAgeSeconds: notifier.maxRecordAgeSeconds,
      tumblingWindowSeconds: 0,
      startingPosition: 'TRIM_HORIZON',
      timeoutSeconds: notifier.timeoutSeconds,
      bisectBatchOnFunctionError: true,
      reportBatchItemFailures: true,
      pollIntervalMs: 100,
    });
  });
});

describe('batching', () => {
  it('invokes with at most batchSize records, in log order, and checkpoints each batch', async () => {
    const log = new MemoryLog([SHARD]);
    const all = Array.from({ length: 25 }, (_, i) => log.append(SHARD, `k${i % 3}`, `r${i}`));
    const batches: string[][] = [];
    await startMapping(log, async (event) => {
      batches.push(sequenceNumbers(event));
      return { batchItemFailures: [] };
    });
    await waitFor(() => log.positions.get(SHARD) === all[24].position);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(all.map((r) => r.position));
    expect(log.commits).toEqual([all[9], all[19], all[24]].map((r) => [SHARD, r.position]));
  });

  it('waits up to the batching window to fill a batch', async () => {
    const log = new MemoryLog([SHARD]);
    log.append(SHARD, 'a', '1');
    log.append(SHARD, 'a', '2');
    const invoked: Array<{ at: number; records: string[] }> = [];
    const started = Date.now();
    await startMapping(log, async (event) => {
      invoked.push({ at: Date.now() - started, records: payloads(event) });
      return {};
    }, { batchSize: 100, maxBatchingWindowSeconds: 0.5 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    log.append(SHARD, 'b', '3');
    await waitFor(() => invoked.length === 1);
    expect(invoked[0].records).toEqual(['1', '2', '3']);
    expect(invoked[0].at).toBeGreaterThanOrEqual(450);
  });

  it('does not wait for the batching window once the batch is full', async () => {
    const log = new MemoryLog([SHARD]);
    for (let i = 0; i < 5; i++) log.append(SHARD, 'a', String(i));
    const started = Date.now();
    let at = -1;
    await startMapping(log, async () => {
      at = Date.now() - started;
      return {};
    }, { batchSize: 5, maxBatchingWindowSeconds: 10 });
    await waitFor(() => at >= 0);
    expect(at).toBeLessThan(1000);
  });
});

describe('failures', () => {
  it('resumes from the lowest reported record of a partial batch response, checkpointing the records before it', async () => {
    const log = new MemoryLog([SHARD]);
    const all = Array.from({ length: 10 }, (_, i) => log.append(SHARD, 'k', `r${i}`));
    const batches: string[][] = [];
    const mapping = await startMapping(log, async (event) => {
      const seqs = sequenceNumbers(event);
      batches.push(seqs);
      // First call: records 7 and 4 failed (unordered, as a handler may report them).
      return batches.length === 1 ? { batchItemFailures: [{ itemIdentifier: seqs[7] }, { itemIdentifier: seqs[4] }] } : { batchItemFailures: [] };
    });
    await waitFor(() => log.positions.get(SHARD) === all[9].position);
    expect(batches).toEqual([all.map((r) => r.position), all.slice(4).map((r) => r.position)]);
    expect(log.commits).toEqual([
      [SHARD, all[3].position],
      [SHARD, all[9].position],
    ]);
    expect(mapping.counters).toMatchObject({ invocations: 2, recordsReportedFailed: 2, recordsRetried: 6, functionErrors: 0, bisections: 0 });
  });

  it('treats an identifier that is not in the batch as a whole-batch failure', async () => {
    const log = new MemoryLog([SHARD]);
    log.append(SHARD, 'k', 'a');
    const calls: string[][] = [];
    const mapping = await startMapping(log, async (event) => {
      calls.push(sequenceNumbers(event));
      return calls.length === 1 ? { batchItemFailures: [{ itemIdentifier: '999' }] } : {};
    });
    await waitFor(() => log.positions.size === 1);
    expect(calls).toHaveLength(2);
    expect(mapping.counters.functionErrors).toBe(1);
  });

  it('ignores batchItemFailures when ReportBatchItemFailures is off', async () => {
    const log = new MemoryLog([SHARD]);
    const a = log.append(SHARD, 'k', 'a');
    let calls = 0;
    await startMapping(log, async (event) => {
      calls++;
      return { batchItemFailures: [{ itemIdentifier: sequenceNumbers(event)[0] }] };
    }, { reportBatchItemFailures: false });
    await waitFor(() => log.positions.get(SHARD) === a.position);
    expect(calls).toBe(1);
  });

  it('bisects a batch on a thrown error until the poison record is alone; only it goes to the on-failure destination', async () => {
    const log = new MemoryLog([SHARD]);
    const all = Array.from({ length: 8 }, (_, i) => log.append(SHARD, 'k', i === 5 ? 'poison' : `ok${i}`));
    const processed: string[] = [];
    const mapping = await startMapping(log, async (event) => {
      const data = payloads(event);
      if (data.includes('poison')) throw new Error('cannot parse');
      processed.push(...data);
      return {};
    }, { retryAttempts: 2 });
    await waitFor(() => log.positions.get(SHARD) === all[7].position);
    // 8 → 4+4 → (4 ok) 2+2 → (ok4 ok) [poison] → retried twice → on-failure; [ok6, ok7] ok.
    expect(processed).toEqual(['ok0', 'ok1', 'ok2', 'ok3', 'ok4', 'ok6', 'ok7']);
    expect(mapping.counters).toMatchObject({ bisections: 3, batchesToOnFailure: 1, recordsToOnFailure: 1, recordsRetried: 2 });
    const [failure] = await onFailureRecords();
    expect(failure.requestContext.condition).toBe('RetryAttemptsExhausted');
    // Invocations that carried the poison record: 8, 4, 2, then 1 + 2 retries.
    expect(failure.requestContext.approximateInvokeCount).toBe(6);
    expect(failure.KinesisBatchInfo).toMatchObject({ startSequenceNumber: all[5].position, endSequenceNumber: all[5].position, batchSize: 1 });
  });

  it('sends a batch whose retries are exhausted to the on-failure destination with the documented Kinesis fields, then moves on', async () => {
    const log = new MemoryLog([SHARD]);
    const first = [log.append(SHARD, 'k', 'a', T0), log.append(SHARD, 'k', 'b', T0 + 250)];
    let calls = 0;
    const seen: string[] = [];
    const mapping = await startMapping(log, async (event) => {
      calls++;
      const data = payloads(event);
      if (data.includes('a')) throw new Error('down');
      seen.push(...data);
      return {};
    }, { retryAttempts: 2, bisectBatchOnFunctionError: false });
    await waitFor(() => log.positions.get(SHARD) === first[1].position);
    expect(calls).toBe(3); // the first attempt and two retries
    const failures = await onFailureRecords();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toEqual({
      requestContext: { requestId: expect.stringMatching(/^[0-9a-f-]{36}$/), functionArn: FUNCTION_ARN, condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      KinesisBatchInfo: {
        shardId: SHARD,
        startSequenceNumber: first[0].position,
        endSequenceNumber: first[1].position,
        approximateArrivalOfFirstRecord: new Date(T0).toISOString(),
        approximateArrivalOfLastRecord: new Date(T0 + 250).toISOString(),
        batchSize: 2,
        streamArn: STREAM_ARN,
      },
    });
    expect(mapping.counters).toMatchObject({ functionErrors: 3, recordsRetried: 4, batchesToOnFailure: 1 });
    // The shard moves on.
    const later = log.append(SHARD, 'k', 'c');
    await waitFor(() => log.positions.get(SHARD) === later.position);
    expect(seen).toEqual(['c']);
  });

  it('writes KafkaBatchInfo for a Kafka partition', async () => {
    const log = new MemoryLog(['3']);
    const records = [log.append('3', 'card', 'a', T0), log.append('3', 'card', 'b', T0 + 9)];
    await startMapping(log, async () => {
      throw new Error('down');
    }, { retryAttempts: 0, bisectBatchOnFunctionError: false }, { format: msk });
    await waitFor(() => log.positions.get('3') === records[1].position);
    const [failure] = await onFailureRecords();
    expect(failure.requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 });
    expect(failure.KafkaBatchInfo).toEqual({
      batchSize: 2,
      eventSourceArn: CLUSTER_ARN,
      bootstrapServers: '127.0.0.1:9092',
      payloadSize: Buffer.byteLength(JSON.stringify(msk.event('3', records))),
      recordsInfo: {
        'txns-3': {
          firstRecordOffset: records[0].position,
          lastRecordOffset: records[1].position,
          firstRecordTimestamp: new Date(T0).toISOString(),
          lastRecordTimestamp: new Date(T0 + 9).toISOString(),
        },
      },
    });
  });

  it('counts a timeout as a function error', async () => {
    const log = new MemoryLog([SHARD]);
    const a = log.append(SHARD, 'k', 'a');
    let calls = 0;
    const mapping = await startMapping(log, async () => {
      calls++;
      if (calls === 1) await new Promise((resolve) => setTimeout(resolve, 400));
      return {};
    }, { timeoutSeconds: 0.1 });
    await waitFor(() => log.positions.get(SHARD) === a.position);
    expect(calls).toBe(2);
    expect(mapping.counters.functionErrors).toBe(1);
    expect(mapping.counters.lastError).toMatch(/timed out/);
  });

  it('does not send records older than the maximum record age; they go to the on-failure destination', async () => {
    const log = new MemoryLog([SHARD]);
    const now = T0 + 3_600_000;
    const old = [log.append(SHARD, 'k', 'old1', now - 120_000), log.append(SHARD, 'k', 'old2', now - 61_000)];
    const fresh = log.append(SHARD, 'k', 'fresh', now - 1_000);
    const sent: string[] = [];
    const mapping = await startMapping(log, async (event) => {
      sent.push(...payloads(event));
      return {};
    }, { maxRecordAgeSeconds: 60 }, { clock: () => now });
    await waitFor(() => log.positions.get(SHARD) === fresh.position);
    expect(sent).toEqual(['fresh']);
    expect(mapping.counters.recordsDroppedByAge).toBe(2);
    const [failure] = await onFailureRecords();
    expect(failure.requestContext).toMatchObject({ condition: 'RecordAgeExceeded', approximateInvokeCount: 0 });
    expect(failure.responseContext).toBeNull();
    expect(failure.KinesisBatchInfo).toMatchObject({ startSequenceNumber: old[0].position, endSequenceNumber: old[1].position, batchSize: 2 });
  });
});

describe('tumbling windows', () => {
  it('carries the state within a window, ends it with a final invocation, and starts the next from {}', async () => {
    const log = new MemoryLog([SHARD]);
    const W = 60_000;
    const start = Math.floor(T0 / W) * W;
    let now = start + 10_000;
    log.append(SHARD, 'k', 'a', start + 1_000);
    log.append(SHARD, 'k', 'b', start + 2_000);
    const calls: Array<{ records: string[]; window: ReturnType<typeof readTumblingWindow> }> = [];
    await startMapping(log, async (event) => {
      const window = readTumblingWindow(event as KinesisEvent);
      const records = payloads(event);
      calls.push({ records, window });
      const seen = (window!.state.seen as string[] | undefined) ?? [];
      return { batchItemFailures: [], state: { seen: [...seen, ...records] } };
    }, { batchSize: 1, tumblingWindowSeconds: 60 }, { clock: () => now });
    await waitFor(() => calls.length === 2);
    const first = { start: new Date(start).toISOString(), end: new Date(start + W).toISOString() };
    expect(calls[0]).toEqual({ records: ['a'], window: { ...first, state: {}, isFinalInvokeForWindow: false, isWindowTerminatedEarly: false } });
    expect(calls[1].window).toMatchObject({ ...first, state: { seen: ['a'] }, isFinalInvokeForWindow: false });

    // A record of the next window closes the first one before it is sent.
    log.append(SHARD, 'k', 'c', start + W + 5_000);
    await waitFor(() => calls.length === 4);
    expect(calls[2]).toEqual({ records: [], window: { ...first, state: { seen: ['a', 'b'] }, isFinalInvokeForWindow: true, isWindowTerminatedEarly: false } });
    expect(calls[3]).toMatchObject({ records: ['c'], window: { start: first.end, state: {}, isFinalInvokeForWindow: false } });

    // With nothing left to read, the clock passing the window's end closes it.
    now = start + 2 * W + 1;
    await waitFor(() => calls.length === 5);
    expect(calls[4]).toMatchObject({ records: [], window: { start: first.end, state: { seen: ['c'] }, isFinalInvokeForWindow: true } });
  });

  it('counts a windowed response without state as a failed invocation', async () => {
    const log = new MemoryLog([SHARD]);
    log.append(SHARD, 'k', 'a', T0);
    let calls = 0;
    const mapping = await startMapping(log, async () => (++calls === 1 ? { batchItemFailures: [] } : { state: {} }), { tumblingWindowSeconds: 60 }, { clock: () => T0 + 1 });
    await waitFor(() => log.positions.size === 1);
    expect(calls).toBe(2);
    expect(mapping.counters.functionErrors).toBe(1);
  });

  it('has no window for Kafka, whatever the options say', async () => {
    const log = new MemoryLog(['0']);
    log.append('0', 'k', 'a');
    const events: unknown[] = [];
    await startMapping(log, async (event) => {
      events.push(event);
      return {};
    }, { tumblingWindowSeconds: 60 }, { format: msk });
    await waitFor(() => log.positions.size === 1);
    expect(events).toHaveLength(1);
    expect(Object.keys(events[0] as object).sort()).toEqual(['bootstrapServers', 'eventSource', 'eventSourceArn', 'records']);
  });
});

describe('stop and restart', () => {
  it('stop() lets the in-flight invocation finish and checkpoints it, then nothing more is invoked; a new mapping resumes after it', async () => {
    const log = new MemoryLog([SHARD]);
    const all = Array.from({ length: 6 }, (_, i) => log.append(SHARD, 'k', `r${i}`));
    let release: () => void = () => undefined;
    const batches: string[][] = [];
    const mapping = await startMapping(log, async (event) => {
      batches.push(payloads(event));
      if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return {};
    }, { batchSize: 2 });
    await waitFor(() => batches.length === 1);
    let stopped = false;
    const stopping = mapping.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false); // waits for the invocation in flight
    release();
    await stopping;
    expect(batches).toEqual([['r0', 'r1']]);
    expect(log.positions.get(SHARD)).toBe(all[1].position);
    expect((await mapping.status()).units[SHARD]).toEqual({ position: all[1].position, lag: 4 });

    const again: string[][] = [];
    await startMapping(log, async (event) => {
      again.push(payloads(event));
      return {};
    }, { batchSize: 2 });
    await waitFor(() => log.positions.get(SHARD) === all[5].position);
    expect(again).toEqual([['r2', 'r3'], ['r4', 'r5']]);
  });

  it('stop() during a failing batch does not retry it: the batch stays uncommitted for the next start', async () => {
    const log = new MemoryLog([SHARD]);
    log.append(SHARD, 'k', 'a');
    log.append(SHARD, 'k', 'b');
    let release: () => void = () => undefined;
    let calls = 0;
    const mapping = await startMapping(log, async () => {
      calls++;
      await new Promise<void>((resolve) => (release = resolve));
      throw new Error('down');
    }, { retryAttempts: 5 });
    await waitFor(() => calls === 1);
    const stopping = mapping.stop();
    release();
    await stopping;
    expect(calls).toBe(1);
    expect(mapping.counters).toMatchObject({ invocations: 1, functionErrors: 1, batchesToOnFailure: 0 });
    expect(log.commits).toEqual([]);
    expect(await onFailureRecords()).toEqual([]);
  });

  it('polls every unit independently, one batch at a time per unit', async () => {
    const log = new MemoryLog(['shardId-000000000000', 'shardId-000000000001']);
    for (let i = 0; i < 4; i++) {
      log.append('shardId-000000000000', 'a', `a${i}`);
      log.append('shardId-000000000001', 'b', `b${i}`);
    }
    const inFlight = new Map<string, number>();
    let maxPerUnit = 0;
    const seen: string[] = [];
    await startMapping(log, async (event) => {
      const shard = kinesisDecoder.decode(event as KinesisEvent)[0].coordinates.shardId;
      inFlight.set(shard, (inFlight.get(shard) ?? 0) + 1);
      maxPerUnit = Math.max(maxPerUnit, inFlight.get(shard)!);
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen.push(...payloads(event));
      inFlight.set(shard, inFlight.get(shard)! - 1);
      return {};
    }, { batchSize: 1 });
    await waitFor(() => seen.length === 8);
    expect(maxPerUnit).toBe(1);
    expect(seen.filter((s) => s.startsWith('a'))).toEqual(['a0', 'a1', 'a2', 'a3']);
    expect(seen.filter((s) => s.startsWith('b'))).toEqual(['b0', 'b1', 'b2', 'b3']);
  });
});
