import { Aws, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { type PlatformConfig, removalPolicyFor } from '../config';
import { acknowledge, AS_PRINTED } from '../constructs/acknowledge';
import { encryptedExecutionLog } from '../constructs/state-machine-tasks';
import type { IEventLog } from '../constructs/event-log';
import { grantDescribeLogGroups } from '../constructs/flink-application';
import { catchUpLagFor, KappaReplay, ServingView, versionedTables } from '../constructs/reprocessing';
import { lakeTables } from '../lake-catalog';
import { CARD_PROFILES_PREFIX, LakePrefix } from '../lake-layout';
import { type LakeStack, lakeBucketName } from './lake-stack';
import { QUERY_RESULTS_PREFIX, type ServingStack } from './serving-stack';
import type { StreamProcessingStack } from './stream-processing-stack';

export interface ReprocessingStackProps extends StackProps {
  readonly config: PlatformConfig;
  readonly eventLog: IEventLog;
  readonly lake: LakeStack;
  readonly streamProcessing: StreamProcessingStack;
  readonly serving: ServingStack;
}


/**
 * Reprocessing, the Kappa way: the serving views that put one version of each
 * stream view behind one name, the parameter that records which version that
 * is, and the state machine that replays the log into the next version and
 * switches the views to it (docs/reprocessing.md).
 *
 * The serving views live here rather than in the serving stack because the
 * replay owns them: it re-points them at run time, together with the version
 * parameter, and both are deployed with the configured output version.
 */
export class ReprocessingStack extends Stack {
  public readonly versionParameter: ssm.StringParameter;
  public readonly views: ServingView[];
  public readonly replay: KappaReplay;
  /** The role every replay application runs with. */
  public readonly replayRole: iam.Role;

  constructor(scope: Construct, id: string, props: ReprocessingStackProps) {
    super(scope, id, props);
    const { config, lake, streamProcessing, serving, eventLog } = props;
    const replay = config.reprocessing;
    const version = config.streamProcessing.outputVersion;
    const removalPolicy = removalPolicyFor(config);
    const databaseName = (lake.database.databaseInput as glue.CfnDatabase.DatabaseInputProperty).name!;
    const tables = versionedTables(lakeTables());
    // The views' database and the workgroup are named literally, so no reference orders the deploys: say it.
    this.addStackDependency(lake);
    this.addStackDependency(serving);

    this.views = tables.map((table) => new ServingView(this, `Serving-${table.tableName}`, { databaseName, table, version }));

    this.versionParameter = new ssm.StringParameter(this, 'ServingVersion', {
      parameterName: `/${config.name}/serving/version`,
      stringValue: String(version),
      description: 'The output version v=<n> the serving views read; the Kappa replay records n+1 once it has switched them',
    });

    this.replayRole = this.replayApplicationRole(props);

    const logGroup = encryptedExecutionLog(this, 'ReplayLogs', {
      logGroupName: `/aws/vendedlogs/states/${config.name}-kappa-replay`,
      description: 'Encrypts the Kappa replay execution log',
      retention: config.observability.logRetentionDays,
      removalPolicy,
    });

    const flinkKey = streamProcessing.node.findChild('Key') as kms.Key;
    this.replay = new KappaReplay(this, 'KappaReplay', {
      name: config.name,
      versionParameter: this.versionParameter,
      replayRole: this.replayRole,
      flinkKey,
      replayHorizon: eventLog.replayHorizon,
      horizonMargin: Duration.minutes(replay.horizonMarginMinutes),
      lag: catchUpLagFor(streamProcessing.application.propertyGroups),
      databaseName,
      tables,
      lakeBucketName: lakeBucketName(config),
      workGroupName: serving.workGroup.name,
      caughtUpLag: Duration.seconds(replay.caughtUpLagSeconds),
      caughtUpPolls: replay.caughtUpPolls,
      pollInterval: Duration.seconds(replay.pollIntervalSeconds),
      maxCatchUp: Duration.hours(replay.maxCatchUpHours),
      startTimeout: Duration.minutes(replay.startTimeoutMinutes),
      logGroup,
      removalPolicy,
    });
    const role = this.replay.role;

    // Athena writes the switch's results into the serving workgroup's location, with the lake key.
    const results = lake.queryResultsBucket;
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation', 's3:ListBucket'], resources: [results.bucketArn] }));
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [results.arnForObjects(`${QUERY_RESULTS_PREFIX}/*`)],
    }));
    lake.grantLakeKey(role, ['kms:GenerateDataKey', 'kms:Decrypt']);

    const applicationsAsPrinted = `arn:${AS_PRINTED.partition}:kinesisanalytics:${AS_PRINTED.region}:${AS_PRINTED.account}:application/${config.name}-stream-v*`;
    acknowledge(role, {
      [`AwsSolutions-IAM5[Resource::${applicationsAsPrinted}]`]:
        'The replay creates, starts, stops and deletes applications of versions known only at run time; the grant names this platform\'s stream applications and leaves only the version open.',
      'AwsSolutions-IAM5[Resource::*]':
        'Managed Flink CreateApplication (the replay passes only its replay role), CloudWatch GetMetricData, X-Ray trace delivery and the CloudWatch Logs delivery APIs behind Step Functions logging have no resource-level permissions.',
    });
    // The results bucket's ARN reaches this stack as a cross-stack reference, which exists only once the app is
    // prepared; cdk-nag prints the finding with it, so the acknowledgment is named then (validations run after).
    this.node.addValidation({
      validate: () => {
        const bucketArn = JSON.stringify(this.resolve(results.bucketArn));
        acknowledge(role, {
          [`AwsSolutions-IAM5[Resource::${bucketArn}/${QUERY_RESULTS_PREFIX}/*]`]:
            "Athena names its result objects per query; the grant is confined to the serving workgroup's result prefix.",
        });
        return [];
      },
    });
  }

  /**
   * The role replay applications run with. The serving application's role
   * trusts Managed Flink for that one application only, so a replay, which is
   * a new application, needs its own; it is granted what the serving role is:
   * the jar, the log stream, the state key, the event log, views/ and the
   * card profiles.
   */
  private replayApplicationRole(props: ReprocessingStackProps): iam.Role {
    const { config, lake, streamProcessing, eventLog } = props;
    const application = streamProcessing.application;
    const role = new iam.Role(this, 'ReplayApplicationRole', {
      description: `Runs the Kappa replay applications ${config.name}-stream-v<n>`,
      assumedBy: new iam.ServicePrincipal('kinesisanalytics.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:kinesisanalytics:${Aws.REGION}:${Aws.ACCOUNT_ID}:application/${config.name}-stream-v*` },
        },
      }),
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [application.code.bucket.arnForObjects(application.code.s3ObjectKey)] }));
    // The replay logs where the serving application logs: the describe-and-copy keeps its logging option.
    const logStream = application.node.findChild('LogStream') as logs.LogStream;
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:PutLogEvents'],
      resources: [`arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${application.logGroup.logGroupName}:log-stream:${logStream.logStreamName}`],
    }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:DescribeLogStreams'], resources: [application.logGroup.logGroupArn] }));
    grantDescribeLogGroups(role);
    (streamProcessing.node.findChild('Key') as kms.Key).grant(role, 'kms:DescribeKey', 'kms:Decrypt', 'kms:GenerateDataKey');
    // Any version's enhanced fan-out consumer, where the log uses them: the replay names its own after its application.
    eventLog.flinkSource(role, { consumerName: `${config.name}-stream-v*` });
    // No grant on the alerts log: a replay runs with Alerts/sink = none (KappaReplay), its alerts go to the view only.
    lake.grantOwnPrefix(role, LakePrefix.views);
    lake.grantRead(role, CARD_PROFILES_PREFIX);
    if (eventLog.network) {
      role.addToPolicy(new iam.PolicyStatement({
        actions: [
          'ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeDhcpOptions', 'ec2:DescribeNetworkInterfaces',
          'ec2:CreateNetworkInterface', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface',
        ],
        resources: ['*'],
      }));
      acknowledge(role, {
        'AwsSolutions-IAM5[Resource::*]':
          "EC2's Describe calls and network-interface creation for a service have no resource-level scope that names interfaces not yet created.",
      });
    }
    return role;
  }
}
