import { platformStacks } from '../../lib/platform';
import type { Synthesized } from './synth';

/**
 * Resolves CloudFormation intrinsic functions in a synthesized template to the values CloudFormation
 * would give them on deploy in one plausible account, so that checkers that know nothing of
 * CloudFormation (an IAM policy linter, a Step Functions interpreter) see real ARNs, names and URLs.
 *
 * What each `Ref` and `Fn::GetAtt` returns is per resource type, as each type's page of the
 * CloudFormation template reference states under "Return values"
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html).
 * A type or attribute not listed here is an error, never a guess: add it with its documented shape.
 */

/** One CloudFormation template as JSON, with the name CloudFormation knows its stack by. */
export interface StackTemplate {
  readonly stackName: string;
  readonly template: { Resources?: Record<string, { Type: string; Properties?: Record<string, any> }>; Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>; Parameters?: Record<string, { Default?: unknown }> };
}

export interface Environment {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}

export const PLAUSIBLE_ENVIRONMENT: Environment = { account: '123456789012', region: 'eu-west-1', partition: 'aws' };

/** Every stack of a synthesized target by its node id, with its CloudFormation stack name. */
export function stackTemplates(synth: Synthesized): Record<string, StackTemplate> {
  return Object.fromEntries(platformStacks(synth.platform).map((stack) => [stack.node.id, { stackName: stack.stackName, template: synth.templates[stack.node.id].toJSON() }]));
}

export class Resolver {
  private readonly byStackName: Map<string, StackTemplate>;

  constructor(stacks: Iterable<StackTemplate>, private readonly env: Environment = PLAUSIBLE_ENVIRONMENT) {
    this.byStackName = new Map([...stacks].map((s) => [s.stackName, s]));
  }

  /** `value` with every intrinsic function resolved, as it would be in `stack` (its CloudFormation name). */
  resolve(value: unknown, stackName: string): any {
    const stack = this.byStackName.get(stackName);
    if (!stack) throw new Error(`no stack named ${stackName}`);
    return this.walk(value, stack);
  }

