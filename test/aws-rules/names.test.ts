import { templateTargets } from '../helpers/targets';
import { awsRule } from './aws-rule';
import { Resolver, stackTemplates } from '../helpers/cfn-resolve';
import type { Synthesized } from '../helpers/synth';

// Name limits of the resources the platform names itself (names resolved as deployed, test/helpers/cfn-resolve.ts).

/** Every name of `type`'s `property` (a dotted path) across a target, intrinsics resolved. */
function names(synth: Synthesized, type: string, property: string): { id: string; name: string }[] {
  const stacks = stackTemplates(synth);
  const resolver = new Resolver(Object.values(stacks));
  return Object.entries(stacks).flatMap(([stackId, { stackName, template }]) => Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === type)
    .map(([logicalId, r]) => ({ id: `${stackId}/${logicalId}`, value: property.split('.').reduce<any>((v, k) => v?.[k], r.Properties) }))
    .filter(({ value }) => value !== undefined)
    .map(({ id, value }) => ({ id, name: String(resolver.resolve(value, stackName)) })));
}

const limits: { rule: string; source: string; type: string; property: string; max: number; pattern?: RegExp }[] = [
  { rule: 'A Lambda function name is 1 to 64 characters', source: 'https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html', type: 'AWS::Lambda::Function', property: 'FunctionName', max: 64 },
  { rule: 'An IAM role name is 1 to 64 characters of [\\w+=,.@-]', source: 'https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html', type: 'AWS::IAM::Role', property: 'RoleName', max: 64, pattern: /^[\w+=,.@-]+$/ },
  { rule: 'A Glue database name is 1 to 255 characters, and Athena reads only lowercase names of letters, digits and underscores', source: 'https://docs.aws.amazon.com/athena/latest/ug/tables-databases-columns-names.html', type: 'AWS::Glue::Database', property: 'DatabaseInput.Name', max: 255, pattern: /^[a-z0-9_]+$/ },
  { rule: 'A Glue table name is 1 to 255 characters, and Athena reads only lowercase names of letters, digits and underscores', source: 'https://docs.aws.amazon.com/athena/latest/ug/tables-databases-columns-names.html', type: 'AWS::Glue::Table', property: 'TableInput.Name', max: 255, pattern: /^[a-z0-9_]+$/ },
  { rule: 'An SQS queue name is 1 to 80 characters of letters, digits, hyphens and underscores (a FIFO queue\'s ends in .fifo)', source: 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html', type: 'AWS::SQS::Queue', property: 'QueueName', max: 80, pattern: /^[A-Za-z0-9_-]+(\.fifo)?$/ },
  { rule: 'A state machine name is 1 to 80 characters', source: 'https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html', type: 'AWS::StepFunctions::StateMachine', property: 'StateMachineName', max: 80, pattern: /^[A-Za-z0-9_-]+$/ },
  { rule: 'A Kinesis stream name is 1 to 128 characters of [a-zA-Z0-9_.-]', source: 'https://docs.aws.amazon.com/kinesis/latest/APIReference/API_CreateStream.html', type: 'AWS::Kinesis::Stream', property: 'Name', max: 128, pattern: /^[a-zA-Z0-9_.-]+$/ },
  { rule: 'A Firehose stream name is 1 to 64 characters of [a-zA-Z0-9_.-]', source: 'https://docs.aws.amazon.com/firehose/latest/APIReference/API_CreateDeliveryStream.html', type: 'AWS::KinesisFirehose::DeliveryStream', property: 'DeliveryStreamName', max: 64, pattern: /^[a-zA-Z0-9_.-]+$/ },
  { rule: 'An Athena workgroup name is 1 to 128 characters of [a-zA-Z0-9._-]', source: 'https://docs.aws.amazon.com/athena/latest/APIReference/API_CreateWorkGroup.html', type: 'AWS::Athena::WorkGroup', property: 'Name', max: 128, pattern: /^[a-zA-Z0-9._-]+$/ },
  { rule: 'A log group name is 1 to 512 characters of [.\\-_/#A-Za-z0-9]', source: 'https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html', type: 'AWS::Logs::LogGroup', property: 'LogGroupName', max: 512, pattern: /^[.\-_/#A-Za-z0-9]+$/ },
];

for (const { rule, source, type, property, max, pattern } of limits) {
  awsRule({
    rule, source, targets: templateTargets(),
    check: (synth) => {
      for (const { id, name } of names(synth, type, property)) {
        expect([id, name, name.length >= 1 && name.length <= max]).toEqual([id, name, true]);
        if (pattern) expect([id, name, pattern.test(name)]).toEqual([id, name, true]);
      }
    },
  });
}
