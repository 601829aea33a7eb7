import * as path from 'node:path';
import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
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
import { stackLogGroup } from '../state-machine-tasks';
import { PlatformProvider } from '../platform-provider';
import type { AlertsLogEnvironment } from '../../speed-layer-environment';
import type { AlertNotifierSourceOptions, FlinkAlertsSink, IAlertsLog } from './alerts-log';
import type { ArchiveSourceConfiguration, FlinkMetrics, IEventLog, SpeedLayerSourceOptions } from './event-log';
import type { LogNetwork } from './log-network';
import { EVENT_SOURCE_FAILURE_HANDLING } from '../../names';

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
  /** The alerts log: a second topic on the same cluster, created the way the events topic is, with its own retention. */
  readonly alerts: MskAlertsTopicProps;
}

export interface MskAlertsTopicProps {
  readonly topicName: string;
  /** Partitions of the alerts topic: the notifier's parallelism. */
  readonly partitions: number;
  /** The topic's retention.ms. */
  readonly retention: Duration;
}

/** A topic the stack creates on the cluster. */
interface TopicSpec {
  /** Construct id of the topic resource. */
  readonly id: string;
  readonly name: string;
  readonly partitions: number;
  readonly retention: Duration;
}

/** IAM access control over TLS, from inside the VPC. */
const IAM_TLS_PORT = 9098;

/** The handlers of the event log's custom resources. */
const LAMBDAS = path.join(__dirname, '..', '..', '..', 'lambdas');

/** The consumer group of the speed layer's event source mapping. */
const speedLayerGroup = (clusterName: string) => `${clusterName}-speed-layer`;

/** The consumer group of the alert notifier's event source mapping. */
const alertNotifierGroup = (clusterName: string) => `${clusterName}-alert-notifier`;

/**
 * The event log on Amazon MSK, provisioned or serverless: IAM access control
 * only, TLS between clients and brokers and inside the cluster, encryption at
 * rest (a customer-managed key on provisioned brokers), broker logs in
 * CloudWatch, and the events topic created with the stack. Every grant is
 * IAM (`kafka-cluster:*`) on the cluster, the topic and the consumer groups.
 *
 * What CloudFormation alone cannot do is done by custom resources: multi-VPC
 * private connectivity (Firehose's way in) is turned on once a provisioned
 * cluster is ACTIVE, and a serverless cluster's topic is created over Kafka's
 * admin protocol from inside the VPC (AWS::MSK::Topic is provisioned-only).
 */
export class MskEventLog extends Construct implements IEventLog {
  public readonly clusterArn: string;
  public readonly clusterName: string;
  public readonly replayHorizon: Duration;
  public readonly description: string;
  public readonly network: LogNetwork;
  /** The Kafka source and sink are always in the jar. */
  public readonly flinkConnector = { artifact: 'org.apache.flink:flink-connector-kafka', className: 'org.apache.flink.connector.kafka.source.KafkaSource' };
  /** The alerts topic on this cluster. */
  public readonly alerts: MskAlertsLog;
  private readonly props: MskEventLogProps;
  private bootstrapBrokersCache?: string;
  /** The cluster ARN as Firehose must read it: after multi-VPC connectivity is on (provisioned). */
  private readonly privateConnectivityArn: string;

