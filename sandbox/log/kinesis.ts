import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  type _Record as KinesisRecord,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { endpoint, sandboxDirs, type SandboxSettings } from '../settings';
import type { LocalLog, LogReader, LogRecord, ProducedRecord } from './types';

/**
 * The event log on kinesis-local, through the real AWS SDK v3 Kinesis client.
 *
 * Positions are Kinesis sequence numbers. A reader's committed positions live in a checkpoint
 * file of its own, `<positions>/<reader>.kinesis.<stream>.json` (Lambda keeps its Kinesis
 * checkpoints internally too; there is no Kinesis API for them).
 */

/** PutRecords limits: https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html */
const PUT_RECORDS_MAX_ENTRIES = 500;
const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;
const RECORD_MAX_BYTES = 1024 * 1024;
const PARTITION_KEY_MAX_CHARS = 256;
/** How often one entry is retried after PutRecords reports it failed, before produce() gives up. */
const PUT_ENTRY_MAX_ATTEMPTS = 10;
/** GetRecords returns at most 10,000 records. */
const GET_RECORDS_MAX = 10_000;

export interface KinesisLogOptions {
  /** How long ensureCreated() waits for ACTIVE. */
  createTimeoutMs?: number;
  /** Backoff before retrying the failed entries of a PutRecords call (doubles per attempt, capped at 2 s). */
  retryBaseMs?: number;
}

export function kinesisClient(settings: SandboxSettings): KinesisClient {
  return new KinesisClient({
    endpoint: endpoint(settings.ports.kinesis),
    region: settings.region,
    credentials: settings.credentials,
    // The SDK's Kinesis client speaks HTTP/2 by default; kinesis-local's plain port is HTTP/1.1.
    requestHandler: new NodeHttpHandler(),
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | undefined)?.name;
}

function toLogRecord(shardId: string, record: KinesisRecord): LogRecord {
  return {
    unit: shardId,
    position: record.SequenceNumber!,
    key: record.PartitionKey!,
    data: Buffer.from(record.Data ?? new Uint8Array()),
    arrivalTime: record.ApproximateArrivalTimestamp?.getTime() ?? 0,
  };
}

/**
 * A reader's committed positions on disk: one JSON file `{ "<shardId>": "<sequenceNumber>" }` per reader,
 * rewritten whole on each commit as a temporary file renamed over the old one (rename is atomic within a
 * filesystem), so a crash leaves the old or the new positions, never half a file. Commits are serialized.
 */
class PositionFile {
  private positions: Record<string, string> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private sequence = 0;

  constructor(readonly file: string) {}

  private async load(): Promise<Record<string, string>> {
    if (this.positions) return this.positions;
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.positions = {};
      return this.positions;
    }
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`Positions file ${this.file} does not hold an object`);
    }
    const positions: Record<string, string> = {};
    for (const [unit, position] of Object.entries(parsed)) {
      if (typeof position !== 'string' || !/^\d+$/.test(position)) {
        throw new Error(`Positions file ${this.file}: ${unit} has no sequence number`);
      }
      positions[unit] = position;
    }
    this.positions = positions;
    return positions;
  }

  async get(unit: string): Promise<string | undefined> {
    return (await this.load())[unit];
  }

  set(unit: string, position: string): Promise<void> {
    const write = this.writing.then(async () => {
      const next = { ...(await this.load()), [unit]: position };
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const temporary = `${this.file}.${process.pid}.${++this.sequence}.tmp`;
      await fs.writeFile(temporary, `${JSON.stringify(next, null, 2)}\n`);
      await fs.rename(temporary, this.file);
      this.positions = next;
    });
    this.writing = write.catch(() => undefined);
    return write;
  }
}

/** A shard iterator and the position it continues after (undefined: the start of the shard). */
interface CachedIterator {
  after: string | undefined;
  iterator: string;
}

/** lag() counts at most this many records per shard. */
export const LAG_COUNT_LIMIT = 10_000;

class KinesisReader implements LogReader {
  private readonly positions: PositionFile;
  private readonly iterators = new Map<string, CachedIterator>();
  private shardIds: string[] | undefined;

  constructor(
    private readonly log: KinesisLog,
    readonly name: string,
  ) {
    this.positions = new PositionFile(
      path.join(sandboxDirs(log.settings).positions, `${name}.kinesis.${log.settings.streamName}.json`),
    );
  }

  async units(): Promise<string[]> {
    this.shardIds ??= await this.log.shardIds();
    return this.shardIds;
  }

