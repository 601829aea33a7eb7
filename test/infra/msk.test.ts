import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { ConfigError, loadConfig } from '../../lib/config';
import { cdkJsonContext, onlyResource, REPO_ROOT, synthProfile } from '../helpers/synth';

const msk = () => synthProfile('msk');
const serverless = () => synthProfile('msk-serverless');

describe('the MSK profiles', () => {
  test('build a network stack only when the log lives in a VPC', () => {
    expect(msk().templates.Network).toBeDefined();
    expect(serverless().templates.Network).toBeDefined();
    expect(synthProfile('dev').templates.Network).toBeUndefined();
  });

  test('brokers must divide evenly over the zones', () => {
    const app = new App({ context: { ...cdkJsonContext(), profile: 'msk', 'eventLog.msk.brokerNodes': '4' } });
    expect(() => loadConfig(app.node)).toThrow(ConfigError);
    expect(() => loadConfig(app.node)).toThrow('eventLog.msk.brokerNodes = 4: must be a multiple of network.availabilityZones (3)');
  });

  test.each([
    ['eventLog.msk.kafkaVersion', '3.5.1', 'eventLog.msk.kafkaVersion = "3.5.1": the events topic is created with the MSK topic API, which needs Apache Kafka 3.6.0 or later'],
    ['eventLog.msk.instanceType', 'kafka.t3.small', 'eventLog.msk.instanceType = "kafka.t3.small": multi-VPC private connectivity, through which Firehose archives the log, is not supported on t3.small brokers'],
  ])('a provisioned cluster refuses %s = %s, naming the fix', (key, value, message) => {
    const app = new App({ context: { ...cdkJsonContext(), profile: 'msk', [key]: value } });
    expect(() => loadConfig(app.node)).toThrow(message);
    // Neither applies to MSK Serverless, which has no brokers or version to choose.
    const serverless = new App({ context: { ...cdkJsonContext(), profile: 'msk-serverless', [key]: value } });
    expect(() => loadConfig(serverless.node)).not.toThrow();
  });
});

describe('network', () => {
  test('private subnets across the zones, no NAT and no internet gateway, flow logs on', () => {
    const t = msk().templates.Network;
    expect(Object.keys(t.findResources('AWS::EC2::Subnet'))).toHaveLength(3);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::InternetGateway', 0);
    t.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
  });

  test('endpoints keep the pollers\' and the clients\' calls inside the VPC, reachable on 443 from the VPC only', () => {
    const t = msk().templates.Network;
    const services = Object.values(t.findResources('AWS::EC2::VPCEndpoint')).map((e: any) => JSON.stringify(e.Properties.ServiceName).match(/\.(s3|lambda|sts|sns|sqs|xray)"/)?.[1]).sort();
    // No SNS endpoint: the speed layer writes alerts to the alerts topic on the brokers; the notifier publishes from outside the VPC.
    expect(services).toEqual(['lambda', 's3', 'sqs', 'sts', 'xray']);
    const endpointsGroup = Object.values(t.findResources('AWS::EC2::SecurityGroup')).find((g: any) => g.Properties.GroupDescription.startsWith('VPC interface endpoints')) as any;
    expect(endpointsGroup.Properties.SecurityGroupIngress).toEqual([expect.objectContaining({ CidrIp: '10.20.0.0/16', FromPort: 443, ToPort: 443 })]);
  });
});

describe('provisioned cluster', () => {
  const cluster = () => onlyResource(msk().templates.EventLog, 'AWS::MSK::Cluster').Properties;

  test('IAM access control only, TLS to clients and between brokers, KMS at rest, broker logs, monitoring from config', () => {
    expect(cluster()).toMatchObject({
      KafkaVersion: '3.8.x',
      NumberOfBrokerNodes: 3,
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } },
      EncryptionInfo: { EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true }, EncryptionAtRest: { DataVolumeKMSKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^EventLogKey/), 'Arn'] } } },
      LoggingInfo: { BrokerLogs: { CloudWatchLogs: { Enabled: true } } },
      EnhancedMonitoring: 'PER_TOPIC_PER_BROKER',
    });
    // Multi-VPC connectivity cannot be enabled on create: a custom resource turns it on once the cluster is ACTIVE.
    expect(cluster().BrokerNodeGroupInfo.ConnectivityInfo).toBeUndefined();
  });

  test('multi-VPC connectivity (IAM) is turned on after create and waited for; the topics come before it, the cluster policy after', () => {
    const t = msk().templates.EventLog;
    const connectivity = Object.entries(t.findResources('Custom::MskMultiVpcConnectivity'));
    expect(connectivity).toHaveLength(1);
    const [id, resource] = connectivity[0] as [string, any];
    expect(resource.Properties).toMatchObject({ ClusterArn: { 'Fn::GetAtt': [expect.stringMatching(/^EventLogCluster/), 'Arn'] }, Authentication: 'IAM' });
    const topicIds = Object.keys(t.findResources('AWS::MSK::Topic'));
    expect(topicIds).toHaveLength(2);
    expect(resource.DependsOn).toEqual(expect.arrayContaining(topicIds));
    const policyId = onlyResource(t, 'AWS::MSK::ClusterPolicy').logicalId;
    expect(t.toJSON().Resources[policyId].DependsOn).toEqual(expect.arrayContaining([id]));
    // The rolling update takes 30 minutes or more: the waiter polls every minute for up to two hours.
    const waiter = Object.values(t.findResources('AWS::StepFunctions::StateMachine')).map((m: any) => JSON.stringify(m.Properties.DefinitionString));
    expect(waiter.some((d) => d.includes('\\"IntervalSeconds\\":60') && d.includes('\\"MaxAttempts\\":120'))).toBe(true);
    // The handlers may describe and update this cluster only.
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const update = statements.find((s: any) => [s.Action].flat().includes('kafka:UpdateConnectivity'));
    expect(update.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^EventLogCluster/), 'Arn'] });
  });

  test('the brokers accept Kafka on 9098 from the log\'s clients and the pollers only', () => {
    const brokers = Object.values(msk().templates.EventLog.findResources('AWS::EC2::SecurityGroup'))[0] as any;
    const ingress = Object.values(msk().templates.EventLog.findResources('AWS::EC2::SecurityGroupIngress')).map((r: any) => r.Properties);
    expect([...(brokers.Properties.SecurityGroupIngress ?? []), ...ingress].map((r: any) => [r.FromPort, r.ToPort])).toEqual([[9098, 9098], [9098, 9098]]);
  });

  test('the events topic is created with the stack: partitions, replication and retention (the replay horizon) from config', () => {
    const topic = Object.values(msk().templates.EventLog.findResources('AWS::MSK::Topic')).map((r: any) => r.Properties).find((p) => p.TopicName === 'transactions');
    expect(topic).toMatchObject({ TopicName: 'transactions', PartitionCount: 12, ReplicationFactor: 3 });
    expect(JSON.parse(Buffer.from(topic.Configs, 'base64').toString())).toEqual({ 'retention.ms': String(168 * 3600 * 1000) });
  });

  test('Firehose may open its private connection to the cluster, and reads the ARN the connectivity resource returns', () => {
    const firehose = onlyResource(msk().templates.Archive, 'AWS::KinesisFirehose::DeliveryStream').Properties;
    const output = firehose.MSKSourceConfiguration.MSKClusterARN['Fn::GetStackOutput'].OutputName;
    expect(msk().templates.EventLog.toJSON().Outputs[output].Value).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^EventLogConnectivity/), 'ClusterArn'] });
    const policy = onlyResource(msk().templates.EventLog, 'AWS::MSK::ClusterPolicy').Properties.Policy;
    expect(policy.Statement).toEqual([expect.objectContaining({ Principal: { Service: 'firehose.amazonaws.com' }, Action: expect.arrayContaining(['kafka:CreateVpcConnection']) })]);
  });
});

