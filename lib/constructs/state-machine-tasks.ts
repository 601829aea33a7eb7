import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/**
 * The pieces both reprocessing workflows (the Kappa replay and the batch run) build their
 * JSONata state machines from: SDK and Athena tasks, retries of transient errors, the catch
 * that keeps an error for the failure path, and the encrypted execution log.
 */

/** Wraps a JSONata expression for a state field. */
export const J = (expression: string): string => `{% ${expression} %}`;

/** Transient errors of one SDK integration, as Step Functions names them: `<Service>.<Error>Exception`. */
export function transient(service: string, errors: string[]): sfn.RetryProps {
  return {
    errors: [...errors, 'ThrottlingException', 'SdkClientException'].map((e) => `${service}.${e}`),
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 6,
    maxDelay: Duration.seconds(60),
    jitterStrategy: sfn.JitterType.FULL,
  };
}

/** Athena's StartQueryExecution throttling and transient errors; a query that ran and failed is not one of them. */
export const ATHENA_RETRY = transient('Athena', ['TooManyRequestsException', 'InternalServerException']);
export const SSM_RETRY = transient('Ssm', ['InternalServerErrorException', 'TooManyUpdatesException']);

/** A task calling `<service>:<action>` through the AWS SDK integration, retried on `retry`. */
export function sdkTask(
  scope: Construct, stateId: string, service: string, action: string, state: Record<string, unknown>, retry: sfn.RetryProps, timeout: Duration,
): sfn.CustomState {
  return new sfn.CustomState(scope, stateId, {
    stateJson: {
      Type: 'Task',
      Resource: `arn:${Aws.PARTITION}:states:::aws-sdk:${service}:${action}`,
      TimeoutSeconds: timeout.toSeconds(),
      ...state,
    },
  }).addRetry(retry);
}

/** A task that runs one Athena query and waits for it (`.sync`), retried on Athena's transient errors. */
export function athenaQueryTask(scope: Construct, stateId: string, timeout: Duration, state: Record<string, unknown>): sfn.CustomState {
  return new sfn.CustomState(scope, stateId, {
    stateJson: {
      Type: 'Task',
      Resource: `arn:${Aws.PARTITION}:states:::athena:startQueryExecution.sync`,
      TimeoutSeconds: timeout.toSeconds(),
      ...state,
    },
  }).addRetry(ATHENA_RETRY);
}

/** A catch of every error that keeps it (`$error`, `$cause`) and the step it happened in (`$failedStep`). */
export function caughtAt(step: string): sfn.CatchProps {
  return {
    errors: [sfn.Errors.ALL],
    assign: {
      error: J('$states.errorOutput.Error'),
      cause: J("$exists($states.errorOutput.Cause) ? $states.errorOutput.Cause : ''"),
      failedStep: step,
    },
  };
}

export interface ExecutionLogProps {
  /** The log group's name (`/aws/vendedlogs/states/...` for a state machine): the name the key's policy is bound to. */
  readonly logGroupName: string;
  /** What the key encrypts, for its description. */
  readonly description: string;
  readonly retention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** The key's construct id in `scope`. @default 'LogKey' */
  readonly keyId?: string;
  /** A key of the caller's to use (and whose policy to extend) instead of a new one. @default - a new key */
  readonly key?: kms.Key;
}

/**
 * A log group encrypted with a key of its own (construct id `keyId` in `scope`) whose policy lets
 * CloudWatch Logs use it for this one log group, as "Encrypt log data in CloudWatch Logs using AWS KMS"
 * writes it: logs.<region>.amazonaws.com, bound by `kms:EncryptionContext:aws:logs:arn`.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
 */
export function encryptedLogGroup(scope: Construct, logGroupId: string, props: ExecutionLogProps): logs.LogGroup {
  const key = props.key ?? new kms.Key(scope, props.keyId ?? 'LogKey', { description: props.description, enableKeyRotation: true, removalPolicy: props.removalPolicy });
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
    actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:DescribeKey'],
    resources: ['*'],
    conditions: { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${props.logGroupName}` } },
  }));
  return new logs.LogGroup(scope, logGroupId, {
    logGroupName: props.logGroupName,
    encryptionKey: key,
    retention: props.retention,
    removalPolicy: props.removalPolicy,
  });
}

/** One key per stack (and removal policy: a retained log must keep its key) for the logs {@link stackLogGroup} makes. */
function stackLogsKey(scope: Construct, removalPolicy: RemovalPolicy): kms.Key {
  const stack = Stack.of(scope);
  const id = removalPolicy === RemovalPolicy.RETAIN ? 'LogsKeyRetained' : 'LogsKey';
  return (stack.node.tryFindChild(id) as kms.Key | undefined)
    ?? new kms.Key(stack, id, { description: `Encrypts the logs of ${stack.stackName}`, enableKeyRotation: true, removalPolicy });
}

/**
 * An {@link encryptedLogGroup} with its stack's logs key, named `<prefix>/<stack name>/<construct path in the
 * stack>`: a name its key's policy can give, and one that two deployments (profiles) in one account never share.
 */
export function stackLogGroup(scope: Construct, id: string, props: { prefix: string; retention: logs.RetentionDays; removalPolicy: RemovalPolicy }): logs.LogGroup {
  const stack = Stack.of(scope);
  const path = [...scope.node.scopes.slice(stack.node.scopes.length).map((c) => c.node.id), id].join('/');
  return encryptedLogGroup(scope, id, {
    logGroupName: `${props.prefix}/${stack.stackName}/${path}`,
    key: stackLogsKey(scope, props.removalPolicy),
    description: '',
    retention: props.retention,
    removalPolicy: props.removalPolicy,
  });
}

/** A state machine's execution log: an {@link encryptedLogGroup} named `/aws/vendedlogs/states/...`. */
export const encryptedExecutionLog = encryptedLogGroup;
