import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateStreamCommand, DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Kafka, logLevel } from 'kafkajs';
import { SandboxSettings, defaultSettings, endpoint, sandboxDirs } from '../../sandbox/settings';
import { freePorts } from '../helpers/sandbox';
import {
  FLINK_MAIN_CLASS,
  KAFKA_ENGINE,
  KINESIS_ENGINE,
  PortInUseError,
  ProcessRecord,
  SandboxPrerequisiteError,
  S3_ENGINE,
  StartedEngines,
  Supervisor,
  flinkJavaOpens,
  flinkJobCommand,
  flinkRuntimeClasspath,
  isStillOurs,
  kafkaBootstrap,
  kafkaFormatted,
  processMarker,
  requireKinesisLocal,
  requireMaven,
  startEngines,
  startKinesis,
  stopRecorded,
} from '../../sandbox/engines';

/**
 * The engines for real: a Kafka broker, kinesis-local and S3Proxy started in a
 * temporary home on ports the OS hands out, exercised through the same clients
 * the sandbox uses, stopped from another supervisor, restarted to show they
 * resume, and checked to leave no process behind.
 */

const REPO = path.resolve(__dirname, '..', '..');
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
/** A group's first join creates __consumer_offsets; kafkajs logs the retried "coordinator is loading" as errors. */
const KAFKAJS_LOG = logLevel.NOTHING;


const gone = (pid: number) => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');

let home: string;
let settings: SandboxSettings;
let supervisor: Supervisor;
let started: StartedEngines;
/** Every pid any engine had during the run, to check none survives. */
const seenPids = new Set<number>();
const timings: Record<string, number> = {};

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-engines-'));
  const [kafka, kafkaController, kinesis, kinesisTls, s3, sns, dynamodb] = await freePorts(7);
  settings = defaultSettings(REPO, { home, log: 'kafka', ports: { kafka, kafkaController, kinesis, kinesisTls, s3, sns, dynamodb } });
  supervisor = new Supervisor(settings, { stopTimeoutMs: 10_000 });
});

afterAll(async () => {
  await supervisor?.stopAll();
  for (const pid of seenPids) expect(gone(pid)).toBe(true);
  // eslint-disable-next-line no-console
  console.log(`engine start-up times (ms): ${JSON.stringify(timings)}`);
  fs.rmSync(home, { recursive: true, force: true });
});

test('a taken port is reported with its engine and flag before anything starts', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(settings.ports.kafka, '127.0.0.1', resolve));
  try {
    const attempt = startEngines(settings, supervisor);
    await expect(attempt).rejects.toThrow(PortInUseError);
    await expect(attempt).rejects.toThrow(`port ${settings.ports.kafka} (kafka) is in use by another process; stop it or pass --kafka-port <n>`);
    expect(supervisor.running()).toEqual([]);
    expect(supervisor.recorded()).toEqual([]);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test('a missing prerequisite is a SandboxPrerequisiteError that says how to install it', () => {
  expect(() => requireKinesisLocal(home)).toThrow(SandboxPrerequisiteError);
  expect(() => requireKinesisLocal(home)).toThrow(/kinesis-local is not installed .*run `npm ci`/);
  const noMaven = { ...process.env, PATH: home };
  expect(() => requireMaven('resolve the kafka jars', noMaven)).toThrow(SandboxPrerequisiteError);
  expect(() => requireMaven('resolve the kafka jars', noMaven)).toThrow(/Maven is needed once to resolve the kafka jars.*sudo apt-get install maven/);
});

test('startEngines starts S3Proxy and a KRaft broker, recorded in processes.json', async () => {
  const began = Date.now();
  started = await startEngines(settings, supervisor);
  timings.firstUp = Date.now() - began;
  Object.assign(timings, Object.fromEntries(Object.entries(started.startupMs).map(([k, v]) => [`${k}First`, v])));
  expect(started.s3.name).toBe(S3_ENGINE);
  expect(started.log.name).toBe(KAFKA_ENGINE);
  expect(started.leftovers).toEqual([]);
  expect(kafkaFormatted(settings)).toBe(true);
  const recorded = supervisor.recorded();
  expect(recorded.map((r) => r.name).sort()).toEqual([KAFKA_ENGINE, S3_ENGINE]);
  expect(recorded.find((r) => r.name === KAFKA_ENGINE)!.command.join(' ')).toMatch(/-cp \S+kafka_2\.13-4\.1\.1\.jar:\.\.\. \(\d+ entries\) kafka\.Kafka /);
  for (const record of recorded) {
    seenPids.add(record.pid);
    expect(fs.readFileSync(`/proc/${record.pid}/cmdline`, 'utf8')).toContain(processMarker(settings, record.name));
    expect(fs.existsSync(path.join(sandboxDirs(settings).logs, `${record.name}.log`))).toBe(true);
  }
  expect(fs.existsSync(sandboxDirs(settings).lake)).toBe(true);
});

test('Kafka: create a topic, produce and consume with kafkajs', async () => {
  const kafka = new Kafka({ clientId: 'engines-test', brokers: [kafkaBootstrap(settings)], logLevel: KAFKAJS_LOG });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: settings.streamName, numPartitions: 2 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: settings.streamName, messages: [{ key: 'card-1', value: 'first' }, { key: 'card-1', value: 'second' }] });
  await producer.disconnect();
  expect(await consumeAll(kafka, 'engines-test-1', 2)).toEqual(['first', 'second']);
});