  constructor(scope: Construct, id: string, props: MskEventLogProps) {
    super(scope, id);
    this.props = props;
    this.clusterName = props.clusterName;
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
      const brokerLogs = stackLogGroup(this, 'BrokerLogs', { prefix: '/aws/msk', retention: props.logRetention, removalPolicy: props.removalPolicy });
      const cluster = new msk.CfnCluster(this, 'Cluster', {
        clusterName: props.clusterName,
        kafkaVersion: props.kafkaVersion,
        numberOfBrokerNodes: props.brokerNodes,
        brokerNodeGroupInfo: {
          instanceType: props.instanceType,
          clientSubnets: subnetIds,
          securityGroups: [brokers.securityGroupId],
          storageInfo: { ebsStorageInfo: { volumeSize: props.storageGiB } },
          // No connectivityInfo: CloudFormation rejects a vpcConnectivity auth scheme on create (see multiVpcConnectivity).
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

    const topicSpecs: TopicSpec[] = [
      { id: 'Topic', name: props.topicName, partitions: props.partitions, retention: props.retention },
      { id: 'AlertsTopic', name: props.alerts.topicName, partitions: props.alerts.partitions, retention: props.alerts.retention },
    ];
    const topics = props.serverless ? this.serverlessTopics(topicSpecs) : topicSpecs.map((spec) => this.provisionedTopic(spec));
    // Provisioned: Firehose's private connection needs multi-VPC connectivity, turned on after create by a
    // rolling update during which the cluster takes no other change, so the topics come before it and the
    // cluster policy after. Serverless clusters are reached over PrivateLink already: nothing to turn on.
    const connectivity = props.serverless ? undefined : this.multiVpcConnectivity();
    connectivity?.node.addDependency(...topics);
    this.alerts = new MskAlertsLog(this, props.alerts);
    this.privateConnectivityArn = connectivity ? connectivity.getAttString('ClusterArn') : this.clusterArn;

    // Firehose may open its private connection to the cluster (provisioned and serverless alike).
    const policy = new msk.CfnClusterPolicy(this, 'ClusterPolicy', {
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
    if (connectivity) policy.node.addDependency(connectivity);

    this.description =
      `Amazon MSK ${props.serverless ? 'Serverless' : `provisioned, ${props.brokerNodes} x ${props.instanceType}`}, ` +
      `IAM auth over TLS, topic ${props.topicName} (${props.partitions} partitions), retention ${props.retention.toHours()} h (the replay horizon)`;
  }

  /** A topic through the MSK topic API (provisioned clusters, Kafka 3.6.0 or later). */
  private provisionedTopic(spec: TopicSpec): Construct {
    return new msk.CfnTopic(this, spec.id, {
      clusterArn: this.clusterArn,
      topicName: spec.name,
      partitionCount: spec.partitions,
      replicationFactor: Math.min(3, this.props.brokerNodes),
      // Topic configuration as the resource takes it: a JSON object of Kafka topic configs, base64-encoded.
      configs: Buffer.from(JSON.stringify(MskEventLog.topicConfigs(spec))).toString('base64'),
    });
  }

  /**
   * The topics over Kafka's admin protocol from inside the VPC, by one provider: the MSK topic API is not
   * available for MSK Serverless.
   */
  private serverlessTopics(specs: TopicSpec[]): Construct[] {
    const names = specs.map((spec) => spec.name);
    const provider = new PlatformProvider(this, 'TopicProvider', {
      entry: path.join(LAMBDAS, 'msk-topic', 'index.ts'),
      description: `Creates the topics ${names.join(', ')} of ${this.props.clusterName}`,
      logName: `${this.props.clusterName}-topic`,
      handlerTimeout: Duration.minutes(2),
      network: this.props.network,
      logRetention: this.props.logRetention,
      statements: this.kafkaStatements({
        cluster: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
        topic: ['kafka-cluster:CreateTopic', 'kafka-cluster:DescribeTopic', 'kafka-cluster:AlterTopic', 'kafka-cluster:DeleteTopic',
          'kafka-cluster:DescribeTopicDynamicConfiguration', 'kafka-cluster:AlterTopicDynamicConfiguration'],
      }, names),
    });
    this.acknowledgeKafkaResources(provider.onEvent.role!, names);
    return specs.map((spec) => new CustomResource(this, spec.id, {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::MskTopic',
      properties: {
        ClusterArn: this.clusterArn,
        BootstrapBrokers: this.bootstrapBrokers(),
        TopicName: spec.name,
        Partitions: String(spec.partitions),
        Configs: JSON.stringify(MskEventLog.topicConfigs(spec)),
        // The topic's records go with the stack only when the deployment destroys its data.
        RemoveOnDelete: String(this.props.removalPolicy === RemovalPolicy.DESTROY),
      },
    }));
  }

  /** A topic's retention (the events topic's is the replay horizon). */
  private static topicConfigs(spec: TopicSpec): Record<string, string> {
    return { 'retention.ms': String(spec.retention.toMilliseconds()) };
  }

  /**
   * IAM multi-VPC private connectivity on the provisioned cluster, turned on with UpdateConnectivity once it
   * is ACTIVE (a rolling update of 30 minutes or more), waited for until the cluster is ACTIVE again.
   */
  private multiVpcConnectivity(): CustomResource {
    const provider = new PlatformProvider(this, 'ConnectivityProvider', {
      entry: path.join(LAMBDAS, 'msk-connectivity', 'index.ts'),
      description: `Turns on multi-VPC connectivity (IAM) of ${this.props.clusterName}`,
      logName: `${this.props.clusterName}-connectivity`,
      waitFor: { queryInterval: Duration.minutes(1), totalTimeout: Duration.hours(2) },
      logRetention: this.props.logRetention,
      statements: [new iam.PolicyStatement({ actions: ['kafka:DescribeClusterV2', 'kafka:UpdateConnectivity'], resources: [this.clusterArn] })],
    });
    return new CustomResource(this, 'Connectivity', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::MskMultiVpcConnectivity',
      properties: { ClusterArn: this.clusterArn, Authentication: 'IAM' },
    });
  }

  /**
   * `arn:...:kafka:<region>:<account>:<kind>/<cluster>/*\/<name>`: any incarnation of this cluster name
   * (the id part of an MSK ARN is assigned at creation).
   */
  private resourceArn(kind: 'cluster' | 'topic' | 'group', name?: string, pseudo: PseudoParameters = DEPLOYED): string {
    return `arn:${pseudo.partition}:kafka:${pseudo.region}:${pseudo.account}:${kind}/${this.props.clusterName}/*${name === undefined ? '' : `/${name}`}`;
  }

  /** Statements of kafka-cluster actions on this cluster, its topics (the events topic by default) and (optionally) consumer groups. */
  private kafkaStatements(
    actions: { cluster: string[]; topic: string[]; group?: { name: string; actions: string[] } },
    topics: string[] = [this.props.topicName],
  ): iam.PolicyStatement[] {
    return [
      new iam.PolicyStatement({ actions: actions.cluster, resources: [this.resourceArn('cluster')] }),
      new iam.PolicyStatement({ actions: actions.topic, resources: topics.map((topic) => this.resourceArn('topic', topic)) }),
      ...(actions.group ? [new iam.PolicyStatement({ actions: actions.group.actions, resources: [this.resourceArn('group', actions.group.name)] })] : []),
    ];
  }

  /** cdk-nag sees the id wildcard of MSK ARNs; each grant names its cluster, topic or group and leaves only that id open. */
  private acknowledgeKafkaResources(principal: Construct, topics: string[], group?: string): void {
    const printed = (kind: 'cluster' | 'topic' | 'group', name?: string) => `AwsSolutions-IAM5[Resource::${this.resourceArn(kind, name, AS_PRINTED)}]`;
    const why = 'MSK ARNs carry an id assigned at creation; the grant names this cluster, topic or group and leaves only that id open.';
    acknowledge(principal, {
      [printed('cluster')]: why,
      ...Object.fromEntries(topics.map((topic) => [printed('topic', topic), why])),
      ...(group === undefined ? {} : { [printed('group', group)]: why }),
    });
  }

  /** @internal Data-plane access to the cluster and one topic (the events topic by default), for this log and its alerts topic. */
  public grantData(grantee: iam.IGrantable, actions: { cluster?: string[]; topic: string[]; group?: string }, topic: string = this.props.topicName): iam.Grant {
    const statements = this.kafkaStatements({
      cluster: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', ...(actions.cluster ?? [])],
      topic: ['kafka-cluster:DescribeTopic', ...actions.topic],
      group: actions.group === undefined ? undefined : { name: actions.group, actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'] },
    }, [topic]);
    for (const statement of statements) grantee.grantPrincipal.addToPrincipalPolicy(statement);
    const principal = grantee.grantPrincipal;
    if (principal instanceof Construct) this.acknowledgeKafkaResources(principal, [topic], actions.group);
    return iam.Grant.drop(grantee, 'kafka-cluster data-plane access');
  }

  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantData(grantee, { topic: ['kafka-cluster:WriteData'] });
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    // Any consumer group of this cluster's clients: each reader names its own.
    return this.grantData(grantee, { topic: ['kafka-cluster:ReadData'], group: `${this.props.clusterName}-*` });
  }

  /**
   * The MSK event source mapping, with the same failure handling as Kinesis (bisect,
   * partial batch responses, bounded retries and age, on-failure destination),
   * which Lambda offers for Kafka in provisioned-poller mode. MSK's event
   * source has neither tumbling windows nor a parallelization factor: those
   * options are not applied, and the handler runs its rules per batch.
   */
  public speedLayerEventSource(options: SpeedLayerSourceOptions): lambda.IEventSource {
    return this.kafkaEventSource(this.props.topicName, speedLayerGroup(this.props.clusterName), this.props.partitions, options);
  }

  /**
   * @internal An MSK event source mapping on one topic of this cluster, with the platform's failure handling
   * (for the speed layer on the events topic, and the alert notifier on the alerts topic).
   */
  public kafkaEventSource(topic: string, group: string, partitions: number, options: AlertNotifierSourceOptions): lambda.IEventSource {
    return {
      bind: (target: lambda.IFunction) => {
        // The mapping is made directly: CDK's ManagedKafkaEventSource would attach the managed
        // AWSLambdaMSKExecutionRole (kafka and logs on every resource) to the function's role.
        target.addEventSourceMapping('Msk', {
          eventSourceArn: this.clusterArn,
          kafkaTopic: topic,
          kafkaConsumerGroupId: group,
          startingPosition: lambda.StartingPosition[options.startingPosition],
          batchSize: options.batchSize,
          maxBatchingWindow: options.maxBatchingWindow,
          retryAttempts: options.retryAttempts,
          maxRecordAge: options.maxRecordAge,
          ...EVENT_SOURCE_FAILURE_HANDLING,
          onFailure: options.onFailure,
          provisionedPollerConfig: { minimumPollers: 1, maximumPollers: Math.max(2, partitions) },
        });
        // The Lambda guide's IAM policy for an MSK event source: read, plus the cluster's dynamic configuration.
        this.grantData(target, { cluster: ['kafka-cluster:DescribeClusterDynamicConfiguration'], topic: ['kafka-cluster:ReadData'], group: `${this.props.clusterName}-*` }, topic);
        target.addToRolePolicy(new iam.PolicyStatement({ actions: ['kafka:DescribeClusterV2'], resources: [this.clusterArn] }));
        target.addToRolePolicy(MskEventLog.getBootstrapBrokersStatement());
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
    // The Firehose guide's role policy for an MSK source reads the topic's dynamic configuration too.
    this.grantData(role, { topic: ['kafka-cluster:ReadData', 'kafka-cluster:DescribeTopicDynamicConfiguration'], group: '*' });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kafka:DescribeCluster', 'kafka:DescribeClusterV2'], resources: [this.clusterArn] }));
    role.addToPrincipalPolicy(MskEventLog.getBootstrapBrokersStatement());
    acknowledge(role, { 'AwsSolutions-IAM5[Resource::*]': MskEventLog.GET_BOOTSTRAP_BROKERS_REASON });
    return {
      deliveryStreamType: 'MSKAsSource',
      mskSourceConfiguration: {
        // Read once multi-VPC connectivity is on, so the delivery stream is created after it.
        mskClusterArn: this.privateConnectivityArn,
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

  /**
   * kafka:GetBootstrapBrokers has no resource type in the Service Authorization Reference
   * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonmanagedstreamingforapachekafka.html),
   * so a grant scoped to the cluster never matches: it is granted on "*". It only reveals broker endpoints.
   */
  private static readonly GET_BOOTSTRAP_BROKERS_REASON = 'kafka:GetBootstrapBrokers supports no resource-level permissions (Service Authorization Reference); it only reveals broker endpoints.';

  private static getBootstrapBrokersStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({ actions: ['kafka:GetBootstrapBrokers'], resources: ['*'] });
  }

  /** @internal CloudFormation has no attribute for an MSK cluster's brokers: one read of GetBootstrapBrokers at deploy. */
  public bootstrapBrokers(): string {
    if (this.bootstrapBrokersCache) return this.bootstrapBrokersCache;
    const read = new cr.AwsCustomResource(this, 'BootstrapBrokers', {
      onUpdate: {
        service: 'Kafka',
        action: 'getBootstrapBrokers',
        parameters: { ClusterArn: this.clusterArn },
        physicalResourceId: cr.PhysicalResourceId.of(this.clusterArn),
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([MskEventLog.getBootstrapBrokersStatement()]),
      installLatestAwsSdk: false,
      logGroup: stackLogGroup(this, 'BootstrapBrokersLogs', { prefix: '/aws/lambda', retention: this.props.logRetention, removalPolicy: this.props.removalPolicy }),
    });
    acknowledge(read, { 'AwsSolutions-IAM5[Resource::*]': MskEventLog.GET_BOOTSTRAP_BROKERS_REASON });
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

  public metricFlinkLag(_application: FlinkMetrics): undefined {
    // The job's consumer group is one of the groups metricConsumerLag's time lag covers.
    return undefined;
  }

  public metricConsumerLag(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.metricGroupLag('Speed layer', speedLayerGroup(this.props.clusterName), this.props.topicName, props);
  }

  /** @internal How far a consumer group is behind the head of a topic of this cluster, in milliseconds. */
  public metricGroupLag(who: string, group: string, topic: string, props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    // MSK reports the estimated time lag of a consumer group in seconds; the interface speaks milliseconds.
    return new cloudwatch.MathExpression({
      expression: 'lag * 1000',
      label: `${who} consumer group behind the head (ms)`,
      usingMetrics: {
        lag: new cloudwatch.Metric({
          namespace: 'AWS/Kafka',
          metricName: 'EstimatedMaxTimeLag',
          dimensionsMap: { 'Cluster Name': this.props.clusterName, 'Consumer Group': group, Topic: topic },
          statistic: 'Maximum',
          period: Duration.minutes(1),
          ...props,
        }),
      },
      period: Duration.minutes(1),
    });
  }
}

/**
 * The alerts log on MSK: a second topic on the event log's cluster, created the way the events topic is
 * (the MSK topic API on provisioned clusters, Kafka's admin protocol on serverless ones), with its own
 * retention.ms. Producers use IAM over TLS from inside the VPC, key = card id.
 */
export class MskAlertsLog extends Construct implements IAlertsLog {
  public readonly retention: Duration;
  public readonly description: string;
  public readonly topicName: string;
  private readonly log: MskEventLog;
  private readonly partitions: number;

  constructor(log: MskEventLog, props: MskAlertsTopicProps) {
    super(log, 'Alerts');
    this.log = log;
    this.topicName = props.topicName;
    this.partitions = props.partitions;
    this.retention = props.retention;
    this.description = `MSK topic ${props.topicName} (${props.partitions} partitions) on the event log's cluster, IAM auth over TLS, retention ${props.retention.toHours()} h`;
  }

  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    // A Java producer is idempotent by default (enable.idempotence=true since Kafka 3.0), which MSK's IAM
    // access control authorizes with WriteDataIdempotently on the cluster; kafkajs producers do not need it.
    return this.log.grantData(grantee, { cluster: ['kafka-cluster:WriteDataIdempotently'], topic: ['kafka-cluster:WriteData'] }, this.topicName);
  }

  public producerTarget(): AlertsLogEnvironment {
    return { type: 'kafka', bootstrapBrokers: this.log.bootstrapBrokers(), topic: this.topicName, auth: 'iam' };
  }

  public flinkSink(): FlinkAlertsSink {
    // Brokers and authentication come from the Kafka group, which the events topic's source sets (flinkSource).
    return { sink: 'kafka', topic: this.topicName };
  }

  public notifierEventSource(options: AlertNotifierSourceOptions): lambda.IEventSource {
    return this.log.kafkaEventSource(this.topicName, alertNotifierGroup(this.log.clusterName), this.partitions, options);
  }

  public metricNotifierLag(): cloudwatch.IMetric {
    return this.log.metricGroupLag('Alert notifier', alertNotifierGroup(this.log.clusterName), this.topicName);
  }
}
