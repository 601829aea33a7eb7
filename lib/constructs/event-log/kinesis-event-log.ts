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
  /** `on-demand` scales by itself; `provisioned` uses `shardCount`. @default 'on-demand' */
  readonly capacityMode?: 'on-demand' | 'provisioned';
  /** Shards of a provisioned stream. Ignored on-demand. @default 1 */
  readonly shardCount?: number;
  /** Retention, 24 h to 365 days: the replay horizon. @default Duration.hours(24), the Kinesis default */
  readonly retention?: Duration;
  /** Give the speed layer its own enhanced fan-out consumer. @default false */
  readonly enhancedFanOut?: boolean;
  /** What happens to the stream and its key when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The alerts log beside the events stream: a provisioned stream of its own, with its own key and retention.
   * @default - a stream `<streamName>-alerts` with the defaults of KinesisAlertsLogProps
   */
  readonly alerts?: KinesisAlertsLogProps;
}

export interface KinesisAlertsLogProps {
  /** Name of the alerts stream. @default - `<events stream name>-alerts` */
  readonly streamName?: string;
  /** Shards of the (provisioned) alerts stream: each takes 1,000 alerts/s. @default 1 */
  readonly shardCount?: number;
  /** Retention, 24 h to 365 days. @default Duration.hours(24) */
  readonly retention?: Duration;
}

/** The Kinesis default retention, and the shortest: the defaults of both streams. */
const DEFAULT_RETENTION = Duration.hours(24);

const MIN_RETENTION_HOURS = 24;
const MAX_RETENTION_HOURS = 8760;

function checkRetention(what: string, retention: Duration): number {
  const hours = retention.toHours();
  if (hours < MIN_RETENTION_HOURS || hours > MAX_RETENTION_HOURS) {
    throw new Error(`${what} retention must be ${MIN_RETENTION_HOURS}-${MAX_RETENTION_HOURS} hours, got ${hours}.`);
  }
  return hours;
}

/**
 * A Kinesis stream encrypted with a key of its own (rotated): the events stream and the alerts stream are
 * built the same way, and differ only in what the key says it protects, the capacity and the retention.
 */
function encryptedStream(
  scope: Construct,
  props: {
    readonly purpose: string;
    readonly streamName: string;
    readonly streamMode: kinesis.StreamMode;
    readonly shardCount?: number;
    readonly retention: Duration;
    readonly removalPolicy: RemovalPolicy;
  },
): { key: kms.Key; stream: kinesis.Stream } {
  const key = new kms.Key(scope, 'Key', {
    description: `Encrypts the Tributary ${props.purpose} at rest`,
    enableKeyRotation: true,
    removalPolicy: props.removalPolicy,
  });
  const stream = new kinesis.Stream(scope, 'Stream', {
    streamName: props.streamName,
    streamMode: props.streamMode,
    shardCount: props.shardCount,
    retentionPeriod: props.retention,
    encryption: kinesis.StreamEncryption.KMS,
    encryptionKey: key,
    removalPolicy: props.removalPolicy,
  });
  acknowledge(stream, {
    'AwsSolutions-KDS3':
      'A customer-managed key on purpose: its policy, rotation and per-reader grants are under the platform\'s control, which the aws/kinesis key does not allow.',
  });
  return { key, stream };
}

/**
 * The Lambda event source settings every function reading a Kinesis stream of the platform shares: the
 * failure contract (bisect, partial batch responses, retries, an on-failure destination) and the batching.
 */
function kinesisSourceProps(options: AlertNotifierSourceOptions & { readonly tumblingWindow?: Duration }): sources.KinesisEventSourceProps {
  return {
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
}

/** The iterator age of a function's Kinesis event source: how far it is behind the head of its stream. */
function metricIteratorAge(handler: lambda.IFunction): cloudwatch.IMetric {
  return handler.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) });
}

/** An existing pair of Kinesis streams to use as the event log (KinesisEventLog.fromStreamAttributes). */
export interface KinesisEventLogAttributes {
  /** ARN of the events stream. */
  readonly streamArn: string;
  /** The key the events stream is encrypted with. @default - none (the stream is unencrypted or uses aws/kinesis) */
  readonly encryptionKey?: kms.IKey;
  /** The events stream's retention: the replay horizon (it cannot be read from an ARN). */
  readonly retention: Duration;
  /** Give the speed layer its own enhanced fan-out consumer. @default false */
  readonly enhancedFanOut?: boolean;
  /** The alerts stream beside it. */
  readonly alerts: KinesisAlertsLogAttributes;
}

