import type { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import type { FlinkConnector } from '../flink-application/flink-jar';
import type { IAlertsLog } from './alerts-log';
import type { LogNetwork } from './log-network';

/**
 * How the speed layer consumes the log. The failure contract is not optional:
 * every event source the log returns bisects failed batches, honours partial
 * batch responses and sends what it finally gives up on to `onFailure`.
 */
export interface SpeedLayerSourceOptions {
  /** Records per invocation. */
  readonly batchSize: number;
  /** How long to gather records before invoking. */
  readonly maxBatchingWindow: Duration;
  /** Concurrent batches per shard or partition, where the log supports it. */
  readonly parallelizationFactor: number;
  /** Retries of a failed batch before it is sent to `onFailure`. */
  readonly retryAttempts: number;
  /** Records older than this are sent to `onFailure` instead of the function. */
  readonly maxRecordAge: Duration;
  /** Tumbling window carrying state across invocations, where the log supports it; undefined turns it off. */
  readonly tumblingWindow?: Duration;
  /** Where the log starts on first deploy. */
  readonly startingPosition: 'LATEST' | 'TRIM_HORIZON';
  /** Destination for batches the event source gives up on. */
  readonly onFailure: lambda.IEventSourceDlq;
}

/** The source half of a Firehose delivery stream reading from the log. */
export interface ArchiveSourceConfiguration {
  readonly deliveryStreamType: 'KinesisStreamAsSource' | 'MSKAsSource';
  readonly kinesisStreamSourceConfiguration?: firehose.CfnDeliveryStream.KinesisStreamSourceConfigurationProperty;
  readonly mskSourceConfiguration?: firehose.CfnDeliveryStream.MSKSourceConfigurationProperty;
}

/**
 * The event log of the platform: Kinesis Data Streams or Amazon MSK behind one
 * interface, so that no other part of the platform asks which log it has.
 */
export interface IEventLog extends IConstruct {
  /** One line for people: what the log is and its replay horizon. */
  readonly description: string;

  /** How far back a replay can go: the log's retention. */
  readonly replayHorizon: Duration;

  /** The real-time alerts log beside the event log, of the same kind. */
  readonly alerts: IAlertsLog;

  /** Where clients must run to reach the log, for a log inside a VPC; undefined when it is reachable anywhere. */
  readonly network?: LogNetwork;

  /** Lets a principal produce events to the log. */
  grantWrite(grantee: iam.IGrantable): iam.Grant;

  /** Lets a principal consume events from the log. */
  grantRead(grantee: iam.IGrantable): iam.Grant;

  /** The Lambda event source that feeds the speed layer. */
  speedLayerEventSource(options: SpeedLayerSourceOptions): lambda.IEventSource;

  /** The Firehose source that feeds the raw archive; grants `role` what Firehose needs to read. */
  archiveSource(role: iam.IRole): ArchiveSourceConfiguration;

  /**
   * The property groups the Flink job reads its source from (`Source` plus
   * `Kinesis` or `Kafka`, see flink-apps/property-groups.json), granting `role`
   * what reading that source takes. `consumerName` names the job's own
   * enhanced fan-out consumer where the log uses one.
   */
  flinkSource(role: iam.IRole, options: { consumerName: string }): Record<string, Record<string, string>>;

  /** The connector the Flink job reads this log with; synth fails when the jar lacks it. */
  readonly flinkConnector: FlinkConnector;

  /** How far the speed layer's function is behind the head of the log, in milliseconds. */
  metricSpeedLayerLag(handler: lambda.IFunction): cloudwatch.IMetric;

  /** How far the slowest consumer is behind the head of the log, in milliseconds. */
  metricConsumerLag(props?: cloudwatch.MetricOptions): cloudwatch.IMetric;

  /**
   * How far a Flink application reading this log is behind its head, in milliseconds, where
   * {@link metricConsumerLag} cannot see the job; undefined where it can.
   */
  metricFlinkLag(application: FlinkMetrics): cloudwatch.IMetric | undefined;
}

/** A Flink application's metrics (AWS/KinesisAnalytics, by application). */
export interface FlinkMetrics {
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.IMetric;
}
