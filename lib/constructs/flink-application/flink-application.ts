import * as path from 'node:path';
import { Aws, type CfnResource, CustomResource, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kda from 'aws-cdk-lib/aws-kinesisanalyticsv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { PlatformFunction } from '../platform-function';
import { acknowledge } from '../acknowledge';
import { encryptedLogGroup } from '../state-machine-tasks';

/** Property groups as Managed Flink stores them: group id -> key -> value. */
export type PropertyGroups = Record<string, Record<string, string>>;

/** How the application is started when it is deployed. */
export interface StartOnDeploy {
  /** Resume from the latest snapshot, or start with empty state. */
  readonly restore: 'latest-snapshot' | 'skip';
  /** Start even if the snapshot holds state that no operator of the new code claims. */
  readonly allowNonRestoredState: boolean;
}

export interface FlinkApplicationProps {
  /** The application's name; also names its log group and scopes its role and key policy. */
  readonly applicationName: string;
  /** @default - `Flink application <applicationName>` */
  readonly description?: string;
  /**
   * Managed Flink runtime; CDK's Runtime enum stops at 1.20, so it is a string.
   * @default DEFAULT_FLINK_RUNTIME (`FLINK-2_2`, the version the jobs in flink-apps/ are built for)
   */
  readonly runtime?: string;
  /** Local path of the shaded jar. */
  readonly jarPath: string;
  /**
   * The runtime properties the job reads (see flink-apps/property-groups.json); more with `addPropertyGroup`.
   * @default - none
   */
  readonly propertyGroups?: PropertyGroups;
  /** @default 1 */
  readonly parallelism?: number;
  /** Parallel tasks per KPU (1 vCPU, 4 GB). @default 1 */
  readonly parallelismPerKpu?: number;
  /** Let Managed Flink scale parallelism with CPU. @default false - a fixed size, a predictable bill */
  readonly autoScaling?: boolean;
  /** @default Duration.minutes(1), Managed Flink's own default interval */
  readonly checkpointInterval?: Duration;
  /** Take a snapshot on stop and update, so the next start can restore. @default true */
  readonly snapshotsEnabled?: boolean;
  /** @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Encrypts the application's running state, checkpoints and snapshots.
   * @default - a new customer-managed key with rotation, for this application
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Every application that runs with this key: a name, or a name pattern ending in `*` (the Kappa
   * replay's `<name>-stream-v*` share the serving application's key). The key policy lets Managed
   * Flink use the key for these applications only.
   * @default - this application alone
   */
  readonly keyApplications?: string;
  /** What happens to the application (and a key it creates) when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Start the application on deploy. @default - created but not started, as CloudFormation leaves it */
  readonly startOnDeploy?: StartOnDeploy;
  /** Run the job inside a VPC, as a log in a VPC (Amazon MSK) needs. @default - no VPC */
  readonly network?: FlinkNetwork;
}

/** The Managed Flink runtime the jobs in flink-apps/ are built for (flink.version in flink-apps/pom.xml). */
export const DEFAULT_FLINK_RUNTIME = 'FLINK-2_2';

/** Where in a VPC the job's network interfaces go. */
export interface FlinkNetwork {
  readonly vpc: ec2.IVpc;
  /** @default - the VPC's private subnets */
  readonly subnets?: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
}

const RESTORE_TYPES: Record<StartOnDeploy['restore'], string> = {
  'latest-snapshot': 'RESTORE_FROM_LATEST_SNAPSHOT',
  skip: 'SKIP_RESTORE_FROM_SNAPSHOT',
};

/** The ARN of the Managed Flink applications a name (or a name pattern ending in `*`) names. */
export function flinkApplicationArn(name: string): string {
  return `arn:${Aws.PARTITION}:kinesisanalytics:${Aws.REGION}:${Aws.ACCOUNT_ID}:application/${name}`;
}

const ENCRYPTION_CONTEXT = 'kms:EncryptionContext:aws:kinesisanalytics:arn';
/** A string condition on `key` that is exact for a name and a pattern for a name ending in `*`. */
const stringCondition = (key: string, value: string) => ({ [value.includes('*') ? 'StringLike' : 'StringEquals']: { [key]: value } });
const arnCondition = (key: string, value: string) => ({ [value.includes('*') ? 'ArnLike' : 'ArnEquals']: { [key]: value } });

/**
 * The key policy Managed Flink needs to use a customer managed key for the applications `names`
 * names, as "Managing CMK using APIs" writes it: kinesisanalytics.amazonaws.com describes the key and
 * generates and decrypts data keys for durable state (checkpoints, snapshots);
 * infrastructure.kinesisanalytics.amazonaws.com describes it, decrypts, generates data keys without
 * plaintext and creates Decrypt-only grants for running state. Every use but DescribeKey is bound to the
 * applications by the `aws:kinesisanalytics:arn` encryption context.
 * https://docs.aws.amazon.com/managed-flink/latest/java/manage-cmk-api.html
 */
export function allowManagedFlinkToUseKey(key: kms.IKey, names: string): void {
  const arn = flinkApplicationArn(names);
  const msf = new iam.ServicePrincipal('kinesisanalytics.amazonaws.com');
  const infrastructure = new iam.ServicePrincipal('infrastructure.kinesisanalytics.amazonaws.com');
  const account = { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } };
  const statement = (sid: string, principals: iam.IPrincipal[], actions: string[], conditions: Record<string, Record<string, unknown>>) =>
    key.addToResourcePolicy(new iam.PolicyStatement({ sid, principals, actions, resources: ['*'], conditions }));
  const context = stringCondition(ENCRYPTION_CONTEXT, arn);
  statement('AllowMSFServiceToDescribeKey', [msf, infrastructure], ['kms:DescribeKey'], { ...arnCondition('aws:SourceArn', arn), ...account });
  statement('AllowMSFServiceToGenerateDataKeyForDurableState', [msf], ['kms:GenerateDataKey'], {
    ...arnCondition('aws:SourceArn', arn),
    ...mergeConditions(context, account),
  });
  statement('AllowMSFServiceToDecryptForDurableState', [msf], ['kms:Decrypt'], context);
  statement('AllowMSFServiceToUseKeyForRunningState', [infrastructure], ['kms:Decrypt', 'kms:GenerateDataKeyWithoutPlaintext'], context);
  statement('AllowMSFServiceToCreateGrantForRunningState', [infrastructure], ['kms:CreateGrant'], {
    ...mergeConditions(context, { StringEquals: { 'kms:GrantConstraintType': 'EncryptionContextSubset' } }),
    'ForAllValues:StringEquals': { 'kms:GrantOperations': 'Decrypt' },
  });
}

