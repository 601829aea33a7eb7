import type { Admin } from 'kafkajs';

/**
 * The events topic of an MSK Serverless cluster, as a CloudFormation custom resource run by CDK's Provider
 * framework. AWS::MSK::Topic (the MSK topic APIs) works on provisioned clusters only, so this function runs
 * in the cluster's VPC and speaks Kafka's admin protocol to the brokers, with IAM auth. Every request is
 * idempotent: a retried create finds its topic, an update only ever adds partitions (Kafka cannot remove
 * them), and a delete removes the topic only when the deployment destroys its data (`dataRemoval`).
 */

export interface TopicProperties {
  readonly ClusterArn: string;
  /** The cluster's IAM bootstrap brokers (GetBootstrapBrokers' BootstrapBrokerStringSaslIam). */
  readonly BootstrapBrokers: string;
  readonly TopicName: string;
  /** CloudFormation passes every property as a string. */
  readonly Partitions: string;
  /** Topic-level configurations, a JSON object of strings (e.g. retention.ms). */
  readonly Configs: string;
  /** 'true' deletes the topic (and its records) with the resource; 'false' keeps it. */
  readonly RemoveOnDelete: string;
}

export interface TopicEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: TopicProperties & { ServiceToken?: string };
  readonly OldResourceProperties?: TopicProperties & { ServiceToken?: string };
  readonly PhysicalResourceId?: string;
}

/** Opens an admin client on the brokers of a cluster in `region` (IAM over TLS in the cloud; a test passes its own). */
export type AdminFor = (bootstrapBrokers: string, region: string) => Promise<Admin>;

/** The region of an ARN (`arn:partition:service:region:account:...`): where the cluster, and so its IAM signer, lives. */
export const regionOf = (arn: string): string => arn.split(':')[3];

interface Wanted {
  readonly topic: string;
  readonly partitions: number;
  readonly configs: Record<string, string>;
}

/** One topic on one cluster: a new cluster or a new name is a new resource, and CloudFormation deletes the old one. */
export const physicalIdOf = (properties: TopicProperties) => `${properties.ClusterArn}/topic/${properties.TopicName}`;

function wanted(properties: TopicProperties): Wanted {
  if (!properties.ClusterArn || !properties.BootstrapBrokers) throw new Error('ClusterArn and BootstrapBrokers are required.');
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(properties.TopicName ?? '')) throw new Error(`TopicName '${properties.TopicName}' is not a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -).`);
  const partitions = Number(properties.Partitions);
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`Partitions '${properties.Partitions}' must be a whole number of at least 1.`);
  const configs = JSON.parse(properties.Configs ?? '{}') as Record<string, string>;
  return { topic: properties.TopicName, partitions, configs };
}

async function partitionsOf(admin: Admin, topic: string): Promise<number | undefined> {
  if (!(await admin.listTopics()).includes(topic)) return undefined;
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  return topics[0].partitions.length;
}

/** Creates the topic, or brings an existing one to the partitions and configurations asked for. */
async function ensure(admin: Admin, want: Wanted): Promise<void> {
  const configEntries = Object.entries(want.configs).map(([name, value]) => ({ name, value: String(value) }));
  const current = await partitionsOf(admin, want.topic);
  if (current === undefined) {
    // false (not an error) when the topic appeared meanwhile: then it is brought in line below.
    const created = await admin.createTopics({ topics: [{ topic: want.topic, numPartitions: want.partitions, configEntries }], waitForLeaders: true });
    if (created) return;
  }
  const partitions = current ?? (await partitionsOf(admin, want.topic))!;
  if (partitions > want.partitions) {
    throw new Error(`Topic ${want.topic} has ${partitions} partitions and ${want.partitions} were asked for: Kafka cannot remove partitions. Set the partitions to ${partitions} or more, or use a new topic.`);
  }
  if (partitions < want.partitions) await admin.createPartitions({ topicPartitions: [{ topic: want.topic, count: want.partitions }] });
  if (configEntries.length > 0 && (await configsDiffer(admin, want))) {
    // AlterConfigs sets the topic's dynamic configuration to exactly these entries (the platform owns the topic).
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: TOPIC, name: want.topic, configEntries }] });
  }
}

/** ConfigResourceTypes.TOPIC, without importing kafkajs' runtime here. */
const TOPIC = 2;

/** Whether the topic's configuration differs from what is asked, so a retried or unchanged request alters nothing. */
async function configsDiffer(admin: Admin, want: Wanted): Promise<boolean> {
  const names = Object.keys(want.configs);
  const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: want.topic, configNames: names }] });
  const current = new Map(resources[0].configEntries.map((e) => [e.configName, e.configValue]));
  return names.some((name) => current.get(name) !== String(want.configs[name]));
}

export async function onEvent(adminFor: AdminFor, event: TopicEvent): Promise<{ PhysicalResourceId: string; Data: { TopicName: string } }> {
  const properties = event.ResourceProperties;
  const want = wanted(properties);
  const physicalId = event.RequestType === 'Delete' ? event.PhysicalResourceId ?? physicalIdOf(properties) : physicalIdOf(properties);
  const admin = await adminFor(properties.BootstrapBrokers, regionOf(properties.ClusterArn));
  try {
    if (event.RequestType === 'Delete') {
      if (properties.RemoveOnDelete === 'true' && (await partitionsOf(admin, want.topic)) !== undefined) {
        await admin.deleteTopics({ topics: [want.topic] });
      }
    } else {
      await ensure(admin, want);
    }
  } finally {
    await admin.disconnect();
  }
  return { PhysicalResourceId: physicalId, Data: { TopicName: want.topic } };
}
