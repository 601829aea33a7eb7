import { CompressionTypes, Kafka, logLevel, type Admin, type Consumer, type EachBatchPayload, type Producer } from 'kafkajs';
import type { SandboxSettings } from '../settings';
import type { LocalLog, LogReader, LogRecord, ProducedRecord } from './types';

/**
 * The event log on the local Kafka broker, through kafkajs.
 *
 * Positions at the LogReader boundary: `LogRecord.position` is the record's Kafka OFFSET as a decimal
 * string, and `commit(unit, position)` means "this record and everything before it is done", so it
 * commits `position + 1` to the consumer group: Kafka's committed offset is the NEXT offset to read.
 * `committed(unit)` translates back (group offset − 1), so callers only ever see record offsets.
 *
 * Committed positions ARE the consumer group `<reader name>`'s committed offsets, as Lambda's MSK event
 * source mapping commits to its own consumer group: `kafka-consumer-groups.sh --describe --group
 * speed-layer` shows the stand-in's progress and lag like any Kafka consumer's.
 *
 * Reading at an explicit offset: kafkajs has no `assign()`. Each reader therefore runs ONE kafkajs
 * consumer that joins the group `<reader name>` (and so, as its only member, is assigned every
 * partition), with auto-commit off and every partition paused. `read(unit, after, max)`:
 *   1. asks the broker for the partition's watermarks and answers `[]` at once when nothing lies after
 *      `after` (so an empty read never waits on the consumer);
 *   2. seeks the partition to `after + 1` (or the log start), resumes it, and waits for the batch whose
 *      fetch was issued at exactly that offset (`batch.fetchedOffset`; any other batch is stale and the
 *      seek is repeated);
 *   3. pauses the partition again and returns up to `max` of the batch's records.
 * One live reader per name: a second consumer in the same group would take half the partitions (as a
 * second Lambda mapping on the same group would); reading an unassigned partition fails after a timeout.
 */

export interface KafkaLogOptions {
  /** How long read()/commit() wait for the reader's consumer to be assigned a partition, and for a fetch. */
  timeoutMs?: number;
  /** Topic-level configs `ensureCreated` sets on a new topic (e.g. `message.timestamp.type`). */
  topicConfig?: Record<string, string>;
}

interface PendingRead {
  from: bigint;
  max: number;
  resolve(records: LogRecord[]): void;
}

class KafkaReader implements LogReader {
  private readonly consumer: Consumer;
  private readonly assigned = new Set<number>();
  private readonly pending = new Map<number, PendingRead>();
  private readonly waiters: Array<() => void> = [];
  private started: Promise<void> | undefined;
  private crashed: Error | undefined;
  private closed = false;

  constructor(
    private readonly log: KafkaLog,
    readonly name: string,
  ) {
    this.consumer = log.kafka.consumer({
      groupId: name,
      // Fetch rounds while every partition is paused sleep this long: it bounds a read's latency.
      maxWaitTimeInMs: 100,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
      retry: { retries: 5 },
    });
    const { GROUP_JOIN, REBALANCING, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, ({ payload }) => {
      this.assigned.clear();
      for (const partition of payload.memberAssignment[log.topic] ?? []) this.assigned.add(partition);
      // Nothing is fetched until a read asks for it. Pausing here rather than after run(): run() can return
      // before the group exists (kafkajs restarts a consumer whose first join fails, e.g. while the broker's
      // group coordinator is still loading), and a restarted consumer starts unpaused.
      const idle = [...this.assigned].filter((partition) => !this.pending.has(partition));
      if (idle.length > 0) this.consumer.pause([{ topic: log.topic, partitions: idle }]);
      this.waiters.splice(0).forEach((wake) => wake());
    });
    this.consumer.on(REBALANCING, () => this.assigned.clear());
    this.consumer.on(CRASH, ({ payload }) => {
      if (!payload.restart) this.crashed = payload.error;
      this.waiters.splice(0).forEach((wake) => wake());
    });
  }

