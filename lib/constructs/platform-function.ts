import { type Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { LogNetwork } from './event-log/log-network';
import { acknowledge } from './acknowledge';
import { stackLogGroup } from './state-machine-tasks';

export interface PlatformFunctionProps {
  /** The handler's TypeScript entry file. */
  readonly entry: string;
  /** Exported handler name. @default handler */
  readonly handler?: string;
  readonly description: string;
  readonly timeout: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  readonly environment?: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Run inside a VPC, to reach a log that lives there. @default - no VPC */
  readonly network?: LogNetwork;
}

/**
 * How every platform function is bundled; bench/handler/bundle.ts and the bundle-size test build the speed layer
 * with these same options.
 */
export const PLATFORM_BUNDLING = {
  minify: true,
  sourceMap: true,
  target: 'node22',
  // Bundle the pinned AWS SDK instead of the runtime's copy, so what is tested is what runs (docs/speed-layer.md,
  // "Bundle and cold start").
  externalModules: [] as string[],
  forceDockerBundling: false,
} satisfies nodejs.BundlingOptions;

/**
 * A TypeScript Lambda function with the platform's defaults: Node.js 22 on
 * ARM64, bundled locally by esbuild (minified, source maps, the pinned AWS SDK
 * inside), X-Ray tracing, its own log group with a retention, encrypted ({@link stackLogGroup}),
 * and its own role
 * allowed to write that log group only (not the managed basic-execution
 * policy's logs:* on every group). Callers add what else it may do.
 */
export class PlatformFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    const logGroup = stackLogGroup(scope, `${id}Logs`, { prefix: '/aws/lambda', retention: props.logRetention, removalPolicy: props.removalPolicy });
    const role = new iam.Role(scope, `${id}Role`, {
      description: props.description,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      description: props.description,
      entry: props.entry,
      handler: props.handler ?? 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout,
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      vpc: props.network?.vpc,
      vpcSubnets: props.network?.subnets,
      securityGroups: props.network && [props.network.clientSecurityGroup],
      // Stack traces point into the TypeScript sources through the bundled source map.
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: PLATFORM_BUNDLING,
    });
    acknowledge(this, {
      'AwsSolutions-L1':
        'Node.js 22 is the runtime the platform pins and tests against; moving to a newer runtime is a deliberate, tested change.',
    });
    if (props.network) {
      // Lambda attaches a function to its VPC through network interfaces it manages with the function's role.
      role.addToPolicy(new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        resources: ['*'],
      }));
    }
    acknowledge(role, {
      'AwsSolutions-IAM5[Resource::*]': props.network
        ? 'X-Ray PutTraceSegments/PutTelemetryRecords and the network-interface calls of a VPC function support no resource-level permissions.'
        : 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions.',
    });
  }
}
