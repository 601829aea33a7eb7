import * as fs from 'node:fs';
import * as path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { ensureFlinkJar } from '../lib/constructs/flink-application/flink-jar';
import type { PlatformConfig } from '../lib/config';
import type { FlinkAlertsSink } from '../lib/constructs/event-log/alerts-log';
import { CARD_PROFILES_PREFIX } from '../lib/lake-layout';
import { streamJobPropertyGroups } from '../lib/stream-job-properties';
import { cardFraud } from '../products/card-fraud';
import { processMarker, s3ClientConfig, startEngines, startFlinkJob, Supervisor } from './engines';
import type { CardProfile } from './generator';
import { KafkaLog, openAlertsLog, openLog, type LocalLog } from './log';
import { sandboxPlatformConfig } from './platform-config';
import { alertsStreamArn, endpoint, sandboxDirs, streamArn, type SandboxSettings } from './settings';
import { servingVersion } from './serving/version';
import { WORKERS, type WorkerName } from './workers/main';
import { platformNames } from '../lib/names';

/**
 * Starting and stopping the whole sandbox: the engines (S3Proxy, the log), the
 * event log and the alerts log on it, the stand-in workers (SNS, DynamoDB, the
 * alert notifier's and the speed layer's event source mappings, the raw archive)
 * and the Flink job, in the order each needs the one before. Every
 * process is started through one Supervisor, so Ctrl-C, `down` and a crash all
 * stop every one of them.
 */

export const SETTINGS_FILE = 'settings.json';
/** The Flink job's own default for a local run (LaunchOptions.DEFAULT_LOCAL_CHECKPOINT_INTERVAL). */
export const LOCAL_CHECKPOINT_INTERVAL_MS = 10_000;
export const FLINK_PROCESS = 'flink-stream';

export interface FlinkState {
  running: boolean;
  /** Why the Flink path is not running, when it is not. */
  reason?: string;
  /** The consumer group the job commits its Kafka offsets to on each checkpoint (Kafka only). */
  consumerGroup?: string;
  /** How often the job checkpoints, which is when its file sinks commit what it wrote. */
  checkpointIntervalMs?: number;
  /** The output version it writes (the serving version). */
  version?: number;
}

export interface Sandbox {
  settings: SandboxSettings;
  config: PlatformConfig;
  supervisor: Supervisor;
  log: LocalLog;
  flink: FlinkState;
  /** Milliseconds each part took to become ready. */
  startupMs: Record<string, number>;
}

export interface StartOptions {
  /** Card profiles for the stream job's enrichment, written before it starts. */
  cards?: readonly CardProfile[];
  /** Default true. */
  flink?: boolean;
  /** Local checkpoint interval of the Flink job; default the job's own (10 s). */
  flinkCheckpointIntervalMs?: number;
  profile?: string;
  /** Told of each part as it becomes ready. */
  onProgress?: (message: string) => void;
}

export function settingsFile(settings: SandboxSettings): string {
  return path.join(settings.home, SETTINGS_FILE);
}

/** The settings a running (or last) sandbox in `home` was started with. */
export function readSettings(home: string): SandboxSettings | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(home, SETTINGS_FILE), 'utf8')) as SandboxSettings;
  } catch {
    return undefined;
  }
}

/** A stand-in worker process: `node -r ts-node/register/transpile-only sandbox/workers/main.ts <name> <settings>`. */
export async function startWorker(supervisor: Supervisor, settings: SandboxSettings, name: WorkerName) {
  const marker = processMarker(settings, name);
  return supervisor.start({
    name,
    command: process.execPath,
    args: ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'workers', 'main.ts'), name, settingsFile(settings), marker],
    cwd: settings.repoRoot,
    env: { TS_NODE_PROJECT: path.join(settings.repoRoot, 'tsconfig.json') },
    marker,
    ports: name === 'sns' ? [settings.ports.sns] : name === 'dynamodb' ? [settings.ports.dynamodb] : [],
    ready: { logLine: new RegExp(`^${name} ready$`, 'm'), timeoutMs: 60_000 },
  });
}

function lakeS3(settings: SandboxSettings): S3Client {
  return new S3Client(s3ClientConfig(settings));
}