/** An existing Kinesis stream to use as the alerts log. */
export interface KinesisAlertsLogAttributes {
  readonly streamArn: string;
  /** @default - none */
  readonly encryptionKey?: kms.IKey;
  /** The alerts stream's retention: how late a redelivery can come (it sizes the notifier's idempotency window). */
  readonly retention: Duration;
}

/** What an event log on Kinesis does, whether the platform created its streams or was given them. */
abstract class KinesisEventLogBase extends Construct implements IEventLog {
  public abstract readonly stream: kinesis.IStream;
  public abstract readonly key?: kms.IKey;
  public abstract readonly alerts: KinesisAlertsLogBase;
  public abstract readonly replayHorizon: Duration;
  public abstract readonly description: string;
  public abstract readonly streamName: string;
  public readonly flinkConnector = {
    artifact: 'org.apache.flink:flink-connector-aws-kinesis-streams',
    className: 'org.apache.flink.connector.kinesis.source.KinesisStreamsSource',
  };
  protected abstract readonly enhancedFanOut: boolean;
  private speedLayerConsumer?: kinesis.StreamConsumer;

  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.stream.grantWrite(grantee);
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.stream.grantRead(grantee);
  }

  public speedLayerEventSource(options: SpeedLayerSourceOptions): lambda.IEventSource {
    const props = kinesisSourceProps(options);
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
    return metricIteratorAge(handler);
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

/** The event log on Amazon Kinesis Data Streams, encrypted with a customer-managed key. */
export class KinesisEventLog extends KinesisEventLogBase {
  /**
   * An event log on streams that exist already (created elsewhere, or by another app): the platform reads,
   * writes and watches them as it would its own, and creates nothing.
   */
  public static fromStreamAttributes(scope: Construct, id: string, attrs: KinesisEventLogAttributes): IEventLog {
    return new ImportedKinesisEventLog(scope, id, attrs);
  }

  public readonly stream: kinesis.Stream;
  public readonly key: kms.Key;
  public readonly alerts: KinesisAlertsLog;
  public readonly replayHorizon: Duration;
  public readonly description: string;
  public readonly streamName: string;
  protected readonly enhancedFanOut: boolean;

  constructor(scope: Construct, id: string, props: KinesisEventLogProps) {
    super(scope, id);
    const retention = props.retention ?? DEFAULT_RETENTION;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const shardCount = props.shardCount ?? 1;
    const hours = checkRetention('KinesisEventLog', retention);
    const provisioned = props.capacityMode === 'provisioned';
    ({ key: this.key, stream: this.stream } = encryptedStream(this, {
      purpose: 'event log',
      streamName: props.streamName,
      streamMode: provisioned ? kinesis.StreamMode.PROVISIONED : kinesis.StreamMode.ON_DEMAND,
      shardCount: provisioned ? shardCount : undefined,
      retention,
      removalPolicy,
    }));
    this.alerts = new KinesisAlertsLog(this, 'Alerts', { streamName: `${props.streamName}-alerts`, ...props.alerts, removalPolicy });
    this.streamName = props.streamName;
    this.replayHorizon = retention;
    this.enhancedFanOut = props.enhancedFanOut ?? false;
    this.description =
      `Kinesis Data Streams, ${provisioned ? `provisioned with ${shardCount} shard(s)` : 'on-demand'}, ` +
      `KMS-encrypted, retention ${hours} h (the replay horizon)` +
      (this.enhancedFanOut ? ', enhanced fan-out for the speed layer' : '');
  }
}

/** An existing stream and its key, after checking the retention given for it. */
function importStream(scope: Construct, what: string, attrs: { readonly streamArn: string; readonly encryptionKey?: kms.IKey; readonly retention: Duration }) {
  checkRetention(what, attrs.retention);
  return { stream: kinesis.Stream.fromStreamAttributes(scope, 'Stream', { streamArn: attrs.streamArn, encryptionKey: attrs.encryptionKey }), key: attrs.encryptionKey };
}

class ImportedKinesisEventLog extends KinesisEventLogBase {
  public readonly stream: kinesis.IStream;
  public readonly key?: kms.IKey;
  public readonly alerts: KinesisAlertsLogBase;
  public readonly replayHorizon: Duration;
  public readonly description: string;
  public readonly streamName: string;
  protected readonly enhancedFanOut: boolean;

  constructor(scope: Construct, id: string, attrs: KinesisEventLogAttributes) {
    super(scope, id);
    ({ stream: this.stream, key: this.key } = importStream(this, 'KinesisEventLog', attrs));
    this.streamName = this.stream.streamName;
    this.replayHorizon = attrs.retention;
    this.enhancedFanOut = attrs.enhancedFanOut ?? false;
    this.alerts = new ImportedKinesisAlertsLog(this, 'Alerts', attrs.alerts);
    this.description = `Kinesis Data Streams ${this.streamName} (existing), retention ${attrs.retention.toHours()} h (the replay horizon)`;
  }
}

/** What an alerts log on Kinesis does, whether the platform created its stream or was given it. */
abstract class KinesisAlertsLogBase extends Construct implements IAlertsLog {
  public abstract readonly stream: kinesis.IStream;
  public abstract readonly key?: kms.IKey;
  public abstract readonly retention: Duration;
  public abstract readonly description: string;

  /**
   * What the Kinesis guide gives a producer of a stream encrypted with a customer-managed key: PutRecord(s)
   * on the stream and kms:GenerateDataKey on its key (https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html),
   * not the wildcard actions (kms:GenerateDataKey*, kms:ReEncrypt*) of the stream's own grantWrite.
   */
  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    const keyGrant = this.key?.grant(grantee, 'kms:GenerateDataKey');
    const streamGrant = iam.Grant.addToPrincipal({ grantee, actions: ['kinesis:PutRecord', 'kinesis:PutRecords'], resourceArns: [this.stream.streamArn] });
    return keyGrant ? keyGrant.combine(streamGrant) : streamGrant;
  }

  public producerTarget(): AlertsLogEnvironment {
    return { type: 'kinesis', streamName: this.stream.streamName };
  }

  public flinkSink(): FlinkAlertsSink {
    // The region comes from the Kinesis group, which the events stream's source sets (flinkSource).
    return { sink: 'kinesis', 'stream.arn': this.stream.streamArn };
  }

  public notifierEventSource(options: AlertNotifierSourceOptions): lambda.IEventSource {
    return new sources.KinesisEventSource(this.stream, kinesisSourceProps(options));
  }

  public metricNotifierLag(handler: lambda.IFunction): cloudwatch.IMetric {
    return metricIteratorAge(handler);
  }
}

