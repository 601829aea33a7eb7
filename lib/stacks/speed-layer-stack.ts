import * as path from 'node:path';
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type PlatformConfig, removalPolicyFor } from '../config';
import type { IEventLog } from '../constructs/event-log';
import { PlatformFunction } from '../constructs/platform-function';
import { LakePrefix, SPEED_DEAD_LETTER_PREFIX } from '../lake-layout';
import type { LakeStack } from './lake-stack';
import { acknowledge } from '../constructs/acknowledge';
import { failedBatchesQueue, metricFailedBatches } from '../constructs/failed-batches-queue';
import { powertoolsMetric } from '../constructs/service-metrics';
import { SPEED_LAYER_METRICS, speedLayerEnvironment } from '../speed-layer-environment';
import { cardFraud } from '../../products/card-fraud';

export interface SpeedLayerStackProps extends StackProps {
  readonly config: PlatformConfig;
  readonly eventLog: IEventLog;
  readonly lake: LakeStack;
}

/** Where the handler's Powertools EMF metrics land: namespace, and the `service` dimension Powertools adds. */
export { SPEED_LAYER_METRICS };

/** Variables the Node.js runtime itself reads, not the handler (set by PlatformFunction); the env contract test allows exactly these. */
export const RUNTIME_ENVIRONMENT_KEYS = ['NODE_OPTIONS'] as const;

/**
 * The speed layer: a Lambda function on the event log computing the speed view
 * (partial aggregates), fraud rules R1 and R2, and alerts, within seconds. Its
 * alerts go to the lake and to the alerts log (the alert notifier, AlertsStack,
 * delivers them to SNS). Malformed records go to the lake's dead-letter prefix
 * with their reason; the batches the event source finally gives up on go to an
 * encrypted SQS queue.
 */
export class SpeedLayerStack extends Stack {
  public readonly handler: PlatformFunction;
  public readonly failedBatchesQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SpeedLayerStackProps) {
    super(scope, id, props);
    const { config, lake } = props;
    const speed = config.speedLayer;
    const removalPolicy = removalPolicyFor(config);

    const key = new kms.Key(this, 'Key', {
      description: 'Encrypts the speed layer failed-batches queue',
      enableKeyRotation: true,
      removalPolicy,
    });

    this.failedBatchesQueue = failedBatchesQueue(this, { key, removalPolicy, consumer: 'the speed layer' });

    const environment = speedLayerEnvironment({
      bucketName: lake.bucket.bucketName,
      alertsLog: props.eventLog.alerts.producerTarget(),
      rules: cardFraud.rules,
    });

    this.handler = new PlatformFunction(this, 'Handler', {
      description: 'Tributary speed layer: speed view, fraud rules R1/R2, alerts',
      entry: path.join(__dirname, '..', '..', 'lambdas', 'speed-layer', 'index.ts'),
      memorySize: speed.memoryMiB,
      timeout: Duration.seconds(speed.timeoutSeconds),
      environment,
      logRetention: config.observability.logRetentionDays,
      removalPolicy,
      network: props.eventLog.network,
    });
    const role = this.handler.role!;

    lake.grantWrite(this.handler, LakePrefix.speed);
    lake.grantWrite(this.handler, SPEED_DEAD_LETTER_PREFIX);
    // A failed write to the alerts log fails the unit, as a failed S3 write does (the batch is redelivered).
    props.eventLog.alerts.grantWrite(this.handler);
    acknowledge(role, {
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]':
        "Granted by the on-failure destination (SqsDlq) to send to the queue encrypted with this stack's own key.",
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]':
        "Granted by the on-failure destination (SqsDlq) to send to the queue encrypted with this stack's own key.",
    });

    this.handler.addEventSource(
      props.eventLog.speedLayerEventSource({
        batchSize: speed.batchSize,
        maxBatchingWindow: Duration.seconds(speed.maxBatchingWindowSeconds),
        parallelizationFactor: speed.parallelizationFactor,
        retryAttempts: speed.retryAttempts,
        maxRecordAge: Duration.seconds(speed.maxRecordAgeSeconds),
        tumblingWindow: speed.tumblingWindowSeconds > 0 ? Duration.seconds(speed.tumblingWindowSeconds) : undefined,
        startingPosition: speed.startingPosition,
        onFailure: new SqsDlq(this.failedBatchesQueue),
      }),
    );
  }

  /**
   * One of the handler's Powertools metrics (lambdas/speed-layer): `RecordsIn`, `RecordsValid`,
   * `RecordsDeadLettered`, `Alerts`, ...
   * @default statistic Sum, period 1 minute
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return powertoolsMetric(SPEED_LAYER_METRICS, metricName, props);
  }

  /** Malformed records written to the dead-letter prefix with their reason. */
  public metricRecordsDeadLettered(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('RecordsDeadLettered', props);
  }

  /** Batches the event source gave up on, waiting in the failed-batches queue. */
  public metricFailedBatches(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return metricFailedBatches(this.failedBatchesQueue, props);
  }
}