/** The enrichment's reference table, through S3 as an operator would load it. */
async function writeCardProfiles(settings: SandboxSettings, cards: readonly CardProfile[]): Promise<void> {
  const body = cards
    .map((c) => JSON.stringify({ card_id: c.cardId, segment: c.segment, home_country: c.homeCountry, risk_tier: c.riskTier }))
    .join('\n');
  const s3 = lakeS3(settings);
  try {
    await s3.send(new PutObjectCommand({ Bucket: settings.bucket, Key: `${CARD_PROFILES_PREFIX}/cards.ndjson`, Body: `${body}\n` }));
  } finally {
    s3.destroy();
  }
}

/** The process name of the stream job writing output version `version`. */
export function flinkProcessName(version: number): string {
  return `${FLINK_PROCESS}-v${version}`;
}

/** The Kafka consumer group a job of this output version commits its offsets to (Kafka/id.prefix + version). */
export function flinkConsumerGroup(version: number): string {
  return `${FLINK_ID_PREFIX}-v${version}`;
}

const FLINK_ID_PREFIX = 'tributary-stream';

/**
 * The Flink job's `Alerts` group in the sandbox: the local alerts log (the stream's ARN, or the topic on the local
 * broker). A replay writes no alerts (`none`), as the deployed Kappa replay (kappa-replay.ts): it recomputes past
 * results into a new version, and must not page anyone about transactions already alerted on.
 */
export function sandboxFlinkAlertsSink(settings: SandboxSettings, replay: boolean): FlinkAlertsSink {
  if (replay) return { sink: 'none' };
  return settings.log === 'kinesis' ? { sink: 'kinesis', 'stream.arn': alertsStreamArn(settings) } : { sink: 'kafka', topic: settings.alertsLogName };
}

/**
 * The property groups of a local Flink run: the deployed Job/Alerts groups with a local lake, this output
 * version and the local alerts log, the local log (Kafka, or the kinesis-local stream as
 * KinesisEventLog.flinkSource gives it, with enhanced fan-out when the profile has it), and for a replay the
 * timestamp to start reading from (and no alerts).
 */
export function flinkPropertyGroups(settings: SandboxSettings, config: PlatformConfig, version: number, startTimestamp?: string) {
  const groups = streamJobPropertyGroups(
    { ...config, streamProcessing: { ...config.streamProcessing, outputVersion: version } },
    `file://${sandboxDirs(settings).lake}`,
    sandboxFlinkAlertsSink(settings, startTimestamp !== undefined),
    cardFraud.rules,
  );
  const start = startTimestamp ? { 'start.timestamp': startTimestamp } : {};
  const source =
    settings.log === 'kinesis'
      ? [
          { PropertyGroupId: 'Source', PropertyMap: { type: 'kinesis', ...start } },
          {
            PropertyGroupId: 'Kinesis',
            PropertyMap: {
              'aws.region': settings.region,
              'stream.arn': streamArn(settings),
              ...(config.eventLog.kinesis.enhancedFanOut ? { 'efo.consumer.name': platformNames(config.name).streamApplication(version) } : {}),
            },
          },
        ]
      : [
          { PropertyGroupId: 'Source', PropertyMap: { type: 'kafka', ...start } },
          {
            PropertyGroupId: 'Kafka',
            PropertyMap: { 'bootstrap.servers': `127.0.0.1:${settings.ports.kafka}`, topic: settings.streamName, auth: 'none', 'id.prefix': FLINK_ID_PREFIX },
          },
        ];
  return [...Object.entries(groups).map(([id, map]) => ({ PropertyGroupId: id, PropertyMap: map })), ...source];
}

/**
 * The job's AWS SDK reaches kinesis-local through the SDK's standard settings, as the handlers do
 * (AWS_ENDPOINT_URL_<SERVICE>): the job has no local branch.
 */
export function flinkEnvironment(settings: SandboxSettings): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_KINESIS: endpoint(settings.ports.kinesis),
    AWS_REGION: settings.region,
    AWS_ACCESS_KEY_ID: settings.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: settings.credentials.secretAccessKey,
  };
}

export interface FlinkJobStart {
  version: number;
  /** A replay: read the log from this instant instead of the committed offsets. */
  startTimestamp?: string;
  checkpointIntervalMs?: number;
}

/**
 * Start the stream job that writes `version`, as Managed Flink runs one application per version: its own
 * properties file and checkpoint folder, so it resumes from its own newest checkpoint.
 */
