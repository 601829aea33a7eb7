/**
 * The sandbox's view of the event log, whichever engine holds it (kinesis-local
 * or a Kafka broker). The producer writes through it; the event source mapping
 * stand-in and the archiver read through it, each with positions of its own.
 */

/** One record as it sits on the log. */
export interface LogRecord {
  /** The ordered unit: a Kinesis shard id (`shardId-000000000000`) or a Kafka partition number as text (`"0"`). */
  unit: string;
  /** Kinesis sequence number, or Kafka offset as a decimal string. */
  position: string;
  /** Partition key (Kinesis) or message key (Kafka): the card id. */
  key: string;
  data: Buffer;
  /** When the log accepted it, epoch ms: Kinesis ApproximateArrivalTimestamp, Kafka record timestamp. */
  arrivalTime: number;
}

export interface ProducedRecord {
  key: string;
  data: Buffer | string;
}

/** A named reader (one per consumer: "speed-layer", "archive") with durable positions of its own. */
export interface LogReader {
  /** The log's ordered units, in a stable order. */
  units(): Promise<string[]>;
  /**
   * Up to `max` records of `unit` that come after `after` (exclusive), or from the start of the
   * retained log when `after` is undefined, in log order. Returns [] when there is nothing yet.
   */
  read(unit: string, after: string | undefined, max: number): Promise<LogRecord[]>;
  /** The last committed position of `unit` for this reader, if any (survives a restart). */
  committed(unit: string): Promise<string | undefined>;
  /** Record that everything up to and including `position` is done. */
  commit(unit: string, position: string): Promise<void>;
  /** How many records of `unit` come after this reader's committed position (the lag). */
  lag(unit: string): Promise<number>;
  close(): Promise<void>;
}

export interface LocalLog {
  kind: 'kinesis' | 'kafka';
  /** Create the stream/topic with the settings' shard count if it does not exist yet; wait until usable. */
  ensureCreated(): Promise<void>;
  /** Append records; resolves once the log has accepted every one (retrying partial failures). */
  produce(records: readonly ProducedRecord[]): Promise<void>;
  reader(name: string): LogReader;
  close(): Promise<void>;
}
