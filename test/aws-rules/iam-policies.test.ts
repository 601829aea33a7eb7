import { templateTargets } from '../helpers/targets';
import { awsRule } from './aws-rule';
import { ALLOWED_FINDINGS } from './iam-findings.allow';
import { Resolver, type StackTemplate } from '../helpers/cfn-resolve';
import { lintPolicies, policiesOf, type IamFinding } from '../helpers/iam-policies';

/**
 * Every IAM policy the platform deploys — identity policies, role trust policies, key, bucket, queue,
 * topic and MSK cluster policies — linted by parliament against its database of AWS actions, resource
 * types and condition keys, after CloudFormation's intrinsics are resolved to plausible values.
 * A finding fails unless test/aws-rules/iam-findings.allow.ts accepts it with a reason.
 */

const used = new Set<number>();
let targetsChecked = 0;
const describeFinding = (f: IamFinding) => `${f.id}: ${f.issue} ${JSON.stringify(f.detail)}`;

awsRule({
  targets: templateTargets(),
  rule: 'An IAM policy may name only actions the service defines, each on resource types it supports, with condition keys and operators that apply to it',
  source: 'https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html',
  check: (synth) => {
    const documents = policiesOf(synth);
    // Each kind of document is there to be checked (an empty list would pass anything).
    expect(new Set(documents.map((d) => d.kind))).toEqual(new Set(['identity', 'trust', 'resource']));
    const unexpected: string[] = [];
    for (const finding of lintPolicies(documents)) {
      const index = ALLOWED_FINDINGS.findIndex((a) => a.issue === finding.issue && a.policy.test(finding.id) && a.detail.test(JSON.stringify(finding.detail)));
      if (index >= 0) used.add(index);
      else unexpected.push(describeFinding(finding));
    }
    expect(unexpected).toEqual([]);
    targetsChecked += 1;
  },
});

test('every accepted finding is still found (a fixed policy takes its entry in iam-findings.allow.ts with it)', () => {
  // Only meaningful once every target passed above (not under `jest -t` picking some of them).
  if (targetsChecked < templateTargets().length) return;
  const stale = ALLOWED_FINDINGS.filter((_a, i) => !used.has(i)).map((a) => `${a.issue} ${a.policy} ${a.detail}`);
  expect(stale).toEqual([]);
});

describe('the linter finds what it is here to find', () => {
  const stream = 'arn:aws:kinesis:eu-west-1:123456789012:stream/events';
  const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  // Known-bad (and one known-good) statements, linted in one run of parliament.
  const cases: Record<string, Record<string, unknown>> = {
    unknownAction: { Action: 's3:GetObjekt', Resource: 'arn:aws:s3:::bucket/*' },
    wrongResourceType: { Action: 's3:GetObject', Resource: stream },
    createApplicationOnApplication: { Action: 'kinesisanalytics:CreateApplication', Resource: 'arn:aws:kinesisanalytics:eu-west-1:123456789012:application/replay' },
    unknownConditionKey: { Action: 'kinesis:GetRecords', Resource: stream, Condition: { StringEquals: { 'kinesis:NoSuchKey': 'x' } } },
    unknownOperator: { Action: 'kinesis:GetRecords', Resource: stream, Condition: { StringEqualz: { 'aws:SourceAccount': '123456789012' } } },
    wildcard: { Action: 'kms:*', Resource: key },
    wildcardAndNamed: { Action: ['kms:*', 'kms:CreateAlias'], Resource: key },
    good: { Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::bucket/raw/*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } },
  };
  let found: Record<string, [string, unknown][]>;
  beforeAll(() => {
    const findings = lintPolicies(Object.entries(cases).map(([id, s]) => ({ id, policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', ...s }] } })));
    found = Object.fromEntries(Object.keys(cases).map((id) => [id, findings.filter((f) => f.id === id).map((f) => [f.issue, f.detail])]));
  });

  test('an unknown action', () => {
    expect(found.unknownAction).toEqual([['UNKNOWN_ACTION', 'Unknown action s3:GetObjekt']]);
  });

  test('an action on a resource type it does not support', () => {
    expect(found.wrongResourceType).toEqual([['RESOURCE_MISMATCH', [{ action: 's3:GetObject', required_format: 'arn:*:s3:::*/*' }]]]);
    // The real defect this checker found: CreateApplication cannot be scoped to an application.
    expect(found.createApplicationOnApplication.map(([issue]) => issue)).toEqual(['RESOURCE_MISMATCH']);
  });

  test('a condition key the action does not support, and an unknown operator', () => {
    expect(found.unknownConditionKey).toEqual([['UNKNOWN_CONDITION_FOR_ACTION', 'Unknown condition kinesis:NoSuchKey for action kinesis:GetRecords']]);
    expect(found.unknownOperator).toEqual([['UNKNOWN_OPERATOR', 'StringEqualz']]);
  });

  test('a wildcard is not blamed for the actions it covers that cannot apply; a named action is', () => {
    expect(found.wildcard).toEqual([]);
    expect(found.wildcardAndNamed.map(([issue]) => issue)).toEqual(['RESOURCE_MISMATCH']);
    expect(new Set((found.wildcardAndNamed[0][1] as { action: string }[]).map((d) => d.action))).toEqual(new Set(['kms:CreateAlias']));
  });

  test('a policy with no finding has none', () => {
    expect(found.good).toEqual([]);
  });
});

