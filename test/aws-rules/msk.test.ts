import type { Synthesized } from '../helpers/synth';
import { awsRule, resourcesOfType } from './aws-rule';
import { referent, resourceById } from './cfn';

// Rules of Amazon MSK (and of the services reading it) that the MSK profiles rely on. Each is one test per
// synthesized target; a target without MSK passes.

/** Every IAM action granted to a role (by its logical id) through the policies attached to it. */
function actionsOfRole(synth: Synthesized, roleLogicalId: string): string[] {
  return resourcesOfType(synth, 'AWS::IAM::Policy')
    .filter(({ Properties }) => (Properties.Roles ?? []).some((r: any) => referent(synth, r)?.logicalId === roleLogicalId))
    .flatMap(({ Properties }) => Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()));
}

const mskMappings = (synth: Synthesized) =>
  resourcesOfType(synth, 'AWS::Lambda::EventSourceMapping').filter(({ Properties }) => Properties.AmazonManagedKafkaEventSourceConfig !== undefined);

awsRule({
  rule: 'When an MSK cluster is created all vpcConnectivity auth schemes must be disabled: multi-VPC private connectivity is turned on once the cluster is ACTIVE',
  source: 'https://docs.aws.amazon.com/msk/latest/developerguide/mvpc-cluster-owner-action-turn-on.html',
  check: (synth) => {
    for (const { Properties } of resourcesOfType(synth, 'AWS::MSK::Cluster')) {
      const auth = Properties.BrokerNodeGroupInfo?.ConnectivityInfo?.VpcConnectivity?.ClientAuthentication ?? {};
      const enabled = [auth.Tls?.Enabled, auth.Sasl?.Iam?.Enabled, auth.Sasl?.Scram?.Enabled].filter((e) => e === true);
      expect(enabled).toEqual([]);
    }
  },
});

awsRule({
  rule: 'Firehose reads an MSK cluster through private bootstrap brokers only when multi-VPC private connectivity is enabled for IAM and a cluster policy lets firehose.amazonaws.com call CreateVpcConnection',
  source: 'https://docs.aws.amazon.com/firehose/latest/dev/writing-with-msk.html',
  check: (synth) => {
    for (const { Properties } of resourcesOfType(synth, 'AWS::KinesisFirehose::DeliveryStream')) {
      const source = Properties.MSKSourceConfiguration;
      if (!source || source.AuthenticationConfiguration.Connectivity !== 'PRIVATE') continue;
      // The ARN Firehose reads is the one the connectivity resource returns once the rolling update is done,
      // so the delivery stream is created only after it (MSK Serverless has nothing to turn on, see docs/kinesis-or-msk.md).
      const read = referent(synth, source.MSKClusterARN)!;
      const readFrom = resourceById(synth, read.logicalId)!;
      const cluster = readFrom.Type === 'Custom::MskMultiVpcConnectivity' ? referent(synth, readFrom.Properties.ClusterArn)! : read;
      const clusterType = resourceById(synth, cluster.logicalId)!.Type;
      expect(['AWS::MSK::Cluster', 'AWS::MSK::ServerlessCluster']).toContain(clusterType);
      if (clusterType === 'AWS::MSK::Cluster') {
        expect(readFrom.Type).toBe('Custom::MskMultiVpcConnectivity');
        expect(readFrom.Properties.Authentication).toBe('IAM');
      }
      const policies = resourcesOfType(synth, 'AWS::MSK::ClusterPolicy').filter(({ Properties: p }) => referent(synth, p.ClusterArn)?.logicalId === cluster.logicalId);
      const statements = policies.flatMap(({ Properties: p }) => p.Policy.Statement);
      expect(statements).toContainEqual(expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'firehose.amazonaws.com' },
        Action: expect.arrayContaining(['kafka:CreateVpcConnection']),
      }));
    }
  },
});

awsRule({
  rule: 'Multi-VPC private connectivity needs Apache Kafka 2.7.1 or later and is not supported on t3.small brokers',
  source: 'https://docs.aws.amazon.com/msk/latest/developerguide/aws-access-mult-vpc.html',
  check: (synth) => {
    for (const { Properties } of resourcesOfType(synth, 'Custom::MskMultiVpcConnectivity')) {
      const cluster = resourceById(synth, referent(synth, Properties.ClusterArn)!.logicalId)!.Properties;
      const [major, minor, patch] = String(cluster.KafkaVersion).split('.').map((n) => (n === 'x' ? 0 : Number(n)));
      expect(major * 10000 + minor * 100 + patch).toBeGreaterThanOrEqual(20701);
      expect(cluster.BrokerNodeGroupInfo.InstanceType).not.toBe('kafka.t3.small');
    }
  },
});