/** Reads `count` values of the stream's topic from the beginning with a fresh consumer group. */
async function consumeAll(kafka: Kafka, groupId: string, count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic: settings.streamName, fromBeginning: true });
  const values: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${values.length} of ${count} messages arrived`)), 30_000);
    consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value!.toString());
        if (values.length === count) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  return values;
}

function s3Client(): S3Client {
  // As a handler sees it (AWS_ENDPOINT_URL_S3 only, no forcePathStyle): the SDK picks path style for an IP endpoint.
  return new S3Client({ endpoint: endpoint(settings.ports.s3), region: settings.region, credentials: settings.credentials });
}

test('S3Proxy: an object put through the SDK is a plain file in the lake folder, path-style', async () => {
  const client = s3Client();
  const paths: string[] = [];
  client.middlewareStack.add((next) => async (args) => {
    const request = args.request as { hostname: string; path: string };
    paths.push(`${request.hostname}${request.path}`);
    return next(args);
  }, { step: 'finalizeRequest' });
  const key = 'raw/year=2024/month=01/day=02/part-0.json';
  await client.send(new PutObjectCommand({ Bucket: settings.bucket, Key: key, Body: '{"txnId":"t1"}\n', ContentType: 'application/json' }));
  expect(paths).toEqual([`127.0.0.1/${settings.bucket}/${key.replace(/=/g, '%3D')}`]);
  expect(fs.readFileSync(path.join(sandboxDirs(settings).lake, key), 'utf8')).toBe('{"txnId":"t1"}\n');
  client.destroy();
});

test('S3Proxy: a file another program writes into the lake is listed and readable', async () => {
  const file = path.join(sandboxDirs(settings).lake, 'views', 'x', 'y.parquet');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const bytes = Buffer.from('PAR1 not really parquet PAR1');
  fs.writeFileSync(file, bytes);
  const client = s3Client();
  const listed = await client.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: 'views/' }));
  const keys = listed.Contents!.map((o) => o.Key);
  expect(keys).toContain('views/x/y.parquet');
  expect(listed.Contents!.find((o) => o.Key === 'views/x/y.parquet')!.Size).toBe(bytes.length);
  // jclouds' filesystem backend also lists the folders themselves as keys ending in '/'.
  expect(keys.filter((k) => !k!.endsWith('/'))).toEqual(['views/x/y.parquet']);
  const delimited = await client.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: 'views/', Delimiter: '/' }));
  expect(delimited.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['views/x/']);
  const got = await client.send(new GetObjectCommand({ Bucket: settings.bucket, Key: 'views/x/y.parquet' }));
  expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(bytes);
  client.destroy();
});

function kinesisClient(): KinesisClient {
  return new KinesisClient({
    endpoint: endpoint(settings.ports.kinesis),
    region: settings.region,
    credentials: settings.credentials,
    requestHandler: new NodeHttpHandler(),
  });
}

async function readShard(client: KinesisClient): Promise<string[]> {
  const iterator = await client.send(new GetShardIteratorCommand({ StreamName: 'engines-test', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
  const records = await client.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }));
  return records.Records!.map((r) => Buffer.from(r.Data!).toString());
}

test('kinesis-local: CreateStream, PutRecord, GetRecords, and the stream survives a restart', async () => {
  let began = Date.now();
  let record = await startKinesis(supervisor, settings);
  timings.kinesisFirst = Date.now() - began;
  seenPids.add(record.pid);
  const client = kinesisClient();
  await client.send(new CreateStreamCommand({ StreamName: 'engines-test', ShardCount: 1 }));
  for (let status = ''; status !== 'ACTIVE'; await new Promise((r) => setTimeout(r, 200))) {
    status = (await client.send(new DescribeStreamSummaryCommand({ StreamName: 'engines-test' }))).StreamDescriptionSummary!.StreamStatus!;
  }
  await client.send(new PutRecordCommand({ StreamName: 'engines-test', PartitionKey: 'card-1', Data: Buffer.from('hello') }));
  expect(await readShard(client)).toEqual(['hello']);

  // Stopped with SIGTERM it writes its state to <home>/kinesis; the next start loads it.
  await supervisor.stop(KINESIS_ENGINE);
  expect(gone(record.pid)).toBe(true);
  expect(fs.existsSync(path.join(sandboxDirs(settings).kinesis, 'kinesis-data.json'))).toBe(true);
  began = Date.now();
  record = await startKinesis(supervisor, settings);
  timings.kinesisResume = Date.now() - began;
  seenPids.add(record.pid);
  expect(await readShard(client)).toEqual(['hello']);
  client.destroy();
});

test('a crashed run\'s leftovers are stopped; a pid that is no longer ours is never signalled', async () => {
  const marker = processMarker(settings, 'leftover');
  // A real process of a "previous run" whose owner (pid 1's start time never matches) is gone.
  const leftover = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', marker], { detached: true, stdio: 'ignore' });
  // A pid recorded under a marker its command line does not carry: a reused pid.
  const stranger = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  seenPids.add(leftover.pid!);
  const fake = (name: string, pid: number, m: string): ProcessRecord => ({
    name, pid, marker: m, command: [], ports: [], logFile: '', startedAt: new Date().toISOString(), owner: { pid: 1, startTicks: -1 },
  });
  const file = sandboxDirs(settings).pidsFile;
  const current = JSON.parse(fs.readFileSync(file, 'utf8')).processes;
  fs.writeFileSync(file, JSON.stringify({ processes: [...current, fake('leftover', leftover.pid!, marker), fake('stranger', stranger.pid!, marker)] }));
  try {
    const fresh = new Supervisor(settings);
    const cleared = await fresh.clearLeftovers();
    expect(cleared.map((r) => r.name)).toEqual(['leftover']);
    expect(gone(leftover.pid!)).toBe(true);
    expect(gone(stranger.pid!)).toBe(false);
    // The live engines of this (running) supervisor are not leftovers and stay recorded.
    expect(fresh.recorded().map((r) => r.name).sort()).toEqual([KAFKA_ENGINE, KINESIS_ENGINE, S3_ENGINE]);
    for (const r of fresh.recorded()) expect(isStillOurs(r)).toBe(true);
  } finally {
    stranger.kill('SIGKILL');
  }
});

test('down from a fresh supervisor stops every recorded process; a second up resumes the data', async () => {
  const before = supervisor.recorded();
  expect(before).toHaveLength(3);
  const began = Date.now();
  const stopped = await stopRecorded(settings);
  timings.down = Date.now() - began;
  expect(stopped.map((r) => r.name).sort()).toEqual([KAFKA_ENGINE, KINESIS_ENGINE, S3_ENGINE]);
  for (const record of before) expect(gone(record.pid)).toBe(true);
  expect(new Supervisor(settings).recorded()).toEqual([]);

  // Up again in the same home: no re-format, the topic and its messages and the lake are still there.
  const kafkaLog = path.join(sandboxDirs(settings).logs, 'kafka.log');
  const formats = () => fs.readFileSync(kafkaLog, 'utf8').split('Formatting metadata directory').length - 1;
  expect(formats()).toBe(1);
  const again = new Supervisor(settings, { stopTimeoutMs: 10_000 });
  const upAgain = Date.now();
  const second = await startEngines(settings, again);
  timings.secondUp = Date.now() - upAgain;
  Object.assign(timings, Object.fromEntries(Object.entries(second.startupMs).map(([k, v]) => [`${k}Resume`, v])));
  supervisor = again;
  for (const r of again.recorded()) seenPids.add(r.pid);
  expect(formats()).toBe(1);
  const kafka = new Kafka({ clientId: 'engines-test', brokers: [kafkaBootstrap(settings)], logLevel: KAFKAJS_LOG });
  expect(await consumeAll(kafka, 'engines-test-2', 2)).toEqual(['first', 'second']);
  const client = s3Client();
  const listed = await client.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: 'views/x/' }));
  client.destroy();
  expect(listed.Contents!.map((o) => o.Key)).toContain('views/x/y.parquet');
});

describe('the Flink job command line', () => {
  test('the jar first, then the Flink runtime and a log4j2 binding; Java 17 opens; the job class and its properties', () => {
    const classpath = flinkRuntimeClasspath('/build/tributary-flink-jobs.jar');
    const names = classpath.map((entry) => path.basename(entry));
    expect(classpath[0]).toBe('/build/tributary-flink-jobs.jar');
    expect(names).toEqual(
      expect.arrayContaining(['flink-runtime-2.2.0.jar', 'flink-clients-2.2.0.jar', 'log4j-slf4j2-impl-2.24.3.jar', 'log4j-core-2.24.3.jar']),
    );
    // Left out of the shaded jar, reached through compile scope: without it the job fails at its first union().
    expect(names.some((n) => n.startsWith('flink-shaded-guava-'))).toBe(true);
    // One slf4j, the one the log4j2 binding needs (1.7.36 from Flink's compile scope would silence the job).
    expect(names.filter((n) => /^slf4j-api-/.test(n))).toEqual(['slf4j-api-2.0.17.jar']);
    // No test dependencies on a job's classpath.
    expect(names.some((n) => /junit|assertj|flink-test-utils/.test(n))).toBe(false);
    for (const entry of classpath.slice(1)) expect(fs.existsSync(entry)).toBe(true);

    const opens = flinkJavaOpens();
    expect(opens).toContain('--add-opens=java.base/java.util=ALL-UNNAMED');
    const { command, args, marker } = flinkJobCommand(
      settings, { name: 'flink-stream', propertiesFile: 'job.json', extraArgs: ['--checkpoints', '/cp'] }, classpath, opens, '/log4j2.properties',
    );
    expect(command).toBe('java');
    expect(marker).toBe(processMarker(settings, 'flink-stream'));
    expect(args).toEqual(expect.arrayContaining([marker, ...opens, '-Xmx1g', '-Dlog4j2.configurationFile=/log4j2.properties', `-Djava.io.tmpdir=${path.join(sandboxDirs(settings).flink, 'tmp')}`]));
    expect(args[args.indexOf('-cp') + 1]).toBe(classpath.join(':'));
    expect(args.slice(args.indexOf(FLINK_MAIN_CLASS))).toEqual([FLINK_MAIN_CLASS, '--properties', path.resolve('job.json'), '--checkpoints', '/cp']);
  });
});