  private walk(value: unknown, stack: StackTemplate): any {
    if (Array.isArray(value)) return value.map((v) => this.walk(v, stack)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'))) return this.intrinsic(entries[0][0], entries[0][1], stack);
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const resolved = this.walk(v, stack);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }

  private intrinsic(fn: string, arg: any, stack: StackTemplate): any {
    switch (fn) {
      case 'Ref':
        return this.ref(String(arg), stack);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/s);
        return this.getAtt(logicalId, attribute, stack);
      }
      case 'Fn::Join': {
        const [separator, parts] = arg;
        return (this.walk(parts, stack) as unknown[]).map((p) => asString(p, fn)).join(separator);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
        const values = this.walk(vars, stack) as Record<string, unknown>;
        return String(text).replace(/\$\{([^!}][^}]*)\}/g, (_m, name: string) => {
          if (name in values) return asString(values[name], fn);
          const [id, attribute] = name.split(/\.(.*)/s);
          return asString(attribute ? this.getAtt(id, attribute, stack) : this.ref(id, stack), fn);
        }).replace(/\$\{!/g, '${');
      }
      case 'Fn::Select': {
        const [index, list] = this.walk(arg, stack);
        return list[Number(index)];
      }
      case 'Fn::Split': {
        const [separator, text] = this.walk(arg, stack);
        return String(text).split(separator);
      }
      case 'Fn::ImportValue': {
        const name = this.walk(arg, stack);
        for (const other of this.byStackName.values()) {
          for (const output of Object.values(other.template.Outputs ?? {})) {
            if (output.Export && this.walk(output.Export.Name, other) === name) return this.walk(output.Value, other);
          }
        }
        throw new Error(`Fn::ImportValue ${name}: no stack exports it`);
      }
      case 'Fn::GetStackOutput': {
        // CDK's cross-stack reference: the output OutputName of the stack StackName.
        const { StackName, OutputName } = this.walk(arg, stack);
        const other = this.byStackName.get(StackName);
        const output = other?.template.Outputs?.[OutputName];
        if (!other || !output) throw new Error(`Fn::GetStackOutput ${StackName}.${OutputName}: no such stack output`);
        return this.walk(output.Value, other);
      }
      default:
        throw new Error(`${fn} is not resolved by test/helpers/cfn-resolve.ts (in ${stack.stackName})`);
    }
  }

  private ref(name: string, stack: StackTemplate): any {
    const { account, region, partition } = this.env;
    const pseudo: Record<string, unknown> = {
      'AWS::AccountId': account, 'AWS::Region': region, 'AWS::Partition': partition, 'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stack.stackName, 'AWS::NoValue': NO_VALUE,
      'AWS::StackId': `arn:${partition}:cloudformation:${region}:${account}:stack/${stack.stackName}/0e9b6f40-0000-4000-8000-000000000000`,
    };
    if (name in pseudo) return pseudo[name];
    const parameter = stack.template.Parameters?.[name];
    if (parameter) return parameter.Default;
    const resource = this.resource(name, stack);
    const physical = this.physicalName(name, resource, stack);
    const refs: Record<string, () => string> = {
      'AWS::SQS::Queue': () => `https://sqs.${region}.amazonaws.com/${account}/${physical}`,
      'AWS::SNS::Topic': () => this.arn('sns', physical),
      'AWS::StepFunctions::StateMachine': () => this.arn('states', `stateMachine:${physical}`),
      'AWS::IAM::ManagedPolicy': () => `arn:${partition}:iam::${account}:policy/${physical}`,
      'AWS::MSK::Cluster': () => this.arn('kafka', `cluster/${physical}/${UUID}-1`),
      'AWS::MSK::ServerlessCluster': () => this.arn('kafka', `cluster/${physical}/${UUID}-s1`),
      'AWS::Kinesis::StreamConsumer': () => this.getAtt(name, 'ConsumerARN', stack),
      'AWS::KMS::Key': () => UUID,
      'AWS::EC2::VPC': () => 'vpc-0a1b2c3d4e5f60718',
      'AWS::EC2::SecurityGroup': () => 'sg-0a1b2c3d4e5f60718',
      'AWS::EC2::Subnet': () => `subnet-0a1b2c3d4e5f${hex(name)}`,
    };
    return (refs[resource.Type] ?? (() => physical))();
  }

  private getAtt(logicalId: string, attribute: string, stack: StackTemplate): any {
    const resource = this.resource(logicalId, stack);
    const name = this.physicalName(logicalId, resource, stack);
    const { account, region, partition } = this.env;
    const key = `${resource.Type}.${attribute}`;
    const atts: Record<string, () => unknown> = {
      'AWS::S3::Bucket.Arn': () => `arn:${partition}:s3:::${name}`,
      'AWS::S3::Bucket.DomainName': () => `${name}.s3.amazonaws.com`,
      'AWS::S3::Bucket.RegionalDomainName': () => `${name}.s3.${region}.amazonaws.com`,
      'AWS::IAM::Role.Arn': () => `arn:${partition}:iam::${account}:role${resource.Properties?.Path ?? '/'}${name}`,
      'AWS::IAM::Role.RoleId': () => 'AROA1234567890EXAMPLE',
      'AWS::KMS::Key.Arn': () => this.arn('kms', `key/${UUID}`),
      'AWS::KMS::Key.KeyId': () => UUID,
      'AWS::Lambda::Function.Arn': () => this.arn('lambda', `function:${name}`),
      'AWS::Logs::LogGroup.Arn': () => this.arn('logs', `log-group:${name}:*`),
      'AWS::SQS::Queue.Arn': () => this.arn('sqs', name),
      'AWS::SQS::Queue.QueueName': () => name,
      'AWS::SQS::Queue.QueueUrl': () => `https://sqs.${region}.amazonaws.com/${account}/${name}`,
      'AWS::SNS::Topic.TopicArn': () => this.arn('sns', name),
      'AWS::SNS::Topic.TopicName': () => name,
      'AWS::Kinesis::Stream.Arn': () => this.arn('kinesis', `stream/${name}`),
      'AWS::DynamoDB::Table.Arn': () => this.arn('dynamodb', `table/${name}`),
      'AWS::Kinesis::StreamConsumer.ConsumerARN': () => {
        const streamArn = this.walk(resource.Properties?.StreamARN, stack);
        return `${streamArn}/consumer/${resource.Properties?.ConsumerName}:1700000000`;
      },
      'AWS::KinesisFirehose::DeliveryStream.Arn': () => this.arn('firehose', `deliverystream/${name}`),
      'AWS::MSK::Cluster.Arn': () => this.ref(logicalId, stack),
      'AWS::MSK::ServerlessCluster.Arn': () => this.ref(logicalId, stack),
      'AWS::StepFunctions::StateMachine.Arn': () => this.arn('states', `stateMachine:${name}`),
      'AWS::StepFunctions::StateMachine.Name': () => name,
      'AWS::EC2::VPC.DefaultSecurityGroup': () => 'sg-0f1e2d3c4b5a69788',
      'AWS::EC2::VPC.CidrBlock': () => resource.Properties?.CidrBlock,
      'AWS::EC2::SecurityGroup.GroupId': () => this.ref(logicalId, stack),
      'AWS::Glue::Database.Name': () => name,
      'AWS::Athena::WorkGroup.Name': () => name,
      'AWS::SSM::Parameter.Name': () => name,
      'AWS::Events::Rule.Arn': () => this.arn('events', `rule/${name}`),
      'AWS::Scheduler::ScheduleGroup.Arn': () => this.arn('scheduler', `schedule-group/${name}`),
    };
    const att = atts[key];
    if (!att) throw new Error(`Fn::GetAtt ${logicalId}.${attribute} (${resource.Type}) is not resolved by test/helpers/cfn-resolve.ts: add its documented return value`);
    return att();
  }

  private resource(logicalId: string, stack: StackTemplate) {
    const resource = stack.template.Resources?.[logicalId];
    if (!resource) throw new Error(`${stack.stackName} has no resource or parameter ${logicalId}`);
    return resource;
  }

  /** The name a resource gets: its name property when the template sets one, else one CloudFormation would generate. */
  private physicalName(logicalId: string, resource: { Type: string; Properties?: Record<string, any> }, stack: StackTemplate): string {
    const property = NAME_PROPERTIES[resource.Type];
    const given = property?.split('.').reduce<any>((v, key) => v?.[key], resource.Properties);
    if (given !== undefined) return asString(this.walk(given, stack), `${resource.Type}.${property}`);
    // CloudFormation's generated names are <stack>-<logical id>-<random suffix>; buckets' are lowercase.
    const generated = `${stack.stackName}-${logicalId.replace(/[0-9A-F]{8}$/, '')}`.slice(0, 50) + `-${hex(logicalId).toUpperCase()}`;
    return resource.Type === 'AWS::S3::Bucket' ? generated.toLowerCase() : generated;
  }

  private arn(service: string, resource: string): string {
    const { account, region, partition } = this.env;
    return `arn:${partition}:${service}:${region}:${account}:${resource}`;
  }
}

/** The property that names a resource of each type, where the type has one. */
const NAME_PROPERTIES: Record<string, string> = {
  'AWS::S3::Bucket': 'BucketName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Logs::LogStream': 'LogStreamName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::Kinesis::Stream': 'Name',
  'AWS::KinesisFirehose::DeliveryStream': 'DeliveryStreamName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::SSM::Parameter': 'Name',
  'AWS::Glue::Database': 'DatabaseInput.Name',
  'AWS::Athena::WorkGroup': 'Name',
  'AWS::MSK::Cluster': 'ClusterName',
  'AWS::MSK::ServerlessCluster': 'ClusterName',
  'AWS::KinesisAnalyticsV2::Application': 'ApplicationName',
  'AWS::Events::Rule': 'Name',
  'AWS::Scheduler::ScheduleGroup': 'Name',
};

const NO_VALUE = Symbol('AWS::NoValue');
const UUID = '1234abcd-12ab-34cd-56ef-1234567890ab';

function asString(value: unknown, where: string): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  throw new Error(`${where}: expected a string, got ${JSON.stringify(value)}`);
}

/** A short stable hex string for a name (stand-in for the random parts of generated ids). */
function hex(text: string): string {
  let h = 0x811c9dc5;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
