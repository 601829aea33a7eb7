import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Context, KinesisStreamBatchResponse } from 'aws-lambda';
import { alertJson, validateAlertRecord, type AlertRecord } from '../shared/alert';
import { decodeEvent } from '../shared/event-source';
import type { KinesisEvent } from '../shared/kinesis';
import { deadLetterBody, deadLetterKey } from '../shared/lake';
import type { MskBatchResponse, MskEvent } from '../shared/msk';
import { orderedUnits, type SourceRecord } from '../shared/source-record';
import type { AlertNotifierEnv } from './env';
import { alertsDeadLetterPrefix } from './layout';

/**
 * The alert notifier: reads the alerts log (Kinesis or MSK event source mapping) and delivers each alert to
 * the SNS alerts topic once per path. Producers write the log at least once (a retried speed-layer batch, a
 * Flink restore), so each alert is published through Powertools Idempotency keyed by `<detectedBy>:<alertId>`
 * with DynamoDB persistence; a record whose key is COMPLETED is not published again while the idempotency
 * record lives (IDEMPOTENCY_EXPIRY_SECONDS = the log's retention). See docs/speed-layer.md, "The alert notifier".
 * Powertools' API as documented (makeIdempotent with eventKeyJmesPath, https://docs.aws.amazon.com/powertools/
 * typescript/latest/api/functions/_aws-lambda-powertools_idempotency.index.makeIdempotent.html) and as version
 * 2.35.0 implements it: the INPROGRESS / COMPLETED records, the deletion of the record when the function throws,
 * the responseHook on an existing COMPLETED record.
 *
 * Failure handling as the speed layer's: a malformed record is dead-lettered with its reason and not reported
 * (the rest of the batch goes on); a failed publish or dead-letter write reports that record and every later
 * record of its shard / topic-partition, since Lambda resumes each from its lowest reported record.
 */

export interface AlertNotifierDependencies {
  env: Pick<AlertNotifierEnv, 'ALERTS_TOPIC_ARN' | 'LAKE_BUCKET_NAME' | 'DEAD_LETTER_PREFIX' | 'IDEMPOTENCY_EXPIRY_SECONDS'>;
  s3: S3Client;
  sns: SNSClient;
  /** Powertools' DynamoDB persistence layer in the function (index.ts). */
  persistenceStore: BasePersistenceLayer;
  logger: Logger;
  metrics: Metrics;
  /** Processing time: the hour of a dead letter whose envelope has no arrival time. */
  clock?: () => number;
}

/**
 * The stored idempotency key is `<prefix>#<md5 of the JSON of "<detectedBy>:<alertId>">`. The prefix is fixed,
 * not Powertools' default (the function's name), so a redeployment that renames the function still finds the
 * records written before it.
 */
export const IDEMPOTENCY_KEY_PREFIX = 'tributary-alert-notifier';

/** What is made idempotent: one publish, keyed by `idempotencyKey` (the JMESPath below). */
interface PublishRequest {
  idempotencyKey: string;
  alert: AlertRecord;
}

export function idempotencyKeyOf(alert: AlertRecord): string {
  return `${alert.detectedBy}:${alert.alertId}`;
}

type Delivery = { messageId: string; duplicate: boolean };

export type AlertNotifierEvent = KinesisEvent | MskEvent;

export interface AlertNotifierHandler {
  (event: KinesisEvent, context?: Context): Promise<KinesisStreamBatchResponse>;
  (event: MskEvent, context?: Context): Promise<MskBatchResponse>;
}