  private start(): Promise<void> {
    this.started ??= (async () => {
      await this.consumer.connect();
      await this.consumer.subscribe({ topic: this.log.topic, fromBeginning: true });
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // A batch nobody asked for (fetched before the pause above took effect) pauses its partition and is dropped.
        eachBatch: async (payload) => this.onBatch(payload),
      });
    })();
    return this.started;
  }

  /** Wait until this reader's consumer holds `partition` (it joins the group on first use). */
  private async holding(partition: number): Promise<void> {
    if (this.closed) throw new Error(`Reader ${this.name} is closed`);
    await this.start();
    const deadline = Date.now() + this.log.timeoutMs;
    while (!this.assigned.has(partition)) {
      if (this.crashed) throw this.crashed;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`Reader ${this.name}: partition ${partition} of ${this.log.topic} not assigned to it (another live reader of the same name?)`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private onBatch({ batch }: EachBatchPayload): void {
    const partition = batch.partition;
    const pending = this.pending.get(partition);
    if (!pending) {
      this.consumer.pause([{ topic: this.log.topic, partitions: [partition] }]);
      return;
    }
    // kafkajs sets `fetchedOffset` on every Batch (src/consumer/batch.js) but its typings omit it.
    const fetchedOffset = (batch as typeof batch & { fetchedOffset: string }).fetchedOffset;
    if (BigInt(fetchedOffset) !== pending.from) {
      // Fetched at another offset (e.g. a rebalance dropped the seek): not the records asked for.
      this.consumer.seek({ topic: this.log.topic, partition, offset: pending.from.toString() });
      return;
    }
    const records = batch.messages
      .filter((message) => BigInt(message.offset) >= pending.from)
      .slice(0, pending.max)
      .map(
        (message): LogRecord => ({
          unit: String(partition),
          position: message.offset,
          key: message.key ? message.key.toString('utf8') : '',
          data: message.value ?? Buffer.alloc(0),
          arrivalTime: Number(message.timestamp),
        }),
      );
    this.consumer.pause([{ topic: this.log.topic, partitions: [partition] }]);
    this.pending.delete(partition);
    pending.resolve(records);
  }

  async units(): Promise<string[]> {
    return (await this.log.partitions()).map(String);
  }

  async read(unit: string, after: string | undefined, max: number): Promise<LogRecord[]> {
    const partition = partitionOf(unit);
    if (max < 1) return [];
    if (this.pending.has(partition)) throw new Error(`Reader ${this.name}: a read of partition ${partition} is already running`);
    const { low, high } = await this.log.watermarks(partition);
    let from = after === undefined ? low : BigInt(after) + 1n;
    if (from < low) from = low; // Retention removed the records after `after`: resume at the log start, as Kinesis' TRIM_HORIZON would.
    if (from >= high) return [];
    await this.holding(partition);
    return new Promise<LogRecord[]>((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(timer);
        this.pending.delete(partition);
        try {
          this.consumer.pause([{ topic: this.log.topic, partitions: [partition] }]);
        } catch {
          // Not initialized either: nothing is fetching.
        }
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`Reader ${this.name}: no batch from offset ${from} of partition ${partition} within ${this.log.timeoutMs} ms`)), this.log.timeoutMs);
      this.pending.set(partition, {
        from,
        max,
        resolve: (records) => {
          clearTimeout(timer);
          resolve(records);
        },
      });
      try {
        this.consumer.seek({ topic: this.log.topic, partition, offset: from.toString() });
        this.consumer.resume([{ topic: this.log.topic, partitions: [partition] }]);
      } catch (error) {
        // The consumer rejoining after a broker restart ("Consumer group was not initialized"): the read fails
        // now, rather than holding the partition as "already running" until the timeout.
        fail(error as Error);
      }
    });
  }

  async committed(unit: string): Promise<string | undefined> {
    const partition = partitionOf(unit);
    const offsets = await this.log.admin.fetchOffsets({ groupId: this.name, topics: [this.log.topic] });
    const entry = offsets.find((o) => o.topic === this.log.topic)?.partitions.find((p) => p.partition === partition);
    if (!entry || BigInt(entry.offset) < 0n) return undefined;
    // The group holds the next offset to read; the last done record is the one before it.
    const next = BigInt(entry.offset);
    return next === 0n ? undefined : (next - 1n).toString();
  }

  /** Commits `position + 1`, Kafka's next-offset convention, to the group `<name>`. */
  async commit(unit: string, position: string): Promise<void> {
    const partition = partitionOf(unit);
    if (!/^\d+$/.test(position)) throw new Error(`Not a Kafka offset: ${position}`);
    await this.holding(partition);
    await this.consumer.commitOffsets([{ topic: this.log.topic, partition, offset: (BigInt(position) + 1n).toString() }]);
  }

  /** The high watermark minus the group's committed offset: Kafka's own consumer lag. */
  async lag(unit: string): Promise<number> {
    const partition = partitionOf(unit);
    const [{ low, high }, committed] = await Promise.all([this.log.watermarks(partition), this.committed(unit)]);
    const next = committed === undefined ? low : BigInt(committed) + 1n;
    return Number(high > next ? high - next : 0n);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.started) {
      await this.started.catch(() => undefined);
      await this.consumer.disconnect();
    }
  }
}

function partitionOf(unit: string): number {
  if (!/^\d+$/.test(unit)) throw new Error(`Not a Kafka partition: ${unit}`);
  return Number(unit);
}