export async function startFlinkVersion(supervisor: Supervisor, settings: SandboxSettings, config: PlatformConfig, job: FlinkJobStart, jar: string) {
  const dir = path.join(sandboxDirs(settings).flink, `v${job.version}`);
  fs.mkdirSync(dir, { recursive: true });
  const propertiesFile = path.join(dir, 'application-properties.json');
  fs.writeFileSync(propertiesFile, `${JSON.stringify(flinkPropertyGroups(settings, config, job.version, job.startTimestamp), null, 2)}\n`);
  const extraArgs = ['--checkpoints', path.join(dir, 'checkpoints')];
  if (job.checkpointIntervalMs) extraArgs.push('--checkpoint-interval-ms', String(job.checkpointIntervalMs));
  return startFlinkJob(supervisor, settings, { name: flinkProcessName(job.version), propertiesFile, extraArgs, jar, env: flinkEnvironment(settings) });
}

async function startFlink(supervisor: Supervisor, sandbox: Omit<Sandbox, 'flink'>, options: StartOptions): Promise<FlinkState> {
  const { settings, config } = sandbox;
  if (options.flink === false) return { running: false, reason: 'not started (--no-flink)' };
  const jar = ensureFlinkJar();
  const version = servingVersion(settings, config).version;
  const checkpointIntervalMs = options.flinkCheckpointIntervalMs ?? LOCAL_CHECKPOINT_INTERVAL_MS;
  await startFlinkVersion(supervisor, settings, config, { version, checkpointIntervalMs: options.flinkCheckpointIntervalMs }, jar.path);
  return { running: true, version, consumerGroup: settings.log === 'kafka' ? flinkConsumerGroup(version) : undefined, checkpointIntervalMs };
}

/**
 * Start everything, resuming from what `settings.home` holds. On failure, whatever was started is
 * stopped again before the error is thrown.
 */
export async function startSandbox(settings: SandboxSettings, options: StartOptions = {}): Promise<Sandbox> {
  const say = options.onProgress ?? (() => undefined);
  const { config } = sandboxPlatformConfig(settings.repoRoot, { profile: options.profile });
  const supervisor = new Supervisor(settings);
  const startupMs: Record<string, number> = {};
  const timed = async <T>(name: string, step: () => Promise<T>): Promise<T> => {
    const began = Date.now();
    const result = await step();
    startupMs[name] = Date.now() - began;
    say(`${name} ready (${((Date.now() - began) / 1000).toFixed(1)} s)`);
    return result;
  };
  fs.mkdirSync(settings.home, { recursive: true });
  fs.writeFileSync(settingsFile(settings), `${JSON.stringify(settings, null, 2)}\n`);
  const log = openLog(settings);
  try {
    const engines = await startEngines(settings, supervisor);
    Object.assign(startupMs, engines.startupMs);
    if (engines.leftovers.length) say(`stopped ${engines.leftovers.length} process(es) a crashed run left behind`);
    say(`engines ready: s3proxy ${ms(engines.startupMs.s3proxy)}, ${engines.log.name} ${ms(engines.startupMs[engines.log.name])}`);
    const kind = settings.log === 'kafka' ? 'topic' : 'stream';
    await timed(`${kind} ${settings.streamName}`, () => log.ensureCreated());
    await timed(`${kind} ${settings.alertsLogName}`, () => ensureAlertsLog(settings, config));
    await timed('sns', () => startWorker(supervisor, settings, 'sns'));
    await createAlertsTopic(settings);
    await timed('dynamodb', () => startWorker(supervisor, settings, 'dynamodb'));
    await createIdempotencyTable(settings);
    if (options.cards?.length) await writeCardProfiles(settings, options.cards);
    const partial = { settings, config, supervisor, log, startupMs };
    const began = Date.now();
    const flink = await startFlink(supervisor, partial, options);
    if (flink.running) {
      startupMs.flink = Date.now() - began;
      say(`flink stream job running (${ms(startupMs.flink)})`);
    } else {
      say(`Flink stream job not running: ${flink.reason}`);
    }
    for (const worker of WORKERS.filter((w) => w !== 'sns' && w !== 'dynamodb')) await timed(worker, () => startWorker(supervisor, settings, worker));
    return { ...partial, flink };
  } catch (error) {
    await log.close().catch(() => undefined);
    await supervisor.stopAll();
    throw error;
  }
}