  private async iteratorAfter(unit: string, after: string | undefined): Promise<CachedIterator> {
    const { ShardIterator } = await this.log.client.send(
      new GetShardIteratorCommand({
        StreamName: this.log.settings.streamName,
        ShardId: unit,
        ...(after === undefined
          ? { ShardIteratorType: 'TRIM_HORIZON' }
          : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }),
      }),
    );
    if (!ShardIterator) throw new Error(`No shard iterator for ${unit}`);
    return { after, iterator: ShardIterator };
  }

  /**
   * One GetRecords call from `from`; returns the records and the iterator that continues after them
   * (undefined once a closed shard is exhausted). An expired iterator is replaced once.
   */
  private async getRecords(unit: string, from: CachedIterator, limit: number) {
    let current = from;
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await this.log.client.send(
          new GetRecordsCommand({ ShardIterator: current.iterator, Limit: Math.min(limit, GET_RECORDS_MAX) }),
        );
        const records = (out.Records ?? []).map((record) => toLogRecord(unit, record));
        const after = records.length > 0 ? records[records.length - 1].position : current.after;
        const next = out.NextShardIterator ? { after, iterator: out.NextShardIterator } : undefined;
        return { records, next, millisBehindLatest: out.MillisBehindLatest ?? 0 };
      } catch (error) {
        if (errorName(error) !== 'ExpiredIteratorException' || attempt > 0) throw error;
        current = await this.iteratorAfter(unit, current.after);
      }
    }
  }

  async read(unit: string, after: string | undefined, max: number): Promise<LogRecord[]> {
    if (max < 1) return [];
    const cached = this.iterators.get(unit);
    let from = cached && cached.after === after ? cached : await this.iteratorAfter(unit, after);
    // Kinesis may answer an empty page while records lie further on (MillisBehindLatest > 0); follow a few pages.
    for (let page = 0; page < 5; page++) {
      const { records, next, millisBehindLatest } = await this.getRecords(unit, from, max);
      if (next) this.iterators.set(unit, next);
      else this.iterators.delete(unit);
      if (records.length > 0 || !next || millisBehindLatest === 0) return records;
      from = next;
    }
    return [];
  }

  committed(unit: string): Promise<string | undefined> {
    return this.positions.get(unit);
  }

  async commit(unit: string, position: string): Promise<void> {
    if (!/^\d+$/.test(position)) throw new Error(`Not a Kinesis sequence number: ${position}`);
    await this.positions.set(unit, position);
  }

  /**
   * Counted, not estimated: kinesis-local's MillisBehindLatest is a time, not a record count, so the
   * reader walks the shard after its committed position and counts, afresh on every call. That costs
   * one GetRecords page per 10,000 records of lag (up to LAG_COUNT_LIMIT), and cannot drift: an earlier version kept a running
   * count between calls and, in the sandbox, reported a lag that a fresh count showed to be 0.
   */
  async lag(unit: string): Promise<number> {
    let from: CachedIterator | undefined = await this.iteratorAfter(unit, await this.committed(unit));
    let count = 0;
    // Counted up to LAG_COUNT_LIMIT: beyond it the number only says "far behind", and reading it all every
    // second would load the single-threaded kinesis-local the consumers need.
    while (from && count < LAG_COUNT_LIMIT) {
      const page = await this.getRecords(unit, from, GET_RECORDS_MAX);
      count += page.records.length;
      if (page.records.length === 0 && page.millisBehindLatest === 0) break;
      from = page.next;
    }
    return count;
  }

  async close(): Promise<void> {
    this.iterators.clear();
  }
}

export class KinesisLog implements LocalLog {
  readonly kind = 'kinesis' as const;
  readonly client: KinesisClient;
  private readonly createTimeoutMs: number;
  private readonly retryBaseMs: number;

  constructor(
    readonly settings: SandboxSettings,
    options: KinesisLogOptions = {},
  ) {
    this.client = kinesisClient(settings);
    this.createTimeoutMs = options.createTimeoutMs ?? 30_000;
    this.retryBaseMs = options.retryBaseMs ?? 50;
  }