awsRule({
  rule: 'The MSK topic APIs (AWS::MSK::Topic) need an MSK Provisioned cluster running Apache Kafka 3.6.0 or later; they are not available for MSK Serverless',
  source: 'https://docs.aws.amazon.com/msk/latest/developerguide/msk-topic-operations-information.html',
  check: (synth) => {
    for (const { Properties } of resourcesOfType(synth, 'AWS::MSK::Topic')) {
      const cluster = resourceById(synth, referent(synth, Properties.ClusterArn)!.logicalId)!;
      expect(cluster.Type).toBe('AWS::MSK::Cluster');
      const [major, minor] = String(cluster.Properties.KafkaVersion).split('.').map(Number);
      expect(major * 100 + minor).toBeGreaterThanOrEqual(306);
    }
  },
});

/** Topic-level configurations an MSK Serverless topic accepts; every other one is not configurable. */
const SERVERLESS_TOPIC_CONFIGS = ['cleanup.policy', 'compression.type', 'max.message.bytes', 'message.timestamp.difference.max.ms', 'message.timestamp.type', 'retention.bytes', 'retention.ms'];

awsRule({
  rule: 'An MSK Serverless topic takes only the editable topic-level configurations (retention.ms up to unlimited, -1); all other topic-level properties are not configurable',
  source: 'https://docs.aws.amazon.com/msk/latest/developerguide/serverless-config.html',
  check: (synth) => {
    for (const { Properties } of resourcesOfType(synth, 'Custom::MskTopic')) {
      const configs = JSON.parse(Properties.Configs) as Record<string, string>;
      for (const name of Object.keys(configs)) expect(SERVERLESS_TOPIC_CONFIGS).toContain(name);
      const retention = Number(configs['retention.ms']);
      expect(retention === -1 || retention > 0).toBe(true);
    }
  },
});

awsRule({
  rule: 'An MSK event source mapping needs a VPC endpoint for its on-failure destination service inside the cluster VPC',
  source: 'https://docs.aws.amazon.com/lambda/latest/dg/with-msk-on-failure.html',
  check: (synth) => {
    for (const { Properties } of mskMappings(synth)) {
      const destination = Properties.DestinationConfig?.OnFailure?.Destination;
      if (!destination) continue;
      const type = resourceById(synth, referent(synth, destination)!.logicalId)!.Type;
      const service = { 'AWS::SQS::Queue': 'sqs', 'AWS::SNS::Topic': 'sns', 'AWS::S3::Bucket': 's3' }[type];
      expect(service).toBeDefined();
      const endpoints = resourcesOfType(synth, 'AWS::EC2::VPCEndpoint').map(({ Properties: e }) => JSON.stringify(e.ServiceName));
      expect(endpoints.some((name) => name.endsWith(`.${service}"`) || name.endsWith(`.${service}"]]}`))).toBe(true);
    }
  },
});

awsRule({
  rule: "With IAM access control, the Lambda MSK event source's execution role needs kafka-cluster:Connect, DescribeGroup, AlterGroup, DescribeTopic, ReadData and DescribeClusterDynamicConfiguration",
  source: 'https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html',
  check: (synth) => {
    for (const { Properties } of mskMappings(synth)) {
      const fn = resourceById(synth, referent(synth, Properties.FunctionName)!.logicalId)!;
      const actions = actionsOfRole(synth, referent(synth, fn.Properties.Role)!.logicalId);
      expect(actions).toEqual(expect.arrayContaining([
        'kafka-cluster:Connect', 'kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup',
        'kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData', 'kafka-cluster:DescribeClusterDynamicConfiguration',
        'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers',
      ]));
    }
  },
});

awsRule({
  rule: "Firehose's role for an MSK source needs kafka-cluster:Connect on the cluster and DescribeTopic, DescribeTopicDynamicConfiguration and ReadData on the topic",
  source: 'https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html',
  check: (synth) => {
    for (const { Properties } of resourcesOfType(synth, 'AWS::KinesisFirehose::DeliveryStream')) {
      const source = Properties.MSKSourceConfiguration;
      if (!source) continue;
      const actions = actionsOfRole(synth, referent(synth, source.AuthenticationConfiguration.RoleARN)!.logicalId);
      expect(actions).toEqual(expect.arrayContaining([
        'kafka-cluster:Connect', 'kafka-cluster:DescribeTopic', 'kafka-cluster:DescribeTopicDynamicConfiguration', 'kafka-cluster:ReadData',
        'kafka:GetBootstrapBrokers', 'kafka:DescribeClusterV2',
      ]));
    }
  },
});

