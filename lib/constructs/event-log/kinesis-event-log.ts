import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import type { AlertsLogEnvironment } from '../../speed-layer-environment';
import type { AlertNotifierSourceOptions, FlinkAlertsSink, IAlertsLog } from './alerts-log';
import type { ArchiveSourceConfiguration, FlinkMetrics, IEventLog, SpeedLayerSourceOptions } from './event-log';
import { acknowledge, AS_PRINTED, DEPLOYED, type PseudoParameters } from '../acknowledge';
import { EVENT_SOURCE_FAILURE_HANDLING } from '../../names';

export interface KinesisEventLogProps {
  /** Name of the stream. A fixed name lets other stacks build ARNs under it without cross-stack tokens. */
  readonly streamName: string;
  /** `on-demand` scales by itself; `provisioned` uses `shardCount`. */
  readonly capacityMode: 'on-demand' | 'provisioned';
  /** Shards of a provisioned stream. Ignored on-demand. */
  readonly shardCount: number;
  /** Retention, 24 h to 365 days: the replay horizon. */
  readonly retention: Duration;
  /** Give the speed layer its own enhanced fan-out consumer. */
  readonly enhancedFanOut: boolean;
  /** What happens to the stream and its key when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  /** The alerts log beside the events stream: a provisioned stream of its own, with its own key and retention. */
  readonly alerts: KinesisAlertsLogProps;
}

export interface KinesisAlertsLogProps {
  /** Name of the alerts stream. */
  readonly streamName: string;
  /** Shards of the (provisioned) alerts stream: each takes 1,000 alerts/s. */
  readonly shardCount: number;
  /** Retention, 24 h to 365 days. */
  readonly retention: Duration;
}

const MIN_RETENTION_HOURS = 24;
const MAX_RETENTION_HOURS = 8760;

function checkRetention(what: string, retention: Duration): number {
  const hours = retention.toHours();
  if (hours < MIN_RETENTION_HOURS || hours > MAX_RETENTION_HOURS) {
    throw new Error(`${what} retention must be ${MIN_RETENTION_HOURS}-${MAX_RETENTION_HOURS} hours, got ${hours}.`);
  }
  return hours;
}

/** The event log on Amazon Kinesis Data Streams, encrypted with a customer-managed key. */
export class KinesisEventLog extends Construct implements IEventLog {
  public readonly stream: kinesis.Stream;
  public readonly key: kms.Key;
  public readonly alerts: KinesisAlertsLog;
  public readonly replayHorizon: Duration;
  public readonly description: string;
  public readonly streamName: string;
  public readonly flinkConnector = {
    artifact: 'org.apache.flink:flink-connector-aws-kinesis-streams',
    className: 'org.apache.flink.connector.kinesis.source.KinesisStreamsSource',
  };
  private readonly enhancedFanOut: boolean;
  private speedLayerConsumer?: kinesis.StreamConsumer;

