import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { type PlatformConfig, removalPolicyFor } from '../config';
import type { IEventLog } from '../constructs/event-log';
import type { AlertsStack } from './alerts-stack';
import type { ArchiveStack } from './archive-stack';
import type { BatchLayerStack } from './batch-layer-stack';
import type { ServingStack } from './serving-stack';
import type { StreamProcessingStack } from './stream-processing-stack';
import type { SpeedLayerStack } from './speed-layer-stack';

export interface ObservabilityStackProps extends StackProps {
  readonly config: PlatformConfig;
  readonly eventLog: IEventLog;
  readonly archive: ArchiveStack;
  readonly speedLayer: SpeedLayerStack;
  readonly alerts: AlertsStack;
  /** Absent when `architecture` is `lambda`: no Flink job to watch. */
  readonly streamProcessing?: StreamProcessingStack;
  readonly serving: ServingStack;
  /** Absent when `architecture` is `kappa`: no batch runs to watch. */
  readonly batchLayer?: BatchLayerStack;
}

/** An alarm: what it watches, when it fires, and what an operator should look at first. */
interface AlarmSpec {
  readonly id: string;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly comparison: cloudwatch.ComparisonOperator;
  readonly evaluationPeriods: number;
  readonly description: string;
}

/**
 * One dashboard with a row per layer that is built, and, when
 * `observability.alarmsEnabled`, alarms on what means data is late or lost,
 * notifying an encrypted SNS topic.
 */
