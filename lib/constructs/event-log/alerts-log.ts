import type { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { AlertsLogEnvironment } from '../../speed-layer-environment';
import type { SpeedLayerSourceOptions } from './event-log';

/**
 * The Flink job's `Alerts` property group: the alerts log as its sink (Kinesis: the stream's ARN, the region
 * from the `Kinesis` group; Kafka: the topic, brokers and auth from the `Kafka` group), or none.
 */
export type FlinkAlertsSink = { sink: 'kinesis'; 'stream.arn': string } | { sink: 'kafka'; topic: string } | { sink: 'none' };

/** How the notifier consumes the alerts log: the speed layer's failure contract, without a tumbling window. */
export type AlertNotifierSourceOptions = Omit<SpeedLayerSourceOptions, 'tumblingWindow'>;

/**
 * The real-time alerts log: a second log beside the event log, of the same kind (a Kinesis stream, or a
 * topic on the same MSK cluster), encrypted, with its own retention. The speed layer and the Flink job
 * write alerts to it at least once (key: the card id; value: the alert JSON); the alert notifier reads it
 * and delivers each alert to SNS once per path (docs/architecture.md).
 */
export interface IAlertsLog {
  /** One line for people: what the log is and its retention. */
  readonly description: string;

  /** How long the log keeps an alert: the longest a redelivery from the log can come late. */
  readonly retention: Duration;

  /** Lets a principal write alerts to the log. */
  grantWrite(grantee: iam.IGrantable): iam.Grant;

  /** Where a producer writes (speedLayerEnvironment turns it into the speed layer's `ALERTS_*` variables). */
  producerTarget(): AlertsLogEnvironment;

  /** The Flink job's `Alerts` property group (flink-apps/property-groups.json); grant the write with {@link grantWrite}. */
  flinkSink(): FlinkAlertsSink;

  /** The Lambda event source that feeds the alert notifier, from the start of the log. */
  notifierEventSource(options: AlertNotifierSourceOptions): lambda.IEventSource;

  /** How far the notifier is behind the head of the alerts log, in milliseconds. */
  metricNotifierLag(handler: lambda.IFunction): cloudwatch.IMetric;
}