/** Two condition blocks as one, keys of the same operator together. */
function mergeConditions(a: Record<string, Record<string, unknown>>, b: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const merged: Record<string, Record<string, unknown>> = { ...a };
  for (const [operator, keys] of Object.entries(b)) merged[operator] = { ...merged[operator], ...keys };
  return merged;
}

/**
 * What whoever creates, starts or updates the applications `names` names (the "application lifecycle
 * operator", the API caller) needs on their customer managed key: DescribeKey, Decrypt and
 * GenerateDataKey for durable state, Decrypt and GenerateDataKeyWithoutPlaintext for running state and a
 * Decrypt-only grant, each through Managed Flink and for these applications.
 * https://docs.aws.amazon.com/managed-flink/latest/java/manage-cmk-api.html
 */
export function grantFlinkKeyToOperator(grantee: iam.IGrantable, key: kms.IKey, names: string): void {
  const viaFlink = { 'kms:ViaService': `kinesisanalytics.${Aws.REGION}.amazonaws.com` };
  const context = mergeConditions(stringCondition(ENCRYPTION_CONTEXT, flinkApplicationArn(names)), { StringEquals: viaFlink });
  const allow = (actions: string[], conditions: Record<string, Record<string, unknown>>) =>
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [key.keyArn], conditions }));
  allow(['kms:DescribeKey'], { StringEquals: viaFlink });
  allow(['kms:Decrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext'], context);
  allow(['kms:CreateGrant'], {
    ...mergeConditions(context, { StringEquals: { 'kms:GrantConstraintType': 'EncryptionContextSubset' } }),
    'ForAllValues:StringEquals': { 'kms:GrantOperations': 'Decrypt' },
  });
}

