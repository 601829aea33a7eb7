import * as fs from 'node:fs';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { onEvent, physicalIdOf, type TopicEvent, type TopicProperties } from '../../lambdas/msk-topic/topic';
import { Supervisor, kafkaBootstrap, startKafka } from '../../sandbox/engines';
import type { SandboxSettings } from '../../sandbox/settings';
import { testSettings } from '../helpers/sandbox';

/**
 * The MSK Serverless topic handler against a REAL Kafka 4.1 broker (KRaft, from the sandbox's Maven jars),
 * speaking the same admin protocol it speaks to MSK; only the connection differs (plaintext here, IAM over
 * TLS in the cloud, see lambdas/msk-topic/index.ts).
 */

let settings: SandboxSettings;
let supervisor: Supervisor;
let kafka: Kafka;
let observer: Admin;

beforeAll(async () => {
  settings = await testSettings('tributary-msk-topic');
  supervisor = new Supervisor(settings, { stopTimeoutMs: 10_000 });
  await startKafka(supervisor, settings);
  kafka = new Kafka({ clientId: 'msk-topic-test', brokers: [kafkaBootstrap(settings)], logLevel: logLevel.NOTHING });
  observer = kafka.admin();
  await observer.connect();
}, 180_000);

afterAll(async () => {
  await observer?.disconnect();
  await supervisor?.stopAll();
  fs.rmSync(settings.home, { recursive: true, force: true });
}, 60_000);

/** Plaintext admin clients on the test broker, counted so the handler is seen to close each one (and to alter only what changed). */
let open = 0;
let altered = 0;
const adminFor = async (brokers: string) => {
  const admin = new Kafka({ clientId: 'msk-topic-handler', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  open += 1;
  const alterConfigs = admin.alterConfigs.bind(admin);
  admin.alterConfigs = async (request) => { altered += 1; return alterConfigs(request); };
  const disconnect = admin.disconnect.bind(admin);
  admin.disconnect = async () => { open -= 1; await disconnect(); };
  return admin;
};

const CLUSTER = 'arn:aws:kafka:eu-west-1:123456789012:cluster/tributary-msks-events/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d-s1';

function properties(overrides: Partial<TopicProperties> = {}): TopicProperties {
  return {
    ClusterArn: CLUSTER,
    BootstrapBrokers: kafkaBootstrap(settings),
    TopicName: 'transactions',
    Partitions: '3',
    Configs: JSON.stringify({ 'retention.ms': String(72 * 3600 * 1000) }),
    RemoveOnDelete: 'true',
    ...overrides,
  };
}

function request(RequestType: TopicEvent['RequestType'], props: TopicProperties, old?: TopicProperties): TopicEvent {
  return { RequestType, ResourceProperties: props, OldResourceProperties: old, PhysicalResourceId: RequestType === 'Create' ? undefined : physicalIdOf(old ?? props) };
}

async function described(topic: string): Promise<{ partitions: number; retentionMs?: string }> {
  const { topics } = await observer.fetchTopicMetadata({ topics: [topic] });
  const configs = await observer.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: ['retention.ms'] }] });
  return { partitions: topics[0].partitions.length, retentionMs: configs.resources[0].configEntries.find((e) => e.configName === 'retention.ms')?.configValue };
}

afterEach(() => expect(open).toBe(0));

test('create makes the topic with its partitions and retention, and is idempotent when retried', async () => {
  const props = properties({ TopicName: 'created' });
  await expect(onEvent(adminFor, request('Create', props))).resolves.toEqual({ PhysicalResourceId: `${CLUSTER}/topic/created`, Data: { TopicName: 'created' } });
  await expect(described('created')).resolves.toEqual({ partitions: 3, retentionMs: String(72 * 3600 * 1000) });
  // A retried create (the framework retries, or a deploy resumes) finds the topic and leaves it as asked,
  // altering nothing.
  altered = 0;
  await onEvent(adminFor, request('Create', props));
  expect(altered).toBe(0);
  await expect(described('created')).resolves.toEqual({ partitions: 3, retentionMs: String(72 * 3600 * 1000) });
});

test('update adds partitions and changes retention; it never removes partitions', async () => {
  const before = properties({ TopicName: 'updated' });
  await onEvent(adminFor, request('Create', before));
  const after = properties({ TopicName: 'updated', Partitions: '5', Configs: JSON.stringify({ 'retention.ms': String(24 * 3600 * 1000) }) });
  await onEvent(adminFor, request('Update', after, before));
  await expect(described('updated')).resolves.toEqual({ partitions: 5, retentionMs: String(24 * 3600 * 1000) });
  await expect(onEvent(adminFor, request('Update', properties({ TopicName: 'updated', Partitions: '2' }), after)))
    .rejects.toThrow('Topic updated has 5 partitions and 2 were asked for: Kafka cannot remove partitions');
  await expect(described('updated')).resolves.toMatchObject({ partitions: 5 });
});

test('a new topic name is a new resource: CloudFormation then deletes the old one with its own properties', async () => {
  const before = properties({ TopicName: 'renamed-from' });
  await onEvent(adminFor, request('Create', before));
  const after = properties({ TopicName: 'renamed-to' });
  await expect(onEvent(adminFor, request('Update', after, before))).resolves.toMatchObject({ PhysicalResourceId: `${CLUSTER}/topic/renamed-to` });
  await onEvent(adminFor, { RequestType: 'Delete', ResourceProperties: before, PhysicalResourceId: physicalIdOf(before) });
  const topics = await observer.listTopics();
  expect(topics).toContain('renamed-to');
  expect(topics).not.toContain('renamed-from');
});

test('delete removes the topic only when the deployment destroys its data, and is idempotent', async () => {
  const kept = properties({ TopicName: 'kept', RemoveOnDelete: 'false' });
  const removed = properties({ TopicName: 'removed', RemoveOnDelete: 'true' });
  await onEvent(adminFor, request('Create', kept));
  await onEvent(adminFor, request('Create', removed));
  await onEvent(adminFor, request('Delete', kept));
  await onEvent(adminFor, request('Delete', removed));
  // A repeated delete of a topic already gone succeeds.
  await expect(onEvent(adminFor, request('Delete', removed))).resolves.toMatchObject({ PhysicalResourceId: `${CLUSTER}/topic/removed` });
  const topics = await observer.listTopics();
  expect(topics).toContain('kept');
  expect(topics).not.toContain('removed');
});

test('bad properties fail before any call to the brokers', async () => {
  await expect(onEvent(adminFor, request('Create', properties({ TopicName: 'no spaces' })))).rejects.toThrow("TopicName 'no spaces' is not a Kafka topic name");
  await expect(onEvent(adminFor, request('Create', properties({ Partitions: '0' })))).rejects.toThrow("Partitions '0' must be a whole number of at least 1");
});