awsRule({
  rule: 'Amazon MSK distributes the broker nodes evenly across the two or three client subnets, each in a distinct Availability Zone, so the broker count is a multiple of the subnet count',
  source: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-msk-cluster-brokernodegroupinfo.html',
  check: (synth) => {
    for (const { Properties } of resourcesOfType(synth, 'AWS::MSK::Cluster')) {
      const subnets = Properties.BrokerNodeGroupInfo.ClientSubnets as unknown[];
      expect(subnets.length).toBeGreaterThanOrEqual(2);
      expect(subnets.length).toBeLessThanOrEqual(3);
      expect(new Set(subnets.map((s) => JSON.stringify(s))).size).toBe(subnets.length);
      expect(Properties.NumberOfBrokerNodes % subnets.length).toBe(0);
    }
  },
});

/** The parameters the MSK event source takes; the others (ParallelizationFactor, TumblingWindowInSeconds, ...) are Kinesis/DynamoDB only. */
const MSK_MAPPING_PARAMETERS = [
  'AmazonManagedKafkaEventSourceConfig', 'BatchSize', 'DestinationConfig', 'Enabled', 'BisectBatchOnFunctionError', 'FunctionResponseTypes',
  'MaximumRecordAgeInSeconds', 'MaximumRetryAttempts', 'EventSourceArn', 'FilterCriteria', 'FunctionName', 'KmsKeyArn',
  'MaximumBatchingWindowInSeconds', 'ProvisionedPollerConfig', 'SourceAccessConfigurations', 'StartingPosition', 'StartingPositionTimestamp', 'Tags', 'Topics',
];

awsRule({
  rule: 'An MSK event source mapping takes only the MSK parameters: BatchSize up to 10,000, StartingPosition AT_TIMESTAMP, TRIM_HORIZON or LATEST, and no parallelization factor or tumbling window',
  source: 'https://docs.aws.amazon.com/lambda/latest/dg/msk-esm-parameters.html',
  check: (synth) => {
    for (const { Properties } of mskMappings(synth)) {
      for (const parameter of Object.keys(Properties)) expect(MSK_MAPPING_PARAMETERS).toContain(parameter);
      expect(Properties.BatchSize ?? 100).toBeGreaterThanOrEqual(1);
      expect(Properties.BatchSize ?? 100).toBeLessThanOrEqual(10000);
      expect(['AT_TIMESTAMP', 'TRIM_HORIZON', 'LATEST']).toContain(Properties.StartingPosition);
      expect(Properties.Topics).toHaveLength(1);
    }
  },
});

awsRule({
  rule: 'An event source mapping gathers records for at most 300 seconds (MaximumBatchingWindowInSeconds 0-300)',
  source: 'https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html',
  check: (synth) => {
    for (const { Properties } of mskMappings(synth)) {
      expect(Properties.MaximumBatchingWindowInSeconds ?? 0).toBeGreaterThanOrEqual(0);
      expect(Properties.MaximumBatchingWindowInSeconds ?? 0).toBeLessThanOrEqual(300);
    }
  },
});

awsRule({
  rule: 'Clients reach MSK brokers with IAM access control from inside AWS on port 9098',
  source: 'https://docs.aws.amazon.com/msk/latest/developerguide/port-info.html',
  check: (synth) => {
    for (const { Properties } of [...resourcesOfType(synth, 'AWS::MSK::Cluster'), ...resourcesOfType(synth, 'AWS::MSK::ServerlessCluster')]) {
      const groups = (Properties.BrokerNodeGroupInfo?.SecurityGroups ?? Properties.VpcConfigs.flatMap((c: any) => c.SecurityGroups)) as unknown[];
      for (const group of groups) {
        const id = referent(synth, group)!.logicalId;
        const inline = resourceById(synth, id)!.Properties.SecurityGroupIngress ?? [];
        const separate = resourcesOfType(synth, 'AWS::EC2::SecurityGroupIngress').filter(({ Properties: r }) => referent(synth, r.GroupId)?.logicalId === id).map((r) => r.Properties);
        const ports = [...inline, ...separate].map((r: any) => [r.IpProtocol, r.FromPort, r.ToPort]);
        expect(ports.length).toBeGreaterThan(0);
        for (const port of ports) expect(port).toEqual(['tcp', 9098, 9098]);
      }
    }
  },
});

awsRule({
  rule: 'An MSK cluster name (provisioned or serverless) is 1 to 64 characters',
  source: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-msk-serverlesscluster.html',
  check: (synth) => {
    for (const { Properties } of [...resourcesOfType(synth, 'AWS::MSK::Cluster'), ...resourcesOfType(synth, 'AWS::MSK::ServerlessCluster')]) {
      expect(Properties.ClusterName.length).toBeGreaterThanOrEqual(1);
      expect(Properties.ClusterName.length).toBeLessThanOrEqual(64);
    }
  },
});