export class ObservabilityStack extends Stack {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly alarmTopic?: sns.Topic;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config, eventLog, archive, speedLayer, alerts, streamProcessing, serving, batchLayer } = props;
    const flink = streamProcessing?.application;
    const minute = Duration.minutes(1);
    const handler = speedLayer.handler;
    const logLag = eventLog.metricConsumerLag();
    const speedIteratorAge = eventLog.metricSpeedLayerLag(handler);
    const failedBatches = speedLayer.metricFailedBatches();
    const deadLettered = speedLayer.metricRecordsDeadLettered();
    const archiveFreshness = archive.metricDataFreshness();
    const notifierLag = eventLog.alerts.metricNotifierLag(alerts.notifier);
    const notifierErrors = alerts.notifier.metricErrors({ period: minute, statistic: 'Sum' });
    const notifierFailedBatches = alerts.metricFailedBatches();
    const flinkDowntime = flink?.metric('downtime', { statistic: 'Maximum' });
    // Where the log's consumer lag cannot see the job (Kinesis enhanced fan-out readers), the job's own.
    const flinkBehindLog = flink ? eventLog.metricFlinkLag(flink) : undefined;
    const batchRuns = batchLayer?.run.stateMachine;
    const batchRunsFailed = batchRuns?.metricFailed({ statistic: 'Sum', period: Duration.minutes(5) });

    const streamRows: cloudwatch.IWidget[][] = flink && flinkDowntime
      ? [
        [new cloudwatch.TextWidget({ markdown: `## Stream processing\n${flink.applicationName}`, width: 24, height: 2 })],
        [
          new cloudwatch.GraphWidget({ title: 'Downtime (ms)', left: [flinkDowntime], width: 8 }),
          // Flink 2.2 removed fullRestarts; numRestarts replaces it.
          new cloudwatch.GraphWidget({ title: 'Restarts', left: [flink.metric('numRestarts', { statistic: 'Maximum' })], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Last checkpoint duration (ms)', left: [flink.metric('lastCheckpointDuration', { statistic: 'Maximum' })], width: 8 }),
        ],
        ...(flinkBehindLog ? [[new cloudwatch.GraphWidget({ title: 'Behind the log (ms, -1 before the first read)', left: [flinkBehindLog], width: 24 })]] : []),
      ]
      : [];
    const batchRows: cloudwatch.IWidget[][] = batchRuns && batchRunsFailed
      ? [
        [new cloudwatch.TextWidget({ markdown: `## Batch layer\n${batchLayer.run.stateMachineName}, every ${config.batch.scheduleHours} h`, width: 24, height: 2 })],
        [
          new cloudwatch.GraphWidget({
            title: 'Batch runs',
            left: [batchRuns.metricSucceeded({ statistic: 'Sum', period: Duration.hours(1) }), batchRuns.metricFailed({ statistic: 'Sum', period: Duration.hours(1) })],
            width: 12,
          }),
          new cloudwatch.GraphWidget({ title: 'Batch run duration (ms)', left: [batchRuns.metricTime({ statistic: 'Maximum', period: Duration.hours(1) })], width: 12 }),
        ],
      ]
      : [];

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${config.name}-platform`,
      widgets: [
        [new cloudwatch.TextWidget({ markdown: `## Event log\n${eventLog.description}`, width: 24, height: 2 })],
        [new cloudwatch.GraphWidget({ title: 'Slowest shared-throughput reader behind the head (ms)', left: [logLag], width: 24 })],
        [new cloudwatch.TextWidget({ markdown: '## Speed layer', width: 24, height: 1 })],
        [
          new cloudwatch.GraphWidget({ title: 'Records', left: [speedLayer.metric('RecordsIn'), speedLayer.metric('RecordsValid'), deadLettered], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Behind the log (ms)', left: [speedIteratorAge], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Alerts, errors, failed batches', left: [speedLayer.metric('Alerts'), handler.metricErrors({ period: minute })], right: [failedBatches], width: 8 }),
        ],
        [new cloudwatch.TextWidget({ markdown: `## Alert delivery\n${eventLog.alerts.description} -> notifier -> SNS`, width: 24, height: 2 })],
        [
          new cloudwatch.GraphWidget({ title: 'Notifier behind the alerts log (ms)', left: [notifierLag], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Invocations and errors', left: [alerts.notifier.metricInvocations({ period: minute, statistic: 'Sum' }), notifierErrors], width: 8 }),
          new cloudwatch.GraphWidget({
            title: 'Alerts published, duplicates dropped, dead-lettered; failed batches',
            left: [alerts.metric('AlertsPublished'), alerts.metric('AlertsDuplicate'), alerts.metric('AlertRecordsDeadLettered')],
            right: [notifierFailedBatches],
            width: 8,
          }),
        ],
        ...streamRows,
        ...batchRows,
        [new cloudwatch.TextWidget({ markdown: '## Raw archive', width: 24, height: 1 })],
        [
          new cloudwatch.GraphWidget({ title: 'Records delivered to raw/', left: [archive.metricRecordsDelivered()], width: 12 }),
          new cloudwatch.GraphWidget({ title: 'Oldest record not yet in raw/ (s)', left: [archiveFreshness], width: 12 }),
        ],
        [new cloudwatch.TextWidget({ markdown: '## Serving', width: 24, height: 1 })],
        [new cloudwatch.GraphWidget({
          title: 'Athena bytes scanned',
          left: [serving.metricProcessedBytes()],
          width: 24,
        })],
      ],
    });

    if (!config.observability.alarmsEnabled) return;

    const key = new kms.Key(this, 'Key', {
      description: 'Encrypts the Tributary alarm notifications',
      enableKeyRotation: true,
      removalPolicy: removalPolicyFor(config),
    });
    // CloudWatch alarms publish to the topic, so the service must be able to use its key.
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey');
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Tributary platform alarms', masterKey: key, enforceSSL: true });

    const greaterThan = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
    const specs: AlarmSpec[] = [
      { id: 'EventLogReaderLag', metric: logLag, threshold: 5 * 60_000, comparison: greaterThan, evaluationPeriods: 5,
        description: 'A reader of the event log is more than 5 minutes behind (GetRecords readers; enhanced fan-out readers have their own alarms): data is late, and close to the replay horizon data is lost.' },
      { id: 'SpeedLayerIteratorAge', metric: speedIteratorAge, threshold: 60_000, comparison: greaterThan, evaluationPeriods: 5,
        description: 'The speed layer is more than a minute behind the log: check throttles, errors and the failed-batches queue.' },
      { id: 'SpeedLayerFailedBatches', metric: failedBatches, threshold: 0, comparison: greaterThan, evaluationPeriods: 1,
        description: 'The speed layer gave up on a batch: its shard and sequence range are in the failed-batches queue.' },
      { id: 'SpeedLayerDeadLetters', metric: deadLettered, threshold: 0, comparison: greaterThan, evaluationPeriods: 1,
        description: 'Producers sent malformed records: see the deadletter_speed table for reasons (named query dead_letters_by_reason).' },
      { id: 'AlertNotifierBehindLog', metric: notifierLag, threshold: 60_000, comparison: greaterThan, evaluationPeriods: 3,
        description: 'The alert notifier is more than a minute behind the alerts log: alerts reach subscribers late. Check its errors, throttles and the SNS topic.' },
      { id: 'AlertNotifierErrors', metric: notifierErrors, threshold: 0, comparison: greaterThan, evaluationPeriods: 3,
        description: 'The alert notifier has failed for 3 minutes in a row: its batches are retried, then sent to its failed-batches queue. See its log group.' },
      { id: 'AlertNotifierFailedBatches', metric: notifierFailedBatches, threshold: 0, comparison: greaterThan, evaluationPeriods: 1,
        description: 'The alert notifier gave up on a batch: those alerts were not delivered to SNS. Their shard or partition and range are in its failed-batches queue.' },
      ...(flinkBehindLog ? [{ id: 'StreamProcessingBehindLog', metric: flinkBehindLog, threshold: 5 * 60_000, comparison: greaterThan, evaluationPeriods: 5,
        description: 'The Flink job reads the log more than 5 minutes behind its head: views and stream alerts are late. Check its backpressure, KPUs and log group.' }] : []),
      ...(flinkDowntime ? [{ id: 'StreamProcessingDowntime', metric: flinkDowntime, threshold: 0, comparison: greaterThan, evaluationPeriods: 5,
        description: 'The Flink job has been down for 5 minutes: views and stream alerts are not being produced. See its log group.' }] : []),
      { id: 'ArchiveFreshness', metric: archiveFreshness, threshold: 2 * config.archive.bufferingIntervalSeconds + 300, comparison: greaterThan, evaluationPeriods: 2,
        description: 'The raw archive is falling behind: check the Firehose error prefix errors/raw/ and its log group.' },
      ...(batchRunsFailed ? [{ id: 'BatchRunFailed', metric: batchRunsFailed, threshold: 0, comparison: greaterThan, evaluationPeriods: 1,
        description: 'A batch run failed: the lambda_ views keep serving the last good run. The execution\'s RunFailed cause names the step and error (docs/batch-layer.md).' }] : []),
    ];
    for (const spec of specs) {
      const alarm = new cloudwatch.Alarm(this, spec.id, {
        alarmName: `${config.name}-${spec.id}`,
        alarmDescription: spec.description,
        metric: spec.metric,
        threshold: spec.threshold,
        comparisonOperator: spec.comparison,
        evaluationPeriods: spec.evaluationPeriods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
      this.alarms.push(alarm);
    }
  }
}