/**
 * The alerts log on Kinesis: a second stream, provisioned (alerts are few; one shard takes 1,000 a second,
 * at a fraction of an on-demand stream's hourly charge), encrypted with its own customer-managed key, with
 * its own retention. Producers write with the card id as partition key, so a card's alerts keep their order.
 */
export class KinesisAlertsLog extends KinesisAlertsLogBase {
  public readonly stream: kinesis.Stream;
  public readonly key: kms.Key;
  public readonly retention: Duration;
  public readonly description: string;

  constructor(scope: Construct, id: string, props: KinesisAlertsLogProps & { readonly streamName: string; readonly removalPolicy: RemovalPolicy }) {
    super(scope, id);
    const retention = props.retention ?? DEFAULT_RETENTION;
    const shardCount = props.shardCount ?? 1;
    const hours = checkRetention('KinesisAlertsLog', retention);
    ({ key: this.key, stream: this.stream } = encryptedStream(this, {
      purpose: 'alerts log',
      streamName: props.streamName,
      streamMode: kinesis.StreamMode.PROVISIONED,
      shardCount,
      retention,
      removalPolicy: props.removalPolicy,
    }));
    this.retention = retention;
    this.description = `Kinesis Data Streams ${props.streamName}, provisioned with ${shardCount} shard(s), KMS-encrypted, retention ${hours} h`;
  }
}

class ImportedKinesisAlertsLog extends KinesisAlertsLogBase {
  public readonly stream: kinesis.IStream;
  public readonly key?: kms.IKey;
  public readonly retention: Duration;
  public readonly description: string;

  constructor(scope: Construct, id: string, attrs: KinesisAlertsLogAttributes) {
    super(scope, id);
    ({ stream: this.stream, key: this.key } = importStream(this, 'KinesisAlertsLog', attrs));
    this.retention = attrs.retention;
    this.description = `Kinesis Data Streams ${this.stream.streamName} (existing), retention ${attrs.retention.toHours()} h`;
  }
}
