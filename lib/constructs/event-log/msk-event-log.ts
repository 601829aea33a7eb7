import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge, AS_PRINTED, DEPLOYED, type PseudoParameters } from '../acknowledge';
import type { ArchiveSourceConfiguration, IEventLog, SpeedLayerSourceOptions } from './event-log';
import type { LogNetwork } from './log-network';

export interface MskEventLogProps {
  readonly clusterName: string;
  /** MSK Serverless, or provisioned brokers sized below. */
  readonly serverless: boolean;
  readonly kafkaVersion: string;
  readonly brokerNodes: number;
  readonly instanceType: string;
  readonly storageGiB: number;
  readonly topicName: string;
  readonly partitions: number;
  /** Topic retention: the replay horizon. */
  readonly retention: Duration;
  readonly enhancedMonitoring: string;
  readonly network: LogNetwork;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** IAM access control over TLS, from inside the VPC. */
const IAM_TLS_PORT = 9098;

/** The consumer group of the speed layer's event source mapping. */
const speedLayerGroup = (clusterName: string) => `${clusterName}-speed-layer`;

/**
 * The event log on Amazon MSK, provisioned or serverless: IAM access control
 * only, TLS between clients and brokers and inside the cluster, encryption at
 * rest (a customer-managed key on provisioned brokers), broker logs in
 * CloudWatch, and the events topic created with the stack. Every grant is
 * IAM (`kafka-cluster:*`) on the cluster, the topic and the consumer groups.
 */
export class MskEventLog extends Construct implements IEventLog {
  public readonly clusterArn: string;
  public readonly replayHorizon: Duration;
  public readonly description: string;
  public readonly network: LogNetwork;
  /** The Kafka source and sink are always in the jar. */
  public readonly flinkConnector = { artifact: 'org.apache.flink:flink-connector-kafka', className: 'org.apache.flink.connector.kafka.source.KafkaSource' };
  private readonly props: MskEventLogProps;
  private bootstrapBrokersCache?: string;

  constructor(scope: Construct, id: string, props: MskEventLogProps) {
    super(scope, id);
    this.props = props;
    this.network = props.network;
    this.replayHorizon = props.retention;
    const { vpc, subnets, clientSecurityGroup } = props.network;
    const subnetIds = vpc.selectSubnets(subnets).subnetIds;

    const brokers = new ec2.SecurityGroup(this, 'Brokers', {
      vpc,
      description: `Brokers of ${props.clusterName}: Kafka over IAM and TLS from the clients of the log`,
      allowAllOutbound: true,
    });
    brokers.addIngressRule(clientSecurityGroup, ec2.Port.tcp(IAM_TLS_PORT), 'Kafka (IAM, TLS) from the clients');
    // The Lambda pollers of the event source mapping run in the cluster's own subnets and security group.
    brokers.addIngressRule(brokers, ec2.Port.tcp(IAM_TLS_PORT), 'Kafka (IAM, TLS) from the event source pollers');

    const iamOnly = { sasl: { iam: { enabled: true } } };
    if (props.serverless) {
      const cluster = new msk.CfnServerlessCluster(this, 'Cluster', {
        clusterName: props.clusterName,
        clientAuthentication: iamOnly,
        vpcConfigs: [{ subnetIds, securityGroups: [brokers.securityGroupId] }],
      });
      cluster.applyRemovalPolicy(props.removalPolicy);
      this.clusterArn = cluster.attrArn;
    } else {
      const key = new kms.Key(this, 'Key', { description: `Encrypts the broker volumes of ${props.clusterName}`, enableKeyRotation: true, removalPolicy: props.removalPolicy });
      const brokerLogs = new logs.LogGroup(this, 'BrokerLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
      const cluster = new msk.CfnCluster(this, 'Cluster', {
        clusterName: props.clusterName,
        kafkaVersion: props.kafkaVersion,
        numberOfBrokerNodes: props.brokerNodes,
        brokerNodeGroupInfo: {
          instanceType: props.instanceType,
          clientSubnets: subnetIds,
          securityGroups: [brokers.securityGroupId],
          storageInfo: { ebsStorageInfo: { volumeSize: props.storageGiB } },
          // Firehose reads the archive through multi-VPC private connectivity, with IAM.
          connectivityInfo: { vpcConnectivity: { clientAuthentication: iamOnly } },
        },
        clientAuthentication: { ...iamOnly, unauthenticated: { enabled: false } },
        encryptionInfo: {
          encryptionAtRest: { dataVolumeKmsKeyId: key.keyArn },
          encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
        },
        loggingInfo: { brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: brokerLogs.logGroupName } } },
        enhancedMonitoring: props.enhancedMonitoring,
      });
      cluster.applyRemovalPolicy(props.removalPolicy);
      this.clusterArn = cluster.attrArn;
    }