describe('serverless cluster', () => {
  test('the topics are created over Kafka\'s admin protocol from inside the VPC (the MSK topic API is provisioned-only)', () => {
    const t = serverless().templates.EventLog;
    t.resourceCountIs('AWS::MSK::Topic', 0);
    t.resourceCountIs('Custom::MskMultiVpcConnectivity', 0);
    const topics = Object.values(t.findResources('Custom::MskTopic')).map((r: any) => r.Properties);
    expect(topics.map((p) => p.TopicName).sort()).toEqual(['alerts', 'transactions']);
    const topic = topics.find((p) => p.TopicName === 'transactions');
    expect(topic).toMatchObject({ TopicName: 'transactions', Partitions: '6', RemoveOnDelete: 'true' });
    expect(JSON.parse(topic.Configs)).toEqual({ 'retention.ms': String(72 * 3600 * 1000) });
    expect(JSON.stringify(topic.BootstrapBrokers)).toContain('BootstrapBrokerStringSaslIam');
    // The handler runs in the clients' security group (which the brokers let in on 9098) and may manage this one topic.
    const handler = Object.values(t.findResources('AWS::Lambda::Function')).find((f: any) => String(f.Properties.Description).includes('Creates the topics')) as any;
    expect(handler.Properties.VpcConfig.SecurityGroupIds).toHaveLength(1);
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const create = statements.find((s: any) => [s.Action].flat().includes('kafka-cluster:CreateTopic'));
    expect(JSON.stringify(create.Resource)).toContain(':topic/tributary-msks-events/*/transactions"');
    expect(JSON.stringify(create.Resource)).toContain(':topic/tributary-msks-events/*/alerts"');
  });

  test('a retained deployment keeps the topic (and its records) when the stack goes', () => {
    const profiles = cdkJsonContext().profiles as Record<string, Record<string, unknown>>;
    const retained = synthProfile('msk-serverless', { profiles: { ...profiles, 'msk-serverless': { ...profiles['msk-serverless'], dataRemoval: 'retain' } } });
    const topics = Object.values(retained.templates.EventLog.findResources('Custom::MskTopic')).map((r: any) => r.Properties);
    expect(topics.map((p) => p.RemoveOnDelete)).toEqual(['false', 'false']);
  });

  test('IAM access control in the private subnets, no brokers to size', () => {
    const t = serverless().templates.EventLog;
    t.resourceCountIs('AWS::MSK::Cluster', 0);
    t.hasResourceProperties('AWS::MSK::ServerlessCluster', {
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
      VpcConfigs: [{ SubnetIds: Match.anyValue(), SecurityGroups: Match.anyValue() }],
    });
  });
});

