import * as path from 'node:path';

/**
 * Everything the sandbox's parts need to agree on: where its state lives, which
 * ports its engines listen on, and the names of the log, bucket and topic. The
 * CLI builds one of these (defaults here, flags over them) and hands it to every
 * part, so no part invents a port or a folder of its own.
 */

export type LogKind = 'kinesis' | 'kafka';

export interface SandboxPorts {
  /** Kafka broker listener (PLAINTEXT, loopback). */
  kafka: number;
  /** Kafka KRaft controller listener (loopback). */
  kafkaController: number;
  /** kinesis-local, plain HTTP. */
  kinesis: number;
  /** kinesis-local's TLS port (it always opens one). */
  kinesisTls: number;
  /** S3Proxy, plain HTTP. */
  s3: number;
  /** The SNS stand-in, plain HTTP. */
  sns: number;
  /** The DynamoDB stand-in (dynalite), plain HTTP: the alert notifier's idempotency table. */
  dynamodb: number;
}

export interface SandboxSettings {
  /** The repository root (where package.json, flink-apps/ and schemas/ are). */
  repoRoot: string;
  /** All state on disk: engines' data, the lake, checkpoints, logs, pids. A second `up` resumes from it. */
  home: string;
  log: LogKind;
  ports: SandboxPorts;
  /** Every local AWS stand-in accepts any credentials; these are the ones the sandbox hands out. */
  region: string;
  accountId: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The event log: Kinesis stream name or Kafka topic, and its shard/partition count. */
  streamName: string;
  shards: number;
  /** The lake bucket (a folder under `dirs.s3` for S3Proxy). */
  bucket: string;
  /** The SNS topic the alert notifier delivers alerts to. */
  alertsTopicName: string;
  /** The real-time alerts log (Kinesis stream or Kafka topic on the same engine as the event log): both paths write alerts to it. */
  alertsLogName: string;
  /** The alert notifier's Powertools idempotency table. */
  idempotencyTableName: string;
}

export const DEFAULT_PORTS: SandboxPorts = {
  kafka: 19092,
  kafkaController: 19093,
  kinesis: 14568,
  kinesisTls: 14567,
  s3: 14566,
  sns: 14575,
  dynamodb: 14576,
};

/**
 * Shards of the sandbox's Kinesis stream. kinesis-local's cost per PutRecords grows with the records a shard
 * holds (measured: 1 shard 102 -> 47 records/s over 12,000 records, 16 shards 416 -> 372/s), while its readers'
 * cost per shard falls as much, so more shards make the Kinesis path faster (bench/README.md).
 */
export const KINESIS_SHARDS = 16;

export function defaultSettings(repoRoot: string, overrides: Partial<SandboxSettings> = {}): SandboxSettings {
  return {
    repoRoot,
    home: path.join(repoRoot, '.sandbox'),
    log: 'kafka',
    ports: { ...DEFAULT_PORTS },
    region: 'us-east-1',
    accountId: '000000000000',
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox-secret' },
    streamName: 'tributary-transactions',
    shards: overrides.log === 'kinesis' ? KINESIS_SHARDS : 4,
    bucket: 'tributary-lake',
    alertsTopicName: 'tributary-alerts',
    alertsLogName: 'tributary-alerts-log',
    idempotencyTableName: 'tributary-alert-notifier-idempotency',
    ...overrides,
  };
}

/** The folders under `home`; each part writes only to its own. */
export function sandboxDirs(settings: SandboxSettings) {
  const home = settings.home;
  return {
    home,
    /** One log file per engine process: `<name>.log`. */
    logs: path.join(home, 'logs'),
    /** Tracked processes (pid, command, port) so `down` and a crashed run leave no orphans. */
    pidsFile: path.join(home, 'processes.json'),
    kafka: path.join(home, 'kafka'),
    kinesis: path.join(home, 'kinesis'),
    /** S3Proxy's filesystem basedir; the lake bucket is the folder `<s3>/<bucket>`. */
    s3: path.join(home, 's3'),
    lake: path.join(home, 's3', settings.bucket),
    flink: path.join(home, 'flink'),
    /** Checkpoints (positions) of the sandbox's own pollers and archiver. */
    positions: path.join(home, 'positions'),
    /** The SNS stand-in's delivered messages, one NDJSON file per topic. */
    sns: path.join(home, 'sns'),
    /** The event source mapping's on-failure destination (stands in for the SQS queue). */
    onFailure: path.join(home, 'on-failure'),
    /** The alert notifier's event source mapping's on-failure destination (the alerts stack's SQS queue). */
    alertsOnFailure: path.join(home, 'on-failure-alerts'),
    /** dynalite's LevelDB store: the idempotency records survive a stop, as the table does. */
    dynamodb: path.join(home, 'dynamodb'),
    /** What the generator produced and its ground truth, per run. */
    runs: path.join(home, 'runs'),
  };
}

export function streamArn(settings: SandboxSettings): string {
  return `arn:aws:kinesis:${settings.region}:${settings.accountId}:stream/${settings.streamName}`;
}

/**
 * The alerts log as a log of its own: the same engine and client as the event log, another stream/topic, with the
 * shard (Kinesis) or partition (Kafka) count the platform config gives the deployed alerts log.
 */
export function alertsLogSettings(settings: SandboxSettings, alerts: { shardCount: number; partitions: number }): SandboxSettings {
  return { ...settings, streamName: settings.alertsLogName, shards: settings.log === 'kinesis' ? alerts.shardCount : alerts.partitions };
}

export function alertsStreamArn(settings: SandboxSettings): string {
  return streamArn({ ...settings, streamName: settings.alertsLogName });
}

export function alertsTopicArn(settings: SandboxSettings): string {
  return `arn:aws:sns:${settings.region}:${settings.accountId}:${settings.alertsTopicName}`;
}

export function endpoint(port: number): string {
  return `http://127.0.0.1:${port}`;
}