export class KafkaLog implements LocalLog {
  readonly kind = 'kafka' as const;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly topic: string;
  readonly timeoutMs: number;
  private readonly topicConfig: Record<string, string>;
  private producer: Producer | undefined;
  private connected: Promise<void> | undefined;
  private readonly readers = new Set<KafkaReader>();

  constructor(
    readonly settings: SandboxSettings,
    options: KafkaLogOptions = {},
  ) {
    this.topic = settings.streamName;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.topicConfig = options.topicConfig ?? {};
    this.kafka = new Kafka({
      clientId: 'tributary-sandbox',
      brokers: [`127.0.0.1:${settings.ports.kafka}`],
      // Silent: kafkajs logs retriable errors (a coordinator still loading) at ERROR; real failures are thrown.
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 100 },
    });
    this.admin = this.kafka.admin();
  }

  private connect(): Promise<void> {
    this.connected ??= this.admin.connect();
    return this.connected;
  }

  async ensureCreated(): Promise<void> {
    await this.connect();
    // createTopics answers false (no error) when the topic exists already. Not `waitForLeaders`: kafkajs then
    // retries only LEADER_NOT_AVAILABLE, and a loaded broker answers UNKNOWN_TOPIC_OR_PARTITION for a moment after
    // the create (tulios/kafkajs#815); the loop below waits until every partition's leader serves it instead.
    await this.admin.createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic: this.topic,
          numPartitions: this.settings.shards,
          replicationFactor: 1,
          configEntries: Object.entries(this.topicConfig).map(([name, value]) => ({ name, value })),
        },
      ],
    });
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const partitions = await this.admin
        .fetchTopicMetadata({ topics: [this.topic] })
        .then((m) => m.topics[0].partitions)
        .catch(() => []);
      // A leader in the metadata may not serve the partition yet; ListOffsets goes to each leader and answers
      // only once it does.
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) {
        const served = await this.admin.fetchTopicOffsets(this.topic).then((o) => o.length === partitions.length, () => false);
        if (served) return;
      }
      if (Date.now() > deadline) throw new Error(`Topic ${this.topic} has no leader for every partition after ${this.timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async partitions(): Promise<number[]> {
    await this.connect();
    const metadata = await this.admin.fetchTopicMetadata({ topics: [this.topic] });
    return metadata.topics[0].partitions.map((p) => p.partitionId).sort((a, b) => a - b);
  }

  /**
   * Records of the topic after what consumer group `groupId` has committed, summed over partitions
   * (from the start of the retained log where it has committed nothing). For consumers outside this
   * process too, such as the Flink job, which commits its offsets on each checkpoint.
   */
  async groupLag(groupId: string): Promise<number> {
    await this.connect();
    const [ends, committed] = await Promise.all([
      this.admin.fetchTopicOffsets(this.topic),
      this.admin.fetchOffsets({ groupId, topics: [this.topic] }),
    ]);
    const done = new Map((committed.find((t) => t.topic === this.topic)?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    return ends.reduce((lag, p) => {
      const next = done.get(p.partition) ?? -1n;
      const from = next < 0n ? BigInt(p.low) : next;
      return lag + Number(BigInt(p.high) - from);
    }, 0);
  }

  async watermarks(partition: number): Promise<{ low: bigint; high: bigint }> {
    await this.connect();
    const entry = (await this.admin.fetchTopicOffsets(this.topic)).find((o) => o.partition === partition);
    if (!entry) throw new Error(`Topic ${this.topic} has no partition ${partition}`);
    return { low: BigInt(entry.low), high: BigInt(entry.high) };
  }

  /**
   * Keyed by the record key, so one card always lands on one partition (kafkajs' default partitioner is
   * the Java client's murmur2). acks=all and an idempotent producer: the broker drops a retried duplicate
   * and keeps a partition's records in send order across retries.
   */
  async produce(records: readonly ProducedRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (!this.producer) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      this.producer = producer;
    }
    // One send per chunk; kafkajs splits it per partition leader.
    for (let i = 0; i < records.length; i += 5000) {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        compression: CompressionTypes.None,
        messages: records.slice(i, i + 5000).map((record) => ({ key: record.key, value: record.data })),
      });
    }
  }

  reader(name: string): LogReader {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`Reader (consumer group) name must be [A-Za-z0-9._-]: ${name}`);
    const reader = new KafkaReader(this, name);
    this.readers.add(reader);
    return reader;
  }

  async close(): Promise<void> {
    await Promise.all([...this.readers].map((reader) => reader.close()));
    this.readers.clear();
    if (this.producer) await this.producer.disconnect();
    this.producer = undefined;
    if (this.connected) await this.admin.disconnect();
    this.connected = undefined;
  }
}