describe('the platform on MSK', () => {
  test('the speed layer reads through an MSK event source mapping with the same failure handling', () => {
    const mapping = onlyResource(msk().templates.SpeedLayer, 'AWS::Lambda::EventSourceMapping').Properties;
    expect(mapping).toMatchObject({
      Topics: ['transactions'],
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'tributary-msk-events-speed-layer' },
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 12 },
    });
    // MSK's event source has no tumbling windows nor parallelization factor.
    expect(mapping.TumblingWindowInSeconds).toBeUndefined();
    expect(mapping.ParallelizationFactor).toBeUndefined();
    expect(mapping.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FailedBatches/), 'Arn'] });
  });

  test('the handler runs in the private subnets, and no managed policy is attached', () => {
    const t = msk().templates.SpeedLayer;
    t.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() } });
    t.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });

  test('grants are IAM on this cluster, its topics and its consumer groups only: read the events topic, write the alerts topic', () => {
    const statements = Object.values(msk().templates.SpeedLayer.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const data = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('kafka-cluster:')));
    const resources = data.map((s: any) => JSON.stringify(s.Resource));
    expect(resources.some((r) => r.includes(':cluster/tributary-msk-events/*"'))).toBe(true);
    expect(resources.some((r) => r.includes(':topic/tributary-msk-events/*/transactions"'))).toBe(true);
    expect(resources.some((r) => r.includes(':group/tributary-msk-events/*/tributary-msk-events-*"'))).toBe(true);
    const onTopic = (topic: string) => data.filter((s: any) => JSON.stringify(s.Resource).includes(`/*/${topic}"`)).flatMap((s: any) => [s.Action].flat());
    expect(onTopic('transactions')).not.toContain('kafka-cluster:WriteData');
    expect(onTopic('alerts')).toContain('kafka-cluster:WriteData');
    expect(onTopic('alerts')).not.toContain('kafka-cluster:ReadData');
  });

  test('the raw archive reads the topic through Firehose\'s MSK source over private connectivity', () => {
    const firehose = onlyResource(msk().templates.Archive, 'AWS::KinesisFirehose::DeliveryStream').Properties;
    expect(firehose.DeliveryStreamType).toBe('MSKAsSource');
    expect(firehose.MSKSourceConfiguration).toMatchObject({ TopicName: 'transactions', AuthenticationConfiguration: { Connectivity: 'PRIVATE' } });
    // Firehose picks its consumer group's name: any group of this cluster, but only reads, and only the one topic.
    const statements = Object.values(msk().templates.Archive.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const group = statements.find((s: any) => [s.Action].flat().includes('kafka-cluster:AlterGroup'));
    expect(JSON.stringify(group.Resource)).toContain(':group/tributary-msk-events/*/*"');
    expect(statements.flatMap((s: any) => [s.Action].flat())).not.toContain('kafka-cluster:WriteData');
  });

  test('the Flink job reads Kafka with IAM, in the VPC, with brokers read at deploy', () => {
    const app = onlyResource(msk().templates.StreamProcessing, 'AWS::KinesisAnalyticsV2::Application').Properties;
    const groups = Object.fromEntries(app.ApplicationConfiguration.EnvironmentProperties.PropertyGroups.map((g: any) => [g.PropertyGroupId, g.PropertyMap]));
    expect(groups.Source).toEqual({ type: 'kafka' });
    expect(groups.Kafka).toMatchObject({ topic: 'transactions', auth: 'iam', 'id.prefix': 'tributary-msk-events-stream' });
    expect(JSON.stringify(groups.Kafka['bootstrap.servers'])).toContain('BootstrapBrokerStringSaslIam');
    expect(app.ApplicationConfiguration.VpcConfigurations).toHaveLength(1);
  });

  test('the log names the Kafka connector, which synth finds in the jar', () => {
    expect(msk().platform.eventLog.eventLog.flinkConnector.artifact).toBe('org.apache.flink:flink-connector-kafka');
  });
});

test('no stack outside the event log construct asks which log it has', () => {
  const dir = path.join(REPO_ROOT, 'lib', 'stacks');
  const offenders = fs.readdirSync(dir).filter((file) =>
    /eventLog\.type|KinesisEventLog|MskEventLog|['"](kinesis|msk)['"]/.test(fs.readFileSync(path.join(dir, file), 'utf8')));
  expect(offenders).toEqual([]);
});