describe('intrinsics resolve to what CloudFormation returns for each resource type', () => {
  const lake: StackTemplate = {
    stackName: 'tributary-lake',
    template: {
      Resources: {
        Lake5F1B88EA: { Type: 'AWS::S3::Bucket', Properties: { BucketName: { 'Fn::Join': ['-', ['tributary-lake', { Ref: 'AWS::AccountId' }, { Ref: 'AWS::Region' }]] } } },
        Key961B73FD: { Type: 'AWS::KMS::Key' },
        Queue4A7E3555: { Type: 'AWS::SQS::Queue' },
        Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'alerts' } },
        Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'writer' } },
        Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { StateMachineName: 'tributary-kappa-replay' } },
        Database: { Type: 'AWS::Glue::Database', Properties: { DatabaseInput: { Name: 'tributary_lake' } } },
        Stream: { Type: 'AWS::Kinesis::Stream', Properties: { Name: 'events' } },
        Consumer: { Type: 'AWS::Kinesis::StreamConsumer', Properties: { ConsumerName: 'efo', StreamARN: { 'Fn::GetAtt': ['Stream', 'Arn'] } } },
      },
      Outputs: {
        PublishOutputFnGetAttLake5F1B88EAArn1C68C0C3: { Value: { 'Fn::GetAtt': ['Lake5F1B88EA', 'Arn'] } },
        Exported: { Value: { Ref: 'Topic' }, Export: { Name: { 'Fn::Sub': '${AWS::StackName}-topic' } } },
      },
    },
  };
  const serving: StackTemplate = { stackName: 'tributary-serving', template: { Resources: {} } };
  const resolver = new Resolver([lake, serving]);
  const inLake = (v: unknown) => resolver.resolve(v, 'tributary-lake');

  test('pseudo parameters, Ref and GetAtt by type', () => {
    expect(inLake({ Ref: 'AWS::Partition' })).toBe('aws');
    expect(inLake({ 'Fn::GetAtt': ['Lake5F1B88EA', 'Arn'] })).toBe('arn:aws:s3:::tributary-lake-123456789012-eu-west-1');
    expect(inLake({ Ref: 'Lake5F1B88EA' })).toBe('tributary-lake-123456789012-eu-west-1');
    expect(inLake({ Ref: 'Key961B73FD' })).toMatch(/^[0-9a-f-]{36}$/);
    expect(inLake({ 'Fn::GetAtt': ['Key961B73FD', 'Arn'] })).toMatch(/^arn:aws:kms:eu-west-1:123456789012:key\/[0-9a-f-]{36}$/);
    // A queue's Ref is its URL, a topic's and a state machine's their ARN.
    expect(inLake({ Ref: 'Queue4A7E3555' })).toMatch(/^https:\/\/sqs\.eu-west-1\.amazonaws\.com\/123456789012\/tributary-lake-Queue-[0-9A-F]{8}$/);
    expect(inLake({ 'Fn::GetAtt': ['Queue4A7E3555', 'Arn'] })).toMatch(/^arn:aws:sqs:eu-west-1:123456789012:tributary-lake-Queue-[0-9A-F]{8}$/);
    expect(inLake({ Ref: 'Topic' })).toBe('arn:aws:sns:eu-west-1:123456789012:alerts');
    expect(inLake({ Ref: 'Machine' })).toBe('arn:aws:states:eu-west-1:123456789012:stateMachine:tributary-kappa-replay');
    expect(inLake({ 'Fn::GetAtt': ['Role', 'Arn'] })).toBe('arn:aws:iam::123456789012:role/writer');
    expect(inLake({ Ref: 'Database' })).toBe('tributary_lake');
    expect(inLake({ 'Fn::GetAtt': ['Consumer', 'ConsumerARN'] })).toMatch(/^arn:aws:kinesis:eu-west-1:123456789012:stream\/events\/consumer\/efo:\d+$/);
  });

  test('Join, Sub, Select, Split, NoValue, and the cross-stack references', () => {
    expect(inLake({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: 'Lake5F1B88EA' }, '/raw/*']] })).toBe('arn:aws:s3:::tributary-lake-123456789012-eu-west-1/raw/*');
    expect(inLake({ 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${Topic.TopicName}:*' })).toBe('arn:aws:logs:eu-west-1:123456789012:log-group:alerts:*');
    expect(inLake({ 'Fn::Sub': ['${Name}-x-${!Literal}', { Name: { Ref: 'Database' } }] })).toBe('tributary_lake-x-${Literal}');
    expect(inLake({ 'Fn::Select': [1, { 'Fn::Split': [':', 'a:b:c'] }] })).toBe('b');
    expect(inLake({ Statement: [{ Sid: { Ref: 'AWS::NoValue' }, Effect: 'Allow' }] })).toEqual({ Statement: [{ Effect: 'Allow' }] });
    const fromServing = (v: unknown) => resolver.resolve(v, 'tributary-serving');
    expect(fromServing({ 'Fn::GetStackOutput': { StackName: 'tributary-lake', Region: { Ref: 'AWS::Region' }, OutputName: 'PublishOutputFnGetAttLake5F1B88EAArn1C68C0C3' } }))
      .toBe('arn:aws:s3:::tributary-lake-123456789012-eu-west-1');
    expect(fromServing({ 'Fn::ImportValue': 'tributary-lake-topic' })).toBe('arn:aws:sns:eu-west-1:123456789012:alerts');
  });

  test('what it does not know is an error, never a guess', () => {
    expect(() => inLake({ 'Fn::GetAtt': ['Lake5F1B88EA', 'NoSuchAttribute'] })).toThrow(/Fn::GetAtt Lake5F1B88EA.NoSuchAttribute \(AWS::S3::Bucket\) is not resolved/);
    expect(() => inLake({ Ref: 'Missing' })).toThrow(/has no resource or parameter Missing/);
    expect(() => inLake({ 'Fn::If': ['C', 'a', 'b'] })).toThrow(/Fn::If is not resolved/);
    expect(() => resolver.resolve({ 'Fn::GetStackOutput': { StackName: 'tributary-lake', OutputName: 'Nope' } }, 'tributary-serving')).toThrow(/no such stack output/);
  });
});
