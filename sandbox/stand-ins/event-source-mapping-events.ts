import { streamArn, type SandboxSettings } from '../settings';
import type { LogRecord } from '../log/types';

/**
 * The two event shapes Lambda's event source mapping delivers, built from the sandbox's log records,
 * and what each source's partial batch response and on-failure record look like. The event source
 * mapping core (event-source-mapping.ts) is source-agnostic; everything Kinesis- or Kafka-specific is here.
 *
 * Sources:
 * - Kinesis event and tumbling-window fields: "Using Lambda with Kinesis Data Streams"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html) and "Implementing stateful Kinesis
 *   Data Streams processing in Lambda" (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html).
 * - Kinesis partial batch response: "Configuring partial batch response with Kinesis Data Streams and Lambda"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html).
 * - Kinesis on-failure record (`KinesisBatchInfo`): "Retain discarded batch records for a Kinesis Data Streams
 *   event source in Lambda" (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html).
 * - MSK event: "Using Lambda with Amazon MSK" (https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html).
 * - Kafka partial batch response: "Configuring error handling controls for Kafka event sources"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html); the identifier shape
 *   `{ partition: '<topic>-<partition>', offset }` is the one lambdas/shared/msk.ts answers with.
 * - Kafka on-failure record (`KafkaBatchInfo` with `recordsInfo` per topic-partition, for SQS/SNS
 *   destinations): "Capturing discarded batches for Amazon MSK and self-managed Apache Kafka event sources"
 *   (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html).
 */

/** The tumbling-window fields of one invocation (Kinesis only). */
export interface WindowFields {
  start: string;
  end: string;
  state: Record<string, unknown>;
  isFinalInvokeForWindow: boolean;
  isWindowTerminatedEarly: boolean;
}

/** What the event source mapping core needs to know about one event source. */
export interface EventFormat<TEvent = unknown> {
  readonly eventSource: 'aws:kinesis' | 'aws:kafka';
  /** Kinesis mappings can have a tumbling window; MSK mappings cannot. */
  readonly supportsTumblingWindow: boolean;
  /** The ARN the mapping reads (stream or cluster), for logs and status. */
  readonly eventSourceArn: string;
  /** The invocation event for one ordered unit's records, in log order. */
  event(unit: string, records: readonly LogRecord[], window?: WindowFields): TEvent;
  /**
   * The log positions a partial batch response names, or `undefined` when the list is malformed
   * (an entry without a valid identifier, or one naming a record not in the batch): AWS then treats
   * the whole batch as failed.
   */
  reportedFailures(unit: string, records: readonly LogRecord[], batchItemFailures: readonly unknown[]): string[] | undefined;
  /** The on-failure destination record's source-specific member. */
  batchInfo(unit: string, records: readonly LogRecord[]): { key: 'KinesisBatchInfo' | 'KafkaBatchInfo'; value: Record<string, unknown> };
}

const iso = (ms: number) => new Date(ms).toISOString();

export interface KinesisEventFormatOptions {
  streamArn: string;
  region: string;
  /** The function's execution role: Lambda puts it in every record as `invokeIdentityArn`. */
  invokeIdentityArn: string;
}

/** The Kinesis event of one shard's batch, with the tumbling-window fields when the mapping has a window. */
export function kinesisEventFormat(options: KinesisEventFormatOptions): EventFormat {
  return {
    eventSource: 'aws:kinesis',
    supportsTumblingWindow: true,
    eventSourceArn: options.streamArn,
    event(unit, records, window) {
      const event: Record<string, unknown> = {
        Records: records.map((record) => ({
          kinesis: {
            kinesisSchemaVersion: '1.0',
            partitionKey: record.key,
            sequenceNumber: record.position,
            data: record.data.toString('base64'),
            // Seconds since the epoch with the milliseconds as a fraction, as Lambda sends it.
            approximateArrivalTimestamp: record.arrivalTime / 1000,
          },
          eventSource: 'aws:kinesis',
          eventVersion: '1.0',
          eventID: `${unit}:${record.position}`,
          eventName: 'aws:kinesis:record',
          invokeIdentityArn: options.invokeIdentityArn,
          awsRegion: options.region,
          eventSourceARN: options.streamArn,
        })),
      };
      if (window) {
        event.window = { start: window.start, end: window.end };
        event.state = window.state;
        event.shardId = unit;
        event.eventSourceARN = options.streamArn;
        event.isFinalInvokeForWindow = window.isFinalInvokeForWindow;
        event.isWindowTerminatedEarly = window.isWindowTerminatedEarly;
      }
      return event;
    },
    reportedFailures(_unit, records, failures) {
      const positions = new Set(records.map((record) => record.position));
      const named: string[] = [];
      for (const failure of failures) {
        const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
        if (typeof id !== 'string' || id === '' || !positions.has(id)) return undefined;
        named.push(id);
      }
      return named;
    },
    batchInfo(unit, records) {
      const first = records[0];
      const last = records[records.length - 1];
      return {
        key: 'KinesisBatchInfo',
        value: {
          shardId: unit,
          startSequenceNumber: first.position,
          endSequenceNumber: last.position,
          approximateArrivalOfFirstRecord: iso(first.arrivalTime),
          approximateArrivalOfLastRecord: iso(last.arrivalTime),
          batchSize: records.length,
          streamArn: options.streamArn,
        },
      };
    },
  };
}