  private async streamStatus(): Promise<string | undefined> {
    try {
      const out = await this.client.send(new DescribeStreamSummaryCommand({ StreamName: this.settings.streamName }));
      return out.StreamDescriptionSummary?.StreamStatus;
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  async ensureCreated(): Promise<void> {
    let status = await this.streamStatus();
    if (status === undefined) {
      try {
        await this.client.send(new CreateStreamCommand({ StreamName: this.settings.streamName, ShardCount: this.settings.shards }));
      } catch (error) {
        // Someone else created it between the two calls.
        if (errorName(error) !== 'ResourceInUseException') throw error;
      }
    }
    const deadline = Date.now() + this.createTimeoutMs;
    for (;;) {
      status = await this.streamStatus();
      if (status === 'ACTIVE' || status === 'UPDATING') return;
      if (Date.now() > deadline) throw new Error(`Stream ${this.settings.streamName} not ACTIVE after ${this.createTimeoutMs} ms (${status})`);
      await sleep(100);
    }
  }

  /** The stream's shards, by shard id. */
  async shardIds(): Promise<string[]> {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.client.send(
        nextToken ? new ListShardsCommand({ NextToken: nextToken }) : new ListShardsCommand({ StreamName: this.settings.streamName }),
      );
      ids.push(...(out.Shards ?? []).map((shard) => shard.ShardId!));
      nextToken = out.NextToken;
    } while (nextToken);
    return ids.sort();
  }

  /**
   * PutRecords in requests of at most 500 entries and 5 MiB. PutRecords may accept some entries of a
   * request and reject others (FailedRecordCount, ErrorCode per entry), and it keeps no order between a
   * retried entry and the entries after it. So each request carries at most ONE record per partition
   * key: a key's next record is sent only once its previous one was accepted, and a rejected entry is
   * retried (with backoff) before anything after it of the same key. Per-key order is preserved; records
   * of different keys may interleave differently than given, as they may on Kinesis itself.
   */
  async produce(records: readonly ProducedRecord[]): Promise<void> {
    const queues = new Map<string, Array<{ entry: PutRecordsRequestEntry; attempts: number }>>();
    for (const record of records) {
      const data = typeof record.data === 'string' ? Buffer.from(record.data) : record.data;
      if (record.key.length < 1 || record.key.length > PARTITION_KEY_MAX_CHARS) {
        throw new Error(`Partition key must have 1-${PARTITION_KEY_MAX_CHARS} characters: ${JSON.stringify(record.key)}`);
      }
      if (data.length + Buffer.byteLength(record.key) > RECORD_MAX_BYTES) throw new Error(`Record of key ${record.key} is over 1 MiB`);
      const queue = queues.get(record.key) ?? [];
      queue.push({ entry: { PartitionKey: record.key, Data: data }, attempts: 0 });
      queues.set(record.key, queue);
    }
    let round = 0;
    while (queues.size > 0) {
      // The head of every key's queue, in requests of ≤ 500 entries and ≤ 5 MiB.
      const heads = [...queues.values()].map((queue) => queue[0]);
      const requests: (typeof heads)[] = [];
      let current: typeof heads = [];
      let bytes = 0;
      for (const head of heads) {
        const size = head.entry.Data!.length + Buffer.byteLength(head.entry.PartitionKey!);
        if (current.length === PUT_RECORDS_MAX_ENTRIES || bytes + size > PUT_RECORDS_MAX_BYTES) {
          requests.push(current);
          current = [];
          bytes = 0;
        }
        current.push(head);
        bytes += size;
      }
      if (current.length > 0) requests.push(current);

      let anyFailed = false;
      for (const request of requests) {
        const out = await this.client.send(
          new PutRecordsCommand({ StreamName: this.settings.streamName, Records: request.map((item) => item.entry) }),
        );
        const results = out.Records ?? [];
        if (results.length !== request.length) throw new Error(`PutRecords answered ${results.length} results for ${request.length} entries`);
        request.forEach((item, i) => {
          const result = results[i];
          if (result.ErrorCode) {
            anyFailed = true;
            item.attempts += 1;
            if (item.attempts >= PUT_ENTRY_MAX_ATTEMPTS) {
              throw new Error(`PutRecords rejected a record of key ${item.entry.PartitionKey} ${item.attempts} times: ${result.ErrorCode} ${result.ErrorMessage ?? ''}`);
            }
            return;
          }
          const queue = queues.get(item.entry.PartitionKey!)!;
          queue.shift();
          if (queue.length === 0) queues.delete(item.entry.PartitionKey!);
        });
      }
      round = anyFailed ? round + 1 : 0;
      if (anyFailed) await sleep(Math.min(2000, this.retryBaseMs * 2 ** (round - 1)));
    }
  }

  reader(name: string): LogReader {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`Reader name must be a plain file name: ${name}`);
    return new KinesisReader(this, name);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