/**
 * A Managed Service for Apache Flink application from a local jar: the L1
 * resource (the L2 alpha lags the runtimes), its own role, a customer-managed
 * key, CloudWatch logging, and optionally a custom resource that starts it on
 * deploy with a chosen restore policy, which CloudFormation does not do.
 */
/**
 * As Managed Flink's logging setup and CDK's own Flink construct grant it: the service lists log groups to find
 * its own. DescribeLogGroups has no resource type in the Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html), so it is
 * granted on "*" (a grant on `log-group:*` would never match).
 */
export function grantDescribeLogGroups(role: iam.IRole): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['logs:DescribeLogGroups'], resources: ['*'] }));
  acknowledge(role, { 'AwsSolutions-IAM5[Resource::*]': 'logs:DescribeLogGroups lists log groups and supports no resource-level permissions.' });
}

export class FlinkApplication extends Construct {
  public readonly application: kda.CfnApplication;
  public readonly applicationName: string;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly code: s3assets.Asset;
  private readonly groups: PropertyGroups;

  constructor(scope: Construct, id: string, props: FlinkApplicationProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const checkpointInterval = props.checkpointInterval ?? Duration.minutes(1);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      description: `Encrypts the state, checkpoints and snapshots of the Flink application ${props.applicationName}`,
      enableKeyRotation: true,
      removalPolicy,
    });
    this.applicationName = props.applicationName;
    this.groups = { ...props.propertyGroups };
    const applicationArn = `arn:${Aws.PARTITION}:kinesisanalytics:${Aws.REGION}:${Aws.ACCOUNT_ID}:application/${props.applicationName}`;

    this.role = new iam.Role(this, 'Role', {
      description: `Runs the Flink application ${props.applicationName}`,
      assumedBy: new iam.ServicePrincipal('kinesisanalytics.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnEquals: { 'aws:SourceArn': applicationArn } },
      }),
    });

    this.code = new s3assets.Asset(this, 'Jar', { path: props.jarPath });
    // The one object the service reads, not grantRead's bucket-wide list and get.
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.code.bucket.arnForObjects(this.code.s3ObjectKey)] }));

    // Named, so that its key's policy can name it (CloudWatch Logs uses the key for this log group only).
    this.logGroup = encryptedLogGroup(this, 'Logs', {
      logGroupName: `/aws/kinesis-analytics/${props.applicationName}`,
      keyId: 'LogsKey',
      description: `Encrypts the log of the Flink application ${props.applicationName}`,
      retention: logRetention,
      removalPolicy,
    });
    const logStream = new logs.LogStream(this, 'LogStream', { logGroup: this.logGroup, logStreamName: 'application' });
    const logStreamArn = `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${this.logGroup.logGroupName}:log-stream:${logStream.logStreamName}`;
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:PutLogEvents'], resources: [logStreamArn] }));
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:DescribeLogStreams'], resources: [this.logGroup.logGroupArn] }));
    grantDescribeLogGroups(this.role);

    const keyApplications = props.keyApplications ?? props.applicationName;
    const covers = new RegExp(`^${keyApplications.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    if (!covers.test(props.applicationName)) {
      throw new Error(`keyApplications '${keyApplications}' does not name the application ${props.applicationName}: Managed Flink could not use its key. Give a pattern that matches it.`);
    }
    allowManagedFlinkToUseKey(encryptionKey, keyApplications);
    encryptionKey.grant(this.role, 'kms:DescribeKey', 'kms:Decrypt', 'kms:GenerateDataKey');

    this.application = new kda.CfnApplication(this, 'Application', {
      applicationName: props.applicationName,
      applicationDescription: props.description ?? `Flink application ${props.applicationName}`,
      runtimeEnvironment: props.runtime ?? DEFAULT_FLINK_RUNTIME,
      applicationMode: 'STREAMING',
      serviceExecutionRole: this.role.roleArn,
      applicationConfiguration: {
        applicationCodeConfiguration: {
          codeContentType: 'ZIPFILE',
          codeContent: { s3ContentLocation: { bucketArn: this.code.bucket.bucketArn, fileKey: this.code.s3ObjectKey } },
        },
        environmentProperties: {
          // Rendered at synth, so groups added after construction (once the role exists to be granted) are included.
          propertyGroups: Lazy.any({
            produce: () => Object.entries(this.groups).map(([propertyGroupId, propertyMap]) => ({ propertyGroupId, propertyMap })),
          }),
        },
        flinkApplicationConfiguration: {
          checkpointConfiguration: {
            configurationType: 'CUSTOM',
            checkpointingEnabled: true,
            checkpointInterval: checkpointInterval.toMilliseconds(),
            minPauseBetweenCheckpoints: Math.min(5000, checkpointInterval.toMilliseconds()),
          },
          monitoringConfiguration: { configurationType: 'CUSTOM', logLevel: props.logLevel ?? 'INFO', metricsLevel: 'APPLICATION' },
          parallelismConfiguration: {
            configurationType: 'CUSTOM',
            parallelism: props.parallelism ?? 1,
            parallelismPerKpu: props.parallelismPerKpu ?? 1,
            autoScalingEnabled: props.autoScaling ?? false,
          },
        },
        applicationSnapshotConfiguration: { snapshotsEnabled: props.snapshotsEnabled ?? true },
        vpcConfigurations: props.network && [{
          subnetIds: props.network.vpc.selectSubnets(props.network.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
          securityGroupIds: props.network.securityGroups.map((group) => group.securityGroupId),
        }],
        applicationEncryptionConfiguration: { keyType: 'CUSTOMER_MANAGED_KEY', keyId: encryptionKey.keyArn },
      },
    });
    this.application.applyRemovalPolicy(removalPolicy);
    if (props.network) this.grantVpcAccess();
    // The service checks the role's permissions when it creates the application.
    this.application.node.addDependency(this.role.node.findChild('DefaultPolicy'));

    const logging = new kda.CfnApplicationCloudWatchLoggingOption(this, 'Logging', {
      applicationName: this.application.ref,
      cloudWatchLoggingOption: { logStreamArn },
    });

    if (props.startOnDeploy) this.startOnDeploy(props.startOnDeploy, { logRetention, encryptionKey }, applicationArn, [this.application, logging]);
  }

  /** What Managed Flink does in the VPC on the application's behalf: manage its network interfaces. */
  private grantVpcAccess(): void {
    this.role.addToPolicy(new iam.PolicyStatement({
      actions: [
        'ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeDhcpOptions', 'ec2:DescribeNetworkInterfaces',
        'ec2:CreateNetworkInterface', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface',
      ],
      resources: ['*'],
    }));
    acknowledge(this.role, {
      'AwsSolutions-IAM5[Resource::*]':
        "EC2's Describe calls and network-interface creation for a service have no resource-level scope that names interfaces not yet created.",
    });
  }

  /** Adds (or replaces) one property group the job reads. */
  public addPropertyGroup(propertyGroupId: string, properties: Record<string, string>): void {
    this.groups[propertyGroupId] = { ...properties };
  }

  /** The property groups the application will be deployed with. */
  public get propertyGroups(): PropertyGroups {
    return structuredClone(this.groups);
  }

  /** A function's logical id as cdk-nag prints it in findings. */
  private logicalIdOf(fn: Construct): string {
    return Stack.of(this).getLogicalId(fn.node.defaultChild as CfnResource);
  }

  /** One of the application's CloudWatch metrics (namespace AWS/KinesisAnalytics). */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/KinesisAnalytics',
      metricName,
      dimensionsMap: { Application: this.applicationName },
      period: Duration.minutes(1),
      ...props,
    });
  }

  private startOnDeploy(
    start: StartOnDeploy,
    settings: { readonly logRetention: logs.RetentionDays; readonly encryptionKey: kms.IKey },
    applicationArn: string,
    after: Construct[],
  ): void {
    const { applicationName } = this;
    const starter = (id: string, handler: string) =>
      new PlatformFunction(this, id, {
        entry: path.join(__dirname, '..', '..', '..', 'lambdas', 'flink-starter', 'index.ts'),
        handler,
        description: `Starts the Flink application ${applicationName} on deploy (${handler})`,
        timeout: Duration.minutes(1),
        logRetention: settings.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
    const onEvent = starter('StarterOnEvent', 'onEvent');
    const isComplete = starter('StarterIsComplete', 'isComplete');
    for (const fn of [onEvent, isComplete]) {
      fn.addToRolePolicy(new iam.PolicyStatement({
        actions: ['kinesisanalytics:DescribeApplication', 'kinesisanalytics:StartApplication', 'kinesisanalytics:StopApplication'],
        resources: [applicationArn],
      }));
      // Starting an application encrypted with a customer-managed key acts on the key as the caller.
      grantFlinkKeyToOperator(fn, settings.encryptionKey, applicationName);
    }

    // The framework's own functions and waiter get a role and log groups of the platform's making.
    const starterLogsKey = new kms.Key(this, 'StarterLogsKey', {
      description: `Encrypts the logs of the start-on-deploy of ${applicationName}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const starterLog = (id: string, logGroupName: string) => encryptedLogGroup(this, id, {
      logGroupName, key: starterLogsKey, description: '', retention: settings.logRetention, removalPolicy: RemovalPolicy.DESTROY,
    });
    const frameworkLogs = starterLog('StarterFrameworkLogs', `/aws/lambda/${applicationName}-starter-framework`);
    // Two roles, as the framework requires to avoid a cycle: onEvent starts the waiter, whose steps invoke isComplete.
    const frameworkRole = (id: string) => {
      const role = new iam.Role(this, id, {
        description: `Custom-resource framework starting ${applicationName}`,
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      });
      frameworkLogs.grantWrite(role);
      return role;
    };
    const frameworkOnEventRole = frameworkRole('StarterFrameworkOnEventRole');
    const frameworkCompleteRole = frameworkRole('StarterFrameworkCompleteRole');
    const provider = new cr.Provider(this, 'StarterProvider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: Duration.seconds(30),
      // Starting a job from a large snapshot can take a while; a failed start fails the deploy sooner.
      totalTimeout: Duration.minutes(30),
      frameworkOnEventRole,
      frameworkCompleteAndTimeoutRole: frameworkCompleteRole,
      logGroup: frameworkLogs,
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: starterLog('StarterWaiterLogs', `/aws/vendedlogs/states/${applicationName}-starter`),
        level: sfn.LogLevel.ALL,
      },
    });
    const started = new CustomResource(this, 'Start', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::FlinkApplicationStart',
      properties: {
        ApplicationName: this.applicationName,
        RestoreType: RESTORE_TYPES[start.restore],
        AllowNonRestoredState: String(start.allowNonRestoredState),
        // A new jar or new properties re-check that the application runs after the deploy.
        Trigger: Lazy.string({ produce: () => Stack.of(this).toJsonString({ code: this.code.assetHash, properties: this.groups }) }),
      },
    });
    started.node.addDependency(...after);

    // What the framework grants itself, each confined to one of its own functions.
    const versionsOf = (fn: Construct) => `AwsSolutions-IAM5[Resource::<${this.logicalIdOf(fn)}.Arn>:*]`;
    for (const role of [frameworkOnEventRole, frameworkCompleteRole]) {
      for (const handler of [onEvent, isComplete]) {
        acknowledge(role, {
          [versionsOf(handler)]:
            'The custom-resource framework may invoke any version of this one handler of its own.',
        });
      }
    }
    for (const step of ['framework-isComplete', 'framework-onTimeout']) {
      acknowledge(provider, {
        [versionsOf(provider.node.findChild(step))]:
          "The framework's waiter may invoke any version of this one framework function.",
      });
    }
    acknowledge(provider, {
      'AwsSolutions-IAM5[Resource::*]':
        "Step Functions delivers the waiter's execution log through CloudWatch Logs delivery APIs, which support no resource-level permissions.",
      'AwsSolutions-SF2':
        "X-Ray tracing of the custom-resource framework's internal waiter is not configurable; its executions are logged in full instead.",
      'AwsSolutions-L1':
        'The custom-resource framework functions run on the runtime CDK pins for them.',
    });
  }
}