    // Firehose may open its private connection to the cluster (provisioned and serverless alike).
    new msk.CfnClusterPolicy(this, 'ClusterPolicy', {
      clusterArn: this.clusterArn,
      policy: {
        Version: '2012-10-17',
        Statement: [{
          Effect: 'Allow',
          Principal: { Service: 'firehose.amazonaws.com' },
          Action: ['kafka:CreateVpcConnection', 'kafka:GetBootstrapBrokers', 'kafka:DescribeClusterV2'],
          Resource: this.clusterArn,
        }],
      },
    });

    new msk.CfnTopic(this, 'Topic', {
      clusterArn: this.clusterArn,
      topicName: props.topicName,
      partitionCount: props.partitions,
      replicationFactor: props.serverless ? 3 : Math.min(3, props.brokerNodes),
      // Topic configuration as the resource takes it: a JSON object of Kafka topic configs, base64-encoded.
      configs: Buffer.from(JSON.stringify({ 'retention.ms': String(props.retention.toMilliseconds()) })).toString('base64'),
    });

    this.description =
      `Amazon MSK ${props.serverless ? 'Serverless' : `provisioned, ${props.brokerNodes} x ${props.instanceType}`}, ` +
      `IAM auth over TLS, topic ${props.topicName} (${props.partitions} partitions), retention ${props.retention.toHours()} h (the replay horizon)`;
  }

  /**
   * `arn:...:kafka:<region>:<account>:<kind>/<cluster>/*\/<name>`: any incarnation of this cluster name
   * (the id part of an MSK ARN is assigned at creation).
   */
  private resourceArn(kind: 'cluster' | 'topic' | 'group', name?: string, pseudo: PseudoParameters = DEPLOYED): string {
    return `arn:${pseudo.partition}:kafka:${pseudo.region}:${pseudo.account}:${kind}/${this.props.clusterName}/*${name === undefined ? '' : `/${name}`}`;
  }