  constructor(scope: Construct, id: string, props: KinesisEventLogProps) {
    super(scope, id);
    const hours = checkRetention('KinesisEventLog', props.retention);
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the Tributary event log at rest',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    const provisioned = props.capacityMode === 'provisioned';
    this.stream = new kinesis.Stream(this, 'Stream', {
      streamName: props.streamName,
      streamMode: provisioned ? kinesis.StreamMode.PROVISIONED : kinesis.StreamMode.ON_DEMAND,
      shardCount: provisioned ? props.shardCount : undefined,
      retentionPeriod: props.retention,
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.key,
      removalPolicy: props.removalPolicy,
    });
    acknowledge(this.stream, {
      'AwsSolutions-KDS3':
        'A customer-managed key on purpose: its policy, rotation and per-consumer grants are under the platform\'s control, which the aws/kinesis key does not allow.',
    });
    this.alerts = new KinesisAlertsLog(this, 'Alerts', { ...props.alerts, removalPolicy: props.removalPolicy });
    this.streamName = props.streamName;
    this.replayHorizon = props.retention;
    this.enhancedFanOut = props.enhancedFanOut;
    this.description =
      `Kinesis Data Streams, ${provisioned ? `provisioned with ${props.shardCount} shard(s)` : 'on-demand'}, ` +
      `KMS-encrypted, retention ${hours} h (the replay horizon)` +
      (props.enhancedFanOut ? ', enhanced fan-out for the speed layer' : '');
  }

  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.stream.grantWrite(grantee);
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.stream.grantRead(grantee);
  }

  public speedLayerEventSource(options: SpeedLayerSourceOptions): lambda.IEventSource {
    const props: sources.KinesisEventSourceProps = {
      startingPosition: lambda.StartingPosition[options.startingPosition],
      batchSize: options.batchSize,
      maxBatchingWindow: options.maxBatchingWindow,
      parallelizationFactor: options.parallelizationFactor,
      retryAttempts: options.retryAttempts,
      maxRecordAge: options.maxRecordAge,
      tumblingWindow: options.tumblingWindow,
      ...EVENT_SOURCE_FAILURE_HANDLING,
      onFailure: options.onFailure,
    };
    if (!this.enhancedFanOut) return new sources.KinesisEventSource(this.stream, props);
    // One dedicated consumer, created on first use, so the speed layer does not share read throughput.
    this.speedLayerConsumer ??= new kinesis.StreamConsumer(this, 'SpeedLayerConsumer', {
      stream: this.stream,
      streamConsumerName: 'speed-layer',
    });
    return new sources.KinesisConsumerEventSource(this.speedLayerConsumer, props);
  }

  public archiveSource(role: iam.IRole): ArchiveSourceConfiguration {
    this.grantRead(role);
    return {
      deliveryStreamType: 'KinesisStreamAsSource',
      kinesisStreamSourceConfiguration: { kinesisStreamArn: this.stream.streamArn, roleArn: role.roleArn },
    };
  }

  public flinkSource(role: iam.IRole, options: { consumerName: string }): Record<string, Record<string, string>> {
    this.grantRead(role);
    const kinesis: Record<string, string> = { 'aws.region': Aws.REGION, 'stream.arn': this.stream.streamArn };
    if (this.enhancedFanOut) {
      // The Flink source registers (and on stop deregisters) its own consumer under this name.
      kinesis['efo.consumer.name'] = options.consumerName;
      const consumers = (pseudo: PseudoParameters) => `${this.localStreamArn(pseudo)}/consumer/${options.consumerName}:*`;
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['kinesis:RegisterStreamConsumer', 'kinesis:DeregisterStreamConsumer', 'kinesis:DescribeStreamConsumer'],
        resources: [this.stream.streamArn, consumers(DEPLOYED)],
      }));
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kinesis:SubscribeToShard'], resources: [consumers(DEPLOYED)] }));
      acknowledge(role, {
        [`AwsSolutions-IAM5[Resource::${consumers(AS_PRINTED)}]`]:
          'A consumer ARN ends in its creation time, known only once Flink registers it; the grant is confined to this one consumer name.',
      });
    }
    return { Source: { type: 'kinesis' }, Kinesis: kinesis };
  }

  /**
   * The stream's ARN built from this stack's pseudo-parameters and the stream's
   * fixed name, so that a wildcard under it names no cross-stack token.
   */
  private localStreamArn(pseudo: PseudoParameters): string {
    return `arn:${pseudo.partition}:kinesis:${pseudo.region}:${pseudo.account}:stream/${this.streamName}`;
  }

  public metricSpeedLayerLag(handler: lambda.IFunction): cloudwatch.IMetric {
    return handler.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) });
  }

  public metricFlinkLag(application: FlinkMetrics): cloudwatch.IMetric {
    // GetRecords.IteratorAgeMilliseconds does not see enhanced fan-out readers: the Kinesis source reports
    // how far it is behind itself (Application level, one series per stream; -1 until it has read).
    return application.metric('millisBehindLatest', { statistic: 'Maximum' });
  }

  public metricConsumerLag(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.stream.metricGetRecordsIteratorAgeMilliseconds({ statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }
}

/**
 * The alerts log on Kinesis: a second stream, provisioned (alerts are few; one shard takes 1,000 a second,
 * at a fraction of an on-demand stream's hourly charge), encrypted with its own customer-managed key, with
 * its own retention. Producers write with the card id as partition key, so a card's alerts keep their order.
 */
export class KinesisAlertsLog extends Construct implements IAlertsLog {
  public readonly stream: kinesis.Stream;
  public readonly key: kms.Key;
  public readonly retention: Duration;
  public readonly description: string;

  constructor(scope: Construct, id: string, props: KinesisAlertsLogProps & { readonly removalPolicy: RemovalPolicy }) {
    super(scope, id);
    const hours = checkRetention('KinesisAlertsLog', props.retention);
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the Tributary alerts log at rest',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    this.stream = new kinesis.Stream(this, 'Stream', {
      streamName: props.streamName,
      streamMode: kinesis.StreamMode.PROVISIONED,
      shardCount: props.shardCount,
      retentionPeriod: props.retention,
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.key,
      removalPolicy: props.removalPolicy,
    });
    acknowledge(this.stream, {
      'AwsSolutions-KDS3':
        'A customer-managed key on purpose: its policy, rotation and per-reader grants are under the platform\'s control, which the aws/kinesis key does not allow.',
    });
    this.retention = props.retention;
    this.description = `Kinesis Data Streams ${props.streamName}, provisioned with ${props.shardCount} shard(s), KMS-encrypted, retention ${hours} h`;
  }

  /**
   * What the Kinesis guide gives a producer of a stream encrypted with a customer-managed key: PutRecord(s)
   * on the stream and kms:GenerateDataKey on its key (https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html),
   * not the wildcard actions (kms:GenerateDataKey*, kms:ReEncrypt*) of the stream's own grantWrite.
   */
  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    this.key.grant(grantee, 'kms:GenerateDataKey');
    return iam.Grant.addToPrincipal({ grantee, actions: ['kinesis:PutRecord', 'kinesis:PutRecords'], resourceArns: [this.stream.streamArn] });
  }

  public producerTarget(): AlertsLogEnvironment {
    return { type: 'kinesis', streamName: this.stream.streamName };
  }

  public flinkSink(): FlinkAlertsSink {
    // The region comes from the Kinesis group, which the events stream's source sets (flinkSource).
    return { sink: 'kinesis', 'stream.arn': this.stream.streamArn };
  }

  public notifierEventSource(options: AlertNotifierSourceOptions): lambda.IEventSource {
    return new sources.KinesisEventSource(this.stream, {
      startingPosition: lambda.StartingPosition[options.startingPosition],
      batchSize: options.batchSize,
      maxBatchingWindow: options.maxBatchingWindow,
      parallelizationFactor: options.parallelizationFactor,
      retryAttempts: options.retryAttempts,
      maxRecordAge: options.maxRecordAge,
      ...EVENT_SOURCE_FAILURE_HANDLING,
      onFailure: options.onFailure,
    });
  }

  public metricNotifierLag(handler: lambda.IFunction): cloudwatch.IMetric {
    return handler.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) });
  }
}
