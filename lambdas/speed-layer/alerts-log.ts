import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { Kafka, logLevel, Partitioners, type KafkaConfig, type Producer } from 'kafkajs';
import { alertMessage } from './alerts';
import type { AlertsLogTarget } from './env';
import type { Alert } from './rules';

/**
 * The speed layer's side of the alerts log (docs/speed-layer.md, "The alerts log"): each alert is one record,
 * key (Kinesis partition key / Kafka record key) = the card id, value = the alert JSON in UTF-8, the same
 * record the Flink job writes. `append` resolves only when the log has accepted every alert it was given;
 * otherwise it rejects and the handler has the unit redelivered, exactly as after a failed S3 write. A
 * redelivery can append an alert a second time (at least once, same alertId): the alert notifier delivers
 * each `<detectedBy>:<alertId>` once.
 *
 * The writer is made once per container (index.ts) and reused by every invocation: the Kafka producer
 * connects on first use and keeps its connections while the container lives.
 */
export interface AlertsLog {
  append(alerts: readonly Alert[]): Promise<void>;
  close(): Promise<void>;
}

/** An append the log did not (wholly) accept, with what it said about each refused alert. */
export class AlertsLogWriteError extends Error {
  constructor(
    message: string,
    readonly refused: ReadonlyArray<{ alertId: string; errorCode?: string; errorMessage?: string }>,
  ) {
    super(message);
    this.name = 'AlertsLogWriteError';
  }
}

/** One alert as a log record: the card id as key (one card's alerts stay in order on one shard/partition), the JSON as value. */
export function alertsLogRecord(alert: Alert): { key: string; value: string } {
  return { key: alert.cardId, value: alertMessage(alert) };
}

/** PutRecords takes at most 500 records per request (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html). */
export const PUT_RECORDS_MAX_ENTRIES = 500;

/**
 * Kinesis: PutRecords on the alerts stream. PutRecords is not atomic: the call succeeds while single records
 * fail, reported by `FailedRecordCount` and, for each failed record, `ErrorCode` (ProvisionedThroughputExceeded
 * Exception or InternalFailure) at the record's own index in `Records`
 * (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html,
 * https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecordsResultEntry.html). Any failed record
 * fails the append; the accepted ones come again with the redelivered unit (at least once).
 */
export function kinesisAlertsLog(client: KinesisClient, streamName: string): AlertsLog {
  return {
    async append(alerts) {
      for (let start = 0; start < alerts.length; start += PUT_RECORDS_MAX_ENTRIES) {
        const chunk = alerts.slice(start, start + PUT_RECORDS_MAX_ENTRIES);
        const entries: PutRecordsRequestEntry[] = chunk.map((alert) => {
          const record = alertsLogRecord(alert);
          return { PartitionKey: record.key, Data: Buffer.from(record.value, 'utf8') };
        });
        const response = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
        const results = response.Records ?? [];
        const refused = chunk
          .map((alert, i) => ({ alertId: alert.alertId, errorCode: results[i]?.ErrorCode, errorMessage: results[i]?.ErrorMessage, accepted: results[i]?.SequenceNumber !== undefined }))
          .filter((r) => r.errorCode !== undefined || !r.accepted)
          .map(({ accepted: _accepted, ...r }) => r);
        if ((response.FailedRecordCount ?? 0) > 0 || refused.length > 0) {
          throw new AlertsLogWriteError(
            `PutRecords to ${streamName}: ${response.FailedRecordCount ?? refused.length} of ${chunk.length} alerts refused (${refused[0]?.errorCode ?? 'no result'})`,
            refused,
          );
        }
      }
    },
    async close() {},
  };
}

export interface KafkaAlertsLogOptions {
  brokers: string[];
  topic: string;
  auth: 'iam' | 'none';
  /** The region the IAM token is signed for (auth `iam`). */
  region?: string;
  /** Connection, retry and log settings to override (tests shorten and silence them). */
  kafka?: Partial<Pick<KafkaConfig, 'connectionTimeout' | 'requestTimeout' | 'retry' | 'logLevel'>>;
}

/**
 * Kafka: a kafkajs producer with acks = all (-1: every in-sync replica has the record before the broker
 * answers), so an accepted alert survives the loss of the partition leader. IAM auth as MSK takes it (TLS and
 * SASL OAUTHBEARER carrying a token from aws-msk-iam-sasl-signer-js, as lambdas/msk-topic does); `none` is the
 * sandbox's plaintext broker. Not the idempotent producer: it would need kafka-cluster:WriteDataIdempotently
 * and buys nothing here, since the notifier deduplicates by alert id anyway. The partitioner is kafkajs'
 * Java-compatible default (murmur2 of the key), so a card's alerts land on the partition Flink's Java producer
 * picks for the same key. A failed send drops the producer; the next append connects afresh.
 */
export function kafkaAlertsLog(options: KafkaAlertsLogOptions): AlertsLog & { readonly connects: number } {
  const kafka = new Kafka({
    clientId: 'tributary-speed-layer',
    brokers: options.brokers,
    connectionTimeout: 5_000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2_000 },
    logLevel: logLevel.WARN,
    ...(options.auth === 'iam'
      ? {
          ssl: true,
          sasl: {
            mechanism: 'oauthbearer' as const,
            oauthBearerProvider: async () => ({ value: (await generateAuthToken({ region: regionOf(options) })).token }),
          },
        }
      : {}),
    ...options.kafka,
  });
  let producer: Promise<Producer> | undefined;
  let connects = 0;

  function connected(): Promise<Producer> {
    if (!producer) {
      const created = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      connects += 1;
      producer = created.connect().then(() => created);
      producer.catch(() => undefined);
    }
    return producer;
  }

  async function drop(): Promise<void> {
    const current = producer;
    producer = undefined;
    await current?.then((p) => p.disconnect()).catch(() => undefined);
  }

  return {
    get connects() {
      return connects;
    },
    async append(alerts) {
      if (alerts.length === 0) return;
      try {
        const p = await connected();
        await p.send({ topic: options.topic, acks: -1, messages: alerts.map(alertsLogRecord) });
      } catch (error) {
        await drop();
        throw error;
      }
    },
    close: drop,
  };
}

function regionOf(options: KafkaAlertsLogOptions): string {
  if (!options.region) throw new Error('The alerts log on MSK with IAM auth needs the region to sign its token for');
  return options.region;
}

/** The writer the environment asks for. */
export function alertsLogFor(target: AlertsLogTarget, clients: { kinesis: () => KinesisClient; region: () => string }): AlertsLog {
  if (target.type === 'kinesis') return kinesisAlertsLog(clients.kinesis(), target.streamName);
  return kafkaAlertsLog({ brokers: target.brokers, topic: target.topic, auth: target.auth, region: target.auth === 'iam' ? clients.region() : undefined });
}
