import { type CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge } from './acknowledge';
import type { LogNetwork } from './event-log/log-network';
import { PlatformFunction } from './platform-function';
import { encryptedLogGroup } from './state-machine-tasks';

export interface PlatformProviderProps {
  /** The handlers' TypeScript entry file, exporting `onEvent` (and `isComplete` when `waitFor` is set). */
  readonly entry: string;
  /** What the custom resource does, for the functions' and roles' descriptions. */
  readonly description: string;
  /** What the handlers may call. */
  readonly statements: iam.PolicyStatement[];
  /** Timeout of one handler invocation. @default 1 minute */
  readonly handlerTimeout?: Duration;
  /**
   * Poll `isComplete` every `queryInterval` until it reports completion, failing the deploy after
   * `totalTimeout` (at most 2 hours). @default - no waiting: `onEvent` finishes the work
   */
  readonly waitFor?: { readonly queryInterval: Duration; readonly totalTimeout: Duration };
  /** Run the handlers in the VPC, to reach what lives only there (a Kafka broker). @default - no VPC */
  readonly network?: LogNetwork;
  readonly logRetention: logs.RetentionDays;
  /**
   * The name the framework's log groups are named after (`/aws/lambda/<logName>-framework`,
   * `/aws/vendedlogs/states/<logName>`): they are encrypted with a key whose policy names them.
   */
  readonly logName: string;
}

/**
 * A CloudFormation custom-resource provider on CDK's Provider framework with the platform's defaults:
 * the handlers are PlatformFunctions (their own role and log group), the framework's functions and waiter
 * get roles and log groups of the platform's making, and the framework's own cdk-nag findings are
 * acknowledged with their reasons. The handlers answer the framework, not CloudFormation, so one in a VPC
 * with no route out needs no S3 endpoint for the response.
 */
export class PlatformProvider extends Construct {
  public readonly serviceToken: string;
  public readonly onEvent: PlatformFunction;
  public readonly isComplete?: PlatformFunction;

  constructor(scope: Construct, id: string, props: PlatformProviderProps) {
    super(scope, id);
    const handler = (handlerId: string, name: string) => {
      const fn = new PlatformFunction(this, handlerId, {
        entry: props.entry,
        handler: name,
        description: `${props.description} (${name})`,
        timeout: props.handlerTimeout ?? Duration.minutes(1),
        logRetention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
        network: props.network,
      });
      for (const statement of props.statements) fn.addToRolePolicy(statement);
      return fn;
    };
    this.onEvent = handler('OnEvent', 'onEvent');
    this.isComplete = props.waitFor ? handler('IsComplete', 'isComplete') : undefined;
    const handlers = [this.onEvent, ...(this.isComplete ? [this.isComplete] : [])];

    // The framework's function and waiter logs, encrypted with one key of their own.
    const logsKey = new kms.Key(this, 'LogsKey', { description: `Encrypts the logs of: ${props.description}`, enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
    const frameworkLog = (logId: string, logGroupName: string) => encryptedLogGroup(this, logId, {
      logGroupName, key: logsKey, description: '', retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY,
    });
    const frameworkLogs = frameworkLog('FrameworkLogs', `/aws/lambda/${props.logName}-framework`);
    const frameworkRole = (roleId: string) => {
      const role = new iam.Role(this, roleId, { description: `Custom-resource framework: ${props.description}`, assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      frameworkLogs.grantWrite(role);
      return role;
    };
    // Two roles when waiting, as the framework requires to avoid a cycle: onEvent starts the waiter, whose steps invoke isComplete.
    const frameworkOnEventRole = frameworkRole('FrameworkOnEventRole');
    const frameworkCompleteRole = props.waitFor ? frameworkRole('FrameworkCompleteRole') : undefined;
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEvent,
      isCompleteHandler: this.isComplete,
      queryInterval: props.waitFor?.queryInterval,
      totalTimeout: props.waitFor?.totalTimeout,
      frameworkOnEventRole,
      frameworkCompleteAndTimeoutRole: frameworkCompleteRole,
      logGroup: frameworkLogs,
      ...(props.waitFor
        ? {
          disableWaiterStateMachineLogging: false,
          waiterStateMachineLogOptions: {
            destination: frameworkLog('WaiterLogs', `/aws/vendedlogs/states/${props.logName}`),
            level: sfn.LogLevel.ALL,
          },
        }
        : {}),
    });
    this.serviceToken = provider.serviceToken;

    // What the framework grants itself, each confined to one of its own functions.
    const versionsOf = (fn: Construct) => `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as CfnResource)}.Arn>:*]`;
    for (const role of [frameworkOnEventRole, ...(frameworkCompleteRole ? [frameworkCompleteRole] : [])]) {
      for (const fn of handlers) acknowledge(role, { [versionsOf(fn)]: 'The custom-resource framework may invoke any version of this one handler of its own.' });
    }
    if (props.waitFor) {
      for (const step of ['framework-isComplete', 'framework-onTimeout']) {
        acknowledge(provider, { [versionsOf(provider.node.findChild(step))]: "The framework's waiter may invoke any version of this one framework function." });
      }
      acknowledge(provider, {
        'AwsSolutions-IAM5[Resource::*]': "Step Functions delivers the waiter's execution log through CloudWatch Logs delivery APIs, which support no resource-level permissions.",
        'AwsSolutions-SF2': "X-Ray tracing of the custom-resource framework's internal waiter is not configurable; its executions are logged in full instead.",
      });
    }
    acknowledge(provider, { 'AwsSolutions-L1': 'The custom-resource framework functions run on the runtime CDK pins for them.' });
  }
}
