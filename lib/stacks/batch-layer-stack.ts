import * as path from 'node:path';
import { Aws, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import type { BatchLayerEnv } from '../../lambdas/batch-layer/env';
import { BATCH_VIEWS, lambdaViewColumns, lambdaViewName, lambdaViewSql, NO_BATCH_RUN } from '../batch';
import { type PlatformConfig, removalPolicyFor } from '../config';
import { acknowledge } from '../constructs/acknowledge';
import { encryptedExecutionLog } from '../constructs/state-machine-tasks';
import { AthenaView } from '../constructs/athena-view';
import { BatchRun } from '../constructs/batch-layer';
import { PlatformFunction } from '../constructs/platform-function';
import { LakePrefix } from '../lake-layout';
import { type LakeStack, lakeBucketName } from './lake-stack';
import { QUERY_RESULTS_PREFIX, type ServingStack } from './serving-stack';

export interface BatchLayerStackProps extends StackProps {
  readonly config: PlatformConfig;
  readonly lake: LakeStack;
  readonly serving: ServingStack;
}

/**
 * The schedule group the batch schedule is in, which its role's trust names: the account's default group,
 * where a schedule that names no group goes (the schedule leaves GroupName unset, as it was deployed).
 */
export const SCHEDULE_GROUP = 'default';

/** The batch function's Powertools service name. */
export const BATCH_LAYER_SERVICE = 'batch-layer';

/** The batch function's environment, as the stack sets it (every value a string, as Lambda passes them). */
export function batchLayerEnvironment(config: PlatformConfig, databaseName: string): Record<keyof BatchLayerEnv, string> {
  return {
    LAKE_BUCKET_NAME: lakeBucketName(config),
    RAW_PREFIX: LakePrefix.raw,
    DATABASE_NAME: databaseName,
    SETTLE_MINUTES: String(config.batch.settleMinutes),
    POWERTOOLS_SERVICE_NAME: BATCH_LAYER_SERVICE,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
}

/**
 * The Lambda architecture's batch layer: every `batch.scheduleHours` a run recomputes the batch
 * views from raw/ up to a watermark with Athena INSERTs into `batch_<view>` (`run=<id>`), then
 * re-points the `lambda_<view>` serving views, which merge the run with the speed layer after
 * its watermark (docs/batch-layer.md). The views are deployed pointing at no run (the speed
 * layer alone); the run the views serve is recorded in a parameter.
 *
 * The views live here, like the Kappa serving views live in the reprocessing stack, because the
 * runs own them: they re-point them at run time.
 */
export class BatchLayerStack extends Stack {
  public readonly handler: PlatformFunction;
  public readonly run: BatchRun;
  public readonly views: AthenaView[];
  public readonly servedRunParameter: ssm.StringParameter;
  public readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: BatchLayerStackProps) {
    super(scope, id, props);
    const { config, lake, serving } = props;
    const removalPolicy = removalPolicyFor(config);
    const databaseName = (lake.database.databaseInput as glue.CfnDatabase.DatabaseInputProperty).name!;
    // The views' database and the workgroup are named literally, so no reference orders the deploys: say it.
    this.addStackDependency(lake);
    this.addStackDependency(serving);

    this.views = BATCH_VIEWS.map((view) => new AthenaView(this, `View-${lambdaViewName(view)}`, {
      databaseName,
      viewName: lambdaViewName(view),
      description: `Lambda serving view of ${view}: the batch run up to its watermark, then the speed layer (switched by each batch run)`,
      sql: lambdaViewSql(databaseName, view, NO_BATCH_RUN),
      columns: lambdaViewColumns(view),
    }));

    this.servedRunParameter = new ssm.StringParameter(this, 'ServedRun', {
      parameterName: `/${config.name}/batch/served-run`,
      stringValue: JSON.stringify(NO_BATCH_RUN),
      description: 'The batch run the lambda_ views serve, {"run", "watermarkMs"}; each run records itself once it has switched them',
    });

    this.handler = new PlatformFunction(this, 'Handler', {
      description: 'Tributary batch layer: plans a run from raw/, renders its INSERT chunks and its view switch',
      entry: path.join(__dirname, '..', '..', 'lambdas', 'batch-layer', 'index.ts'),
      timeout: Duration.seconds(60),
      environment: batchLayerEnvironment(config, databaseName),
      logRetention: config.observability.logRetentionDays,
      removalPolicy,
    });
    // The plan lists the day prefixes of raw/ (ListObjectsV2, Delimiter '/'), and reads no object.
    this.handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [`arn:${Aws.PARTITION}:s3:::${lakeBucketName(config)}`],
      conditions: { StringEquals: { 's3:prefix': `${LakePrefix.raw}/` } },
    }));

    const logGroup = encryptedExecutionLog(this, 'RunLogs', {
      logGroupName: `/aws/vendedlogs/states/${config.name}-batch-layer`,
      description: 'Encrypts the batch layer execution log',
      retention: config.observability.logRetentionDays,
      removalPolicy,
    });

    this.run = new BatchRun(this, 'BatchRun', {
      name: config.name,
      handler: this.handler,
      servedRunParameter: this.servedRunParameter,
      views: BATCH_VIEWS,
      databaseName,
      workGroupName: serving.workGroup.name,
      logGroup,
      removalPolicy,
    });
    const role = this.run.role;

    // Athena reads and writes the lake as the caller: the INSERTs read raw/ and write batch/.
    lake.grantRead(role, LakePrefix.raw);
    lake.grantRead(role, LakePrefix.batch);
    lake.grantWrite(role, LakePrefix.batch, { multipart: true });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [`arn:${Aws.PARTITION}:s3:::${lakeBucketName(config)}`] }));
    // And writes each query's results (and an INSERT's manifest) into the serving workgroup's location, with the lake key.
    const results = lake.queryResultsBucket;
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation', 's3:ListBucket'], resources: [results.bucketArn] }));
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [results.arnForObjects(`${QUERY_RESULTS_PREFIX}/*`)],
    }));
    lake.grantLakeKey(role, ['kms:GenerateDataKey', 'kms:Decrypt']);
    acknowledge(role, {
      'AwsSolutions-IAM5[Resource::*]':
        'X-Ray trace delivery and the CloudWatch Logs delivery APIs behind Step Functions logging have no resource-level permissions.',
    });
    // The results bucket's ARN is a cross-stack reference, resolved only once the app is prepared (as in the reprocessing stack).
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

    // The schedule, with a role of its own that can start this one state machine and nothing else.
    const scheduleName = `${config.name}-batch-layer`;
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      description: `Starts the batch layer of ${config.name} on its schedule`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          // Scheduler names the schedule group, never the schedule, as the source (its confused-deputy page): the default group.
          ArnEquals: { 'aws:SourceArn': `arn:${Aws.PARTITION}:scheduler:${Aws.REGION}:${Aws.ACCOUNT_ID}:schedule-group/${SCHEDULE_GROUP}` },
        },
      }),
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      scheduleName,
      description: `Starts a Tributary batch run every ${config.batch.scheduleHours} h (docs/batch-layer.md)`,
      schedule: scheduler.ScheduleExpression.rate(Duration.hours(config.batch.scheduleHours)),
      target: new targets.StepFunctionsStartExecution(this.run.stateMachine, {
        role: scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject({ startedBy: 'schedule' }),
        // A start that cannot be made within the hour is dropped: the next scheduled run covers it.
        maxEventAge: Duration.hours(1),
        retryAttempts: 10,
      }),
    });
  }
}