async function ensureAlertsLog(settings: SandboxSettings, config: PlatformConfig): Promise<void> {
  const alerts = openAlertsLog(settings, config);
  try {
    await alerts.ensureCreated();
  } finally {
    await alerts.close();
  }
}

/** The alerts topic, as the alerts stack creates it (CreateTopic is idempotent). */
async function createAlertsTopic(settings: SandboxSettings): Promise<void> {
  const sns = new SNSClient({ endpoint: endpoint(settings.ports.sns), region: settings.region, credentials: settings.credentials });
  try {
    await sns.send(new CreateTopicCommand({ Name: settings.alertsTopicName }));
  } finally {
    sns.destroy();
  }
}

/**
 * The notifier's idempotency table as the alerts stack defines it: partition key `id` (string), on demand.
 * Its TTL attribute (`expiration`) is not set here: dynalite has no UpdateTimeToLive (docs/sandbox.md).
 */
async function createIdempotencyTable(settings: SandboxSettings): Promise<void> {
  const dynamodb = new DynamoDBClient({ endpoint: endpoint(settings.ports.dynamodb), region: settings.region, credentials: settings.credentials });
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: settings.idempotencyTableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    // The table a previous `up` created: its records stay, as the deployed table's do.
    if (!(error instanceof ResourceInUseException)) throw error;
  } finally {
    dynamodb.destroy();
  }
}

const ms = (value: number | undefined) => (value === undefined ? '?' : `${(value / 1000).toFixed(1)} s`);

/**
 * How far the stream job writing `version` is behind the log. On Kafka: records its consumer group has not
 * committed yet (it commits on each checkpoint). On Kinesis, which keeps no consumer positions: the largest
 * `millisBehindLatest` of the job's shard readers (the Kinesis source's own metric, read from the job's
 * REST API), 0 once every shard has been read to its end. Undefined while unknown. Pass the sandbox's own
 * log to reuse its connection; without one, a connection is opened for this call.
 */
export async function flinkLag(settings: SandboxSettings, version: number, log?: LocalLog): Promise<number | undefined> {
  if (settings.log === 'kinesis') return kinesisReaderLag(settings, version);
  const group = flinkConsumerGroup(version);
  if (log instanceof KafkaLog) return log.groupLag(group);
  const own = new KafkaLog(settings);
  try {
    return await own.groupLag(group);
  } finally {
    await own.close();
  }
}

/** What flinkLag counts: records on Kafka, milliseconds behind the stream's end on Kinesis. */
export function flinkLagUnit(settings: SandboxSettings): string {
  return settings.log === 'kinesis' ? 'ms' : 'records';
}

/** The job's REST address, from the last line its local MiniCluster logged about it (`logs/<process>.log`). */
function restAddress(settings: SandboxSettings, version: number): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(sandboxDirs(settings).logs, `${flinkProcessName(version)}.log`), 'utf8');
  } catch {
    return undefined;
  }
  const matches = [...text.matchAll(/Rest endpoint listening at ([^\s:]+):(\d+)/g)];
  const last = matches[matches.length - 1];
  return last ? `http://${last[1] === 'localhost' ? '127.0.0.1' : last[1]}:${last[2]}` : undefined;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

async function kinesisReaderLag(settings: SandboxSettings, version: number): Promise<number | undefined> {
  const base = restAddress(settings, version);
  if (!base) return undefined;
  const { jobs } = await getJson<{ jobs: { jid: string; state: string }[] }>(`${base}/jobs/overview`);
  const job = jobs.find((j) => j.state === 'RUNNING');
  if (!job) return undefined;
  const { vertices } = await getJson<{ vertices: { id: string; name: string }[] }>(`${base}/jobs/${job.jid}`);
  const source = vertices.find((v) => v.name.startsWith('Source: events'));
  if (!source) return undefined;
  const metrics = `${base}/jobs/${job.jid}/vertices/${source.id}/subtasks/metrics`;
  const ids = (await getJson<{ id: string }[]>(metrics)).map((m) => m.id).filter((id) => id.endsWith('.millisBehindLatest'));
  if (ids.length === 0) return undefined;
  const values = await getJson<{ id: string; max: number }[]>(`${metrics}?get=${ids.map(encodeURIComponent).join(',')}&agg=max`);
  const lags = values.map((v) => Number(v.max));
  // -1 until a shard's reader has fetched once.
  if (lags.length < ids.length || lags.some((lag) => !(lag >= 0))) return undefined;
  return Math.max(...lags);
}