  private grantData(grantee: iam.IGrantable, topicActions: string[], group?: string): iam.Grant {
    const statements = [
      new iam.PolicyStatement({ actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], resources: [this.resourceArn('cluster')] }),
      new iam.PolicyStatement({ actions: ['kafka-cluster:DescribeTopic', ...topicActions], resources: [this.resourceArn('topic', this.props.topicName)] }),
    ];
    if (group !== undefined) {
      statements.push(new iam.PolicyStatement({ actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'], resources: [this.resourceArn('group', group)] }));
    }
    for (const statement of statements) grantee.grantPrincipal.addToPrincipalPolicy(statement);
    const principal = grantee.grantPrincipal;
    if (principal instanceof Construct) {
      const printed = (kind: 'cluster' | 'topic' | 'group', name?: string) => `AwsSolutions-IAM5[Resource::${this.resourceArn(kind, name, AS_PRINTED)}]`;
      const why = 'MSK ARNs carry an id assigned at creation; the grant names this cluster, topic or group and leaves only that id open.';
      acknowledge(principal, {
        [printed('cluster')]: why,
        [printed('topic', this.props.topicName)]: why,
        ...(group === undefined ? {} : { [printed('group', group)]: why }),
      });
    }
    return iam.Grant.drop(grantee, 'kafka-cluster data-plane access');
  }

  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantData(grantee, ['kafka-cluster:WriteData']);
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    // Any consumer group of this cluster's clients: each reader names its own.
    return this.grantData(grantee, ['kafka-cluster:ReadData'], `${this.props.clusterName}-*`);
  }

  /**
   * The MSK event source mapping, with the same failure handling as Kinesis (bisect,
   * partial batch responses, bounded retries and age, on-failure destination),
   * which Lambda offers for Kafka in provisioned-poller mode. MSK's event
   * source has neither tumbling windows nor a parallelization factor: those
   * options are not applied, and the handler runs its rules per batch.
   */
  public speedLayerEventSource(options: SpeedLayerSourceOptions): lambda.IEventSource {
    return {
      bind: (target: lambda.IFunction) => {
        // The mapping is made directly: CDK's ManagedKafkaEventSource would attach the managed
        // AWSLambdaMSKExecutionRole (kafka and logs on every resource) to the function's role.
        target.addEventSourceMapping('Msk', {
          eventSourceArn: this.clusterArn,
          kafkaTopic: this.props.topicName,
          kafkaConsumerGroupId: speedLayerGroup(this.props.clusterName),
          startingPosition: lambda.StartingPosition[options.startingPosition],
          batchSize: options.batchSize,
          maxBatchingWindow: options.maxBatchingWindow,
          retryAttempts: options.retryAttempts,
          maxRecordAge: options.maxRecordAge,
          bisectBatchOnError: true,
          reportBatchItemFailures: true,
          onFailure: options.onFailure,
          provisionedPollerConfig: { minimumPollers: 1, maximumPollers: Math.max(2, this.props.partitions) },
        });
        this.grantRead(target);
        target.addToRolePolicy(new iam.PolicyStatement({
          actions: ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
          resources: [this.clusterArn],
        }));
        // The pollers connect from the cluster's subnets through network interfaces made with the function's role.
        target.addToRolePolicy(new iam.PolicyStatement({
          actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'],
          resources: ['*'],
        }));
      },
    };
  }

  public archiveSource(role: iam.IRole): ArchiveSourceConfiguration {
    // Firehose names its own consumer group, so its role may use any group of this cluster (and read the one topic).
    this.grantData(role, ['kafka-cluster:ReadData'], '*');
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kafka:GetBootstrapBrokers', 'kafka:DescribeCluster', 'kafka:DescribeClusterV2'],
      resources: [this.clusterArn],
    }));
    return {
      deliveryStreamType: 'MSKAsSource',
      mskSourceConfiguration: {
        mskClusterArn: this.clusterArn,
        topicName: this.props.topicName,
        authenticationConfiguration: { connectivity: 'PRIVATE', roleArn: role.roleArn },
      },
    };
  }

  public flinkSource(role: iam.IRole, _options: { consumerName: string }): Record<string, Record<string, string>> {
    this.grantRead(role);
    return {
      Source: { type: 'kafka' },
      Kafka: {
        'bootstrap.servers': this.bootstrapBrokers(),
        topic: this.props.topicName,
        auth: 'iam',
        // Consumer group <prefix>-v<n> and transactional ids, within the groups grantRead allows.
        'id.prefix': `${this.props.clusterName}-stream`,
      },
    };
  }

  /** CloudFormation has no attribute for an MSK cluster's brokers: one read of GetBootstrapBrokers at deploy. */
  private bootstrapBrokers(): string {
    if (this.bootstrapBrokersCache) return this.bootstrapBrokersCache;
    const read = new cr.AwsCustomResource(this, 'BootstrapBrokers', {
      onUpdate: {
        service: 'Kafka',
        action: 'getBootstrapBrokers',
        parameters: { ClusterArn: this.clusterArn },
        physicalResourceId: cr.PhysicalResourceId.of(this.clusterArn),
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [this.clusterArn] }),
      installLatestAwsSdk: false,
      logGroup: new logs.LogGroup(this, 'BootstrapBrokersLogs', { retention: this.props.logRetention, removalPolicy: this.props.removalPolicy }),
    });
    acknowledge(Stack.of(this), {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
        "CDK's AwsCustomResource singleton function, which reads the brokers once per deploy, carries the basic execution policy.",
      'AwsSolutions-L1': "CDK's AwsCustomResource singleton function runs on the runtime CDK pins for it.",
    });
    this.bootstrapBrokersCache = read.getResponseField('BootstrapBrokerStringSaslIam');
    return this.bootstrapBrokersCache;
  }

  public metricSpeedLayerLag(): cloudwatch.IMetric {
    return this.metricConsumerLag();
  }

  public metricConsumerLag(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    // MSK reports the estimated time lag of a consumer group in seconds; the interface speaks milliseconds.
    return new cloudwatch.MathExpression({
      expression: 'lag * 1000',
      label: 'Speed layer consumer group behind the head (ms)',
      usingMetrics: {
        lag: new cloudwatch.Metric({
          namespace: 'AWS/Kafka',
          metricName: 'EstimatedMaxTimeLag',
          dimensionsMap: { 'Cluster Name': this.props.clusterName, 'Consumer Group': speedLayerGroup(this.props.clusterName), Topic: this.props.topicName },
          statistic: 'Maximum',
          period: Duration.minutes(1),
          ...props,
        }),
      },
      period: Duration.minutes(1),
    });
  }
}
