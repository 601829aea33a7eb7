import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { DEFAULT_PROFILE, type PlatformConfig, removalPolicyFor } from '../config';
import type { IEventLog } from '../constructs/event-log';
import { DEFAULT_FLINK_RUNTIME, ensureFlinkJar, FlinkApplication, type FlinkJar, requireFlinkConnector } from '../constructs/flink-application';
import { CARD_PROFILES_PREFIX, LakePrefix } from '../lake-layout';
import { streamJobPropertyGroups } from '../stream-job-properties';
import { cardFraud } from '../../products/card-fraud';
import { type LakeStack, lakeBucketName } from './lake-stack';
import { platformNames } from '../names';

export interface StreamProcessingStackProps extends StackProps {
  readonly config: PlatformConfig;
  readonly eventLog: IEventLog;
  readonly lake: LakeStack;
  /** The Flink jar; synth fails when it lacks the event log's connector. @default - built from flink-apps/ when missing or stale */
  readonly jar?: FlinkJar;
}

/** The Managed Flink runtime the jobs are built and tested for (flink-apps/pom.xml). */
export const FLINK_RUNTIME = DEFAULT_FLINK_RUNTIME;

/**
 * Stream processing: the Flink jobs of flink-apps/ on Managed Service for
 * Apache Flink, reading the event log and writing the views to
 * views/<name>/v=<n>/ in the lake, exactly once, started on deploy.
 */
export class StreamProcessingStack extends Stack {
  public readonly application: FlinkApplication;
  public readonly jar: FlinkJar;

  constructor(scope: Construct, id: string, props: StreamProcessingStackProps) {
    super(scope, id, props);
    const { config, lake } = props;
    const stream = config.streamProcessing;
    const removalPolicy = removalPolicyFor(config);

    const key = new kms.Key(this, 'Key', {
      description: 'Encrypts the Flink application state, checkpoints and snapshots',
      enableKeyRotation: true,
      removalPolicy,
    });

    const jar = props.jar ?? ensureFlinkJar();
    // A jar without the log's connector would deploy a job that fails on start: refuse to synthesize it.
    requireFlinkConnector(jar, props.eventLog.flinkConnector, String(this.node.tryGetContext('profile') ?? DEFAULT_PROFILE));

    this.application = new FlinkApplication(this, 'StreamJob', {
      applicationName: platformNames(config.name).streamApplication(stream.outputVersion),
      description: `Tributary stream processing: views and fraud rules, writing v=${stream.outputVersion}`,
      runtime: FLINK_RUNTIME,
      jarPath: jar.path,
      propertyGroups: streamJobPropertyGroups(config, `s3://${lakeBucketName(config)}`, props.eventLog.alerts.flinkSink(), cardFraud.rules),
      parallelism: stream.parallelism,
      parallelismPerKpu: stream.parallelismPerKpu,
      autoScaling: stream.autoScaling,
      checkpointInterval: Duration.seconds(stream.checkpointIntervalSeconds),
      snapshotsEnabled: stream.snapshotsEnabled,
      logLevel: stream.logLevel,
      logRetention: config.observability.logRetentionDays,
      encryptionKey: key,
      // The Kappa replay's applications, <name>-stream-v<n+1>, run with the serving application's key.
      keyApplications: `${config.name}-stream-v*`,
      removalPolicy,
      network: props.eventLog.network && {
        vpc: props.eventLog.network.vpc,
        subnets: props.eventLog.network.subnets,
        securityGroups: [props.eventLog.network.clientSecurityGroup],
      },
      startOnDeploy: stream.startOnDeploy ? { restore: stream.restoreOnStart, allowNonRestoredState: stream.allowNonRestoredState } : undefined,
    });
    const role = this.application.role;

    // The source's groups come from the event log, which grants the application's role what reading it takes.
    const source = props.eventLog.flinkSource(role, { consumerName: platformNames(config.name).streamApplication(stream.outputVersion) });
    for (const [group, properties] of Object.entries(source)) this.application.addPropertyGroup(group, properties);
    // Alerts go to the alerts log as they fire, at least once (the Alerts group).
    props.eventLog.alerts.grantWrite(role);
    this.jar = jar;

    lake.grantOwnPrefix(role, LakePrefix.views);
    lake.grantRead(role, CARD_PROFILES_PREFIX);
  }
}