export function createAlertNotifierHandler(deps: AlertNotifierDependencies): AlertNotifierHandler {
  const { env, s3, sns, logger, metrics } = deps;
  const clock = deps.clock ?? Date.now;
  const deadLetterPrefix = alertsDeadLetterPrefix(env.DEAD_LETTER_PREFIX);

  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'idempotencyKey',
    expiresAfterSeconds: env.IDEMPOTENCY_EXPIRY_SECONDS,
    throwOnNoIdempotencyKey: true,
    // Called only when the key's record is already COMPLETED, with the response stored then.
    responseHook: (response) => ({ ...(response as Delivery), duplicate: true }),
  });

  const publish = async (request: PublishRequest): Promise<Delivery> => {
    const { alert } = request;
    const output = await sns.send(
      new PublishCommand({
        TopicArn: env.ALERTS_TOPIC_ARN,
        Message: alertJson(alert),
        MessageAttributes: {
          alertId: { DataType: 'String', StringValue: alert.alertId },
          rule: { DataType: 'String', StringValue: alert.rule },
          detectedBy: { DataType: 'String', StringValue: alert.detectedBy },
        },
      }),
    );
    return { messageId: output.MessageId ?? '', duplicate: false };
  };
  const publishOnce = makeIdempotent(publish, { persistenceStore: deps.persistenceStore, config, keyPrefix: IDEMPOTENCY_KEY_PREFIX });

  type Outcome = 'published' | 'duplicate' | 'dead_lettered' | 'failed';

  async function deadLetter(record: SourceRecord, why: { reason: string; detail: string; errors: Array<{ path: string; message: string }> }): Promise<Outcome> {
    await s3.send(
      new PutObjectCommand({
        Bucket: env.LAKE_BUCKET_NAME,
        Key: deadLetterKey(deadLetterPrefix, record.coordinates, clock()),
        Body: deadLetterBody(record, why),
        ContentType: 'application/x-ndjson',
      }),
    );
    logger.warn('Malformed alert record dead-lettered', {
      shardId: record.coordinates.shardId,
      sequenceNumber: record.coordinates.sequenceNumber,
      reason: why.reason,
      detail: why.detail,
    });
    return 'dead_lettered';
  }

  /** One unit's records, all at once; the same key twice in a batch is published by its first record only. */
  async function processUnit(records: readonly SourceRecord[]) {
    const byKey = new Map<string, Promise<Outcome>>();
    const outcomes = await Promise.all(
      records.map(async (record): Promise<Outcome> => {
        try {
          const validation = validateAlertRecord(record);
          if (!validation.valid) return await deadLetter(record, validation);
          const idempotencyKey = idempotencyKeyOf(validation.alert);
          const earlier = byKey.get(idempotencyKey);
          if (earlier) return (await earlier) === 'failed' ? 'failed' : 'duplicate';
          const delivery = publishOnce({ idempotencyKey, alert: validation.alert }).then(
            (d): Outcome => (d.duplicate ? 'duplicate' : 'published'),
          );
          byKey.set(idempotencyKey, delivery.catch((): Outcome => 'failed'));
          return await delivery;
        } catch (error) {
          logger.error('Alert not delivered; this record and the rest of its unit will be redelivered', {
            shardId: record.coordinates.shardId,
            sequenceNumber: record.coordinates.sequenceNumber,
            error: error as Error,
          });
          return 'failed';
        }
      }),
    );
    const firstFailed = outcomes.indexOf('failed');
    const failed = firstFailed < 0 ? [] : records.slice(firstFailed);
    const count = (o: Outcome) => outcomes.filter((x) => x === o).length;
    metrics.addMetric('AlertRecordsIn', MetricUnit.Count, records.length);
    metrics.addMetric('AlertsPublished', MetricUnit.Count, count('published'));
    metrics.addMetric('AlertsDuplicate', MetricUnit.Count, count('duplicate'));
    metrics.addMetric('AlertRecordsDeadLettered', MetricUnit.Count, count('dead_lettered'));
    metrics.addMetric('AlertRecordsRetried', MetricUnit.Count, failed.length);
    logger.info('Alerts processed', {
      shardId: records[0].coordinates.shardId,
      firstSequenceNumber: records[0].coordinates.sequenceNumber,
      lastSequenceNumber: records[records.length - 1].coordinates.sequenceNumber,
      records: records.length,
      published: count('published'),
      duplicates: count('duplicate'),
      deadLettered: count('dead_lettered'),
      reportedFailures: failed.length,
    });
    return failed;
  }

  async function handler(event: AlertNotifierEvent, context?: Context): Promise<KinesisStreamBatchResponse | MskBatchResponse> {
    if (context) {
      logger.addContext(context);
      // So that an in-progress record of an invocation that dies expires with it (Powertools' in-progress expiry).
      config.registerLambdaContext(context);
    }
    metrics.captureColdStartMetric();
    try {
      // An event that cannot even be decoded has nothing to report: throw and let Lambda retry.
      // The alerts log has no tumbling window; a window on the mapping would change nothing here.
      const decoded = decodeEvent(event);
      const failed: SourceRecord[] = [];
      for (const failedInUnit of await Promise.all(orderedUnits(decoded.records).map(processUnit))) failed.push(...failedInUnit);
      return decoded.failureResponse(failed);
    } finally {
      metrics.publishStoredMetrics();
    }
  }
  return handler as AlertNotifierHandler;
}