export interface MskEventFormatOptions {
  clusterArn: string;
  topic: string;
  /** Comma-separated `host:port` list, as Lambda puts it in the event. */
  bootstrapServers: string;
}

/** The MSK event of one topic-partition's batch: `records: { '<topic>-<partition>': [...] }`. */
export function mskEventFormat(options: MskEventFormatOptions): EventFormat {
  const topicPartition = (unit: string) => `${options.topic}-${unit}`;
  return {
    eventSource: 'aws:kafka',
    supportsTumblingWindow: false,
    eventSourceArn: options.clusterArn,
    event(unit, records) {
      return {
        eventSource: 'aws:kafka',
        eventSourceArn: options.clusterArn,
        bootstrapServers: options.bootstrapServers,
        records: {
          [topicPartition(unit)]: records.map((record) => ({
            topic: options.topic,
            partition: Number(unit),
            offset: Number(record.position),
            timestamp: record.arrivalTime,
            timestampType: 'CREATE_TIME',
            key: Buffer.from(record.key, 'utf8').toString('base64'),
            value: record.data.toString('base64'),
            headers: [],
          })),
        },
      };
    },
    reportedFailures(unit, records, failures) {
      const offsets = new Set(records.map((record) => record.position));
      const named: string[] = [];
      for (const failure of failures) {
        const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier as { partition?: unknown; offset?: unknown } | undefined;
        if (typeof id !== 'object' || id === null) return undefined;
        if (id.partition !== topicPartition(unit)) return undefined;
        const offset = typeof id.offset === 'number' || typeof id.offset === 'string' ? String(id.offset) : undefined;
        if (offset === undefined || !offsets.has(offset)) return undefined;
        named.push(offset);
      }
      return named;
    },
    batchInfo(unit, records) {
      const first = records[0];
      const last = records[records.length - 1];
      return {
        key: 'KafkaBatchInfo',
        value: {
          batchSize: records.length,
          eventSourceArn: options.clusterArn,
          bootstrapServers: options.bootstrapServers,
          payloadSize: Buffer.byteLength(JSON.stringify(this.event(unit, records))),
          recordsInfo: {
            [topicPartition(unit)]: {
              firstRecordOffset: first.position,
              lastRecordOffset: last.position,
              firstRecordTimestamp: iso(first.arrivalTime),
              lastRecordTimestamp: iso(last.arrivalTime),
            },
          },
        },
      };
    },
  };
}

/** The sandbox's stand-in ARNs: the speed layer function, its role, and the Kafka "cluster". */
export function sandboxArns(settings: SandboxSettings, functionName = 'tributary-speed-layer') {
  const account = settings.accountId;
  return {
    functionArn: `arn:aws:lambda:${settings.region}:${account}:function:${functionName}`,
    roleArn: `arn:aws:iam::${account}:role/${functionName}`,
    clusterArn: `arn:aws:kafka:${settings.region}:${account}:cluster/tributary-sandbox/00000000-0000-0000-0000-000000000000-1`,
    streamArn: streamArn(settings),
  };
}

/** The event format for the log the settings choose. */
export function eventFormatFor(settings: SandboxSettings, functionName?: string): EventFormat {
  const arns = sandboxArns(settings, functionName);
  if (settings.log === 'kinesis') {
    return kinesisEventFormat({ streamArn: arns.streamArn, region: settings.region, invokeIdentityArn: arns.roleArn });
  }
  return mskEventFormat({
    clusterArn: arns.clusterArn,
    topic: settings.streamName,
    bootstrapServers: `127.0.0.1:${settings.ports.kafka}`,
  });
}
