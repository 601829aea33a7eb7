import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { KinesisEventLog } from '../../lib/constructs/event-log';
import { DEFAULT_FLINK_RUNTIME, FlinkApplication } from '../../lib/constructs/flink-application';
import { scratchApp } from '../helpers/synth';

/**
 * The constructs of lib/constructs are usable on their own, as aws-cdk-lib's are: every optional prop has
 * the @default its doc comment promises. Each test builds a construct with its required props alone and
 * checks the template for those defaults.
 */
describe('construct defaults', () => {
  test('KinesisEventLog: on-demand, 24 h, its own rotated key, RETAIN, and an alerts stream <name>-alerts of one shard', () => {
    const stack = new Stack(scratchApp(), 'Log');
    const log = new KinesisEventLog(stack, 'Log', { streamName: 'team-events' });
    const t = Template.fromStack(stack);
    t.hasResource('AWS::Kinesis::Stream', {
      Properties: { Name: 'team-events', RetentionPeriodHours: 24, StreamModeDetails: { StreamMode: 'ON_DEMAND' }, StreamEncryption: { EncryptionType: 'KMS' } },
      DeletionPolicy: 'Retain',
    });
    t.hasResourceProperties('AWS::Kinesis::Stream', { Name: 'team-events-alerts', ShardCount: 1, RetentionPeriodHours: 24 });
    t.resourcePropertiesCountIs('AWS::KMS::Key', { EnableKeyRotation: true }, 2);
    expect(log.replayHorizon.toHours()).toBe(24);
    expect(log.description).toContain('on-demand');
  });

  test('KinesisEventLog: a retention outside 24 h - 365 days fails with the range', () => {
    const stack = new Stack(scratchApp(), 'Log');
    expect(() => new KinesisEventLog(stack, 'Log', { streamName: 'x', retention: Duration.hours(12) })).toThrow('KinesisEventLog retention must be 24-8760 hours, got 12');
  });

  test('KinesisEventLog.fromStreamAttributes creates nothing and grants on the given stream', () => {
    const stack = new Stack(scratchApp(), 'Import');
    const streamArn = 'arn:aws:kinesis:eu-west-1:111122223333:stream/existing';
    const log = KinesisEventLog.fromStreamAttributes(stack, 'Log', {
      streamArn,
      retention: Duration.days(7),
      alerts: { streamArn: 'arn:aws:kinesis:eu-west-1:111122223333:stream/existing-alerts', retention: Duration.days(1) },
    });
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const grant = log.grantRead(role);
    expect(grant.success).toBe(true);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Kinesis::Stream', 0);
    t.resourceCountIs('AWS::KMS::Key', 0);
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).toContain(streamArn);
    expect(log.replayHorizon.toDays()).toBe(7);
  });

  test('FlinkApplication: the Flink 2.2 runtime, parallelism 1, 60 s checkpoints, snapshots on, INFO, RETAIN, its own rotated key', () => {
    const stack = new Stack(scratchApp(), 'Flink');
    new FlinkApplication(stack, 'App', { applicationName: 'team-job', jarPath: __filename });
    const t = Template.fromStack(stack);
    t.hasResource('AWS::KinesisAnalyticsV2::Application', {
      Properties: {
        ApplicationName: 'team-job',
        RuntimeEnvironment: DEFAULT_FLINK_RUNTIME,
        ApplicationConfiguration: {
          FlinkApplicationConfiguration: {
            CheckpointConfiguration: { CheckpointInterval: 60_000, CheckpointingEnabled: true },
            ParallelismConfiguration: { Parallelism: 1, ParallelismPerKPU: 1, AutoScalingEnabled: false },
            MonitoringConfiguration: { LogLevel: 'INFO' },
          },
          ApplicationSnapshotConfiguration: { SnapshotsEnabled: true },
        },
      },
      DeletionPolicy: 'Retain',
    });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: 'Encrypts the state, checkpoints and snapshots of the Flink application team-job' });
    expect(DEFAULT_FLINK_RUNTIME).toBe('FLINK-2_2');
  });
});
