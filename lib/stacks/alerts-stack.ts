import * as path from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type PlatformConfig, removalPolicyFor } from '../config';
import { acknowledge } from '../constructs/acknowledge';
import { failedBatchesQueue, metricFailedBatches } from '../constructs/failed-batches-queue';
import { powertoolsMetric } from '../constructs/service-metrics';
import type { IEventLog } from '../constructs/event-log';
import { PlatformFunction } from '../constructs/platform-function';
import { ALERT_NOTIFIER_DEAD_LETTER_PREFIX, ALERT_NOTIFIER_METRICS, alertNotifierEnvironment } from '../speed-layer-environment';
import type { LakeStack } from './lake-stack';

export interface AlertsStackProps extends StackProps {
  readonly config: PlatformConfig;
  readonly eventLog: IEventLog;
  readonly lake: LakeStack;
}

export { ALERT_NOTIFIER_METRICS };

/** The actions Powertools' DynamoDB persistence layer calls on its table (docs/security.md). */
export const IDEMPOTENCY_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;

/**
 * How long the notifier remembers a delivered alert: the longest any producer can deliver it again. A
 * redelivery from the alerts log comes within its retention; a producer re-reading the event log (the
 * speed layer's event source from TRIM_HORIZON after it is recreated) re-emits alerts of events within the
 * event log's retention. (A Kappa replay writes no alerts: it runs with Alerts/sink = none.) The longer of the two covers both.
 */
export function idempotencyExpirySeconds(eventLog: IEventLog): number {
  return Math.max(eventLog.alerts.retention.toSeconds(), eventLog.replayHorizon.toSeconds());
}

/**
 * Delivery of the real-time alerts: the alert notifier, a Lambda function on the alerts log (the
 * event log's second stream or topic) with the speed layer's failure handling, which publishes each
 * alert to the SNS alerts topic once per path (`<detectedBy>:<alertId>`, Powertools idempotency on a
 * DynamoDB table). Alerts from both paths, the speed layer and the Flink job, arrive on the log at
 * least once; subscribers of the topic get each one once (docs/architecture.md, the one residual window
 * included). Batches the event source gives up on go to an encrypted SQS queue; malformed alert
 * records to `deadletter/alerts/` in the lake with their reason.
 */
export class AlertsStack extends Stack {
  public readonly notifier: PlatformFunction;
  public readonly alertsTopic: sns.Topic;
  public readonly idempotencyTable: dynamodb.Table;
  public readonly failedBatchesQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: AlertsStackProps) {
    super(scope, id, props);
    const { config, eventLog, lake } = props;
    const notifier = config.alerts.notifier;
    const removalPolicy = removalPolicyFor(config);

    const key = new kms.Key(this, 'Key', {
      description: 'Encrypts the alerts topic and the alert notifier\'s failed-batches queue',
      enableKeyRotation: true,
      removalPolicy,
    });

    this.alertsTopic = new sns.Topic(this, 'AlertsTopic', {
      topicName: `${config.name}-alerts`,
      displayName: 'Tributary fraud alerts',
      masterKey: key,
      enforceSSL: true,
    });

    this.failedBatchesQueue = failedBatchesQueue(this, { key, removalPolicy, consumer: 'the alert notifier' });

    // Powertools' defaults: partition key `id` (string), TTL attribute `expiration` (epoch seconds).
    this.idempotencyTable = new dynamodb.Table(this, 'Idempotency', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // The AWS-managed key: KMS-encrypted at rest, and DynamoDB uses the key on the caller's behalf, so the
      // notifier needs no key grant of its own.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });

    this.notifier = new PlatformFunction(this, 'Notifier', {
      description: 'Tributary alert notifier: alerts log -> SNS, once per alert and path',
      entry: path.join(__dirname, '..', '..', 'lambdas', 'alert-notifier', 'index.ts'),
      memorySize: notifier.memoryMiB,
      timeout: Duration.seconds(notifier.timeoutSeconds),
      environment: alertNotifierEnvironment({
        bucketName: lake.bucket.bucketName,
        alertsTopicArn: this.alertsTopic.topicArn,
        idempotencyTableName: this.idempotencyTable.tableName,
        idempotencyExpirySeconds: idempotencyExpirySeconds(eventLog),
      }),
      logRetention: config.observability.logRetentionDays,
      removalPolicy,
      // No VPC even on MSK: the event source mapping's pollers reach the brokers from the cluster's subnets,
      // and the function itself calls only SNS, DynamoDB and S3.
    });
    const role = this.notifier.role!;

    this.idempotencyTable.grant(this.notifier, ...IDEMPOTENCY_TABLE_ACTIONS);
    this.alertsTopic.grantPublish(this.notifier);
    lake.grantWrite(this.notifier, ALERT_NOTIFIER_DEAD_LETTER_PREFIX);
    acknowledge(role, {
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]':
        "Granted by the SNS topic's grantPublish on the topic's own key: SNS picks the GenerateDataKey variant.",
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]':
        "Granted by the on-failure destination (SqsDlq) to send to the queue encrypted with this stack's own key.",
      ...(eventLog.network
        ? { 'AwsSolutions-IAM5[Resource::*]': 'X-Ray PutTraceSegments/PutTelemetryRecords, and the network-interface and bootstrap-broker calls the MSK event source mapping makes with the function\'s role, support no resource-level permissions.' }
        : {}),
    });

    this.notifier.addEventSource(eventLog.alerts.notifierEventSource({
      batchSize: notifier.batchSize,
      maxBatchingWindow: Duration.seconds(notifier.maxBatchingWindowSeconds),
      parallelizationFactor: notifier.parallelizationFactor,
      retryAttempts: notifier.retryAttempts,
      maxRecordAge: Duration.seconds(notifier.maxRecordAgeSeconds),
      // Every alert on the log is delivered, also those written before the mapping existed: idempotency drops repeats.
      startingPosition: 'TRIM_HORIZON',
      onFailure: new SqsDlq(this.failedBatchesQueue),
    }));

    new CfnOutput(this, 'AlertsTopicArn', { value: this.alertsTopic.topicArn, description: 'Subscribe here for fraud alerts from both paths (message = the alert JSON; attributes alertId, rule, detectedBy)' });
    new CfnOutput(this, 'IdempotencyTableName', { value: this.idempotencyTable.tableName, description: 'The alert notifier\'s Powertools idempotency records, one per delivered <detectedBy>:<alertId>' });
    new CfnOutput(this, 'FailedBatchesQueueUrl', { value: this.failedBatchesQueue.queueUrl, description: 'Alert batches the notifier\'s event source gave up on' });
  }

  /**
   * One of the notifier's Powertools metrics (lambdas/alert-notifier): `AlertsPublished`, `AlertsDuplicate`,
   * `AlertRecordsDeadLettered`.
   * @default statistic Sum, period 1 minute
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return powertoolsMetric(ALERT_NOTIFIER_METRICS, metricName, props);
  }

  /** Alert batches the notifier's event source gave up on, waiting in the failed-batches queue. */
  public metricFailedBatches(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return metricFailedBatches(this.failedBatchesQueue, props);
  }
}
