import * as fs from 'node:fs';
import type * as http from 'node:http';
import type { PlatformConfig } from '../../lib/config';
import { cardFraud } from '../../products/card-fraud';
import { alertNotifierEnvironment, speedLayerEnvironment, type AlertsLogEnvironment } from '../../lib/speed-layer-environment';
import { openAlertsLog, openLog, type LocalLog } from '../log';
import { sandboxPlatformConfig } from '../platform-config';
import { alertsLogSettings, alertsTopicArn, endpoint, sandboxDirs, type SandboxSettings } from '../settings';
import { RAW_ARCHIVE_READER, startArchiver } from '../stand-ins/archiver';
import { startSnsStandIn } from '../stand-ins/sns';
import {
  EventSourceMapping,
  eventFormatFor,
  mappingOptionsFromConfig,
  notifierMappingOptions,
  sandboxArns,
  type EventSourceMappingOptions,
  type MappingHandler,
} from '../stand-ins/event-source-mapping';
import { writeStatus } from './status';

/**
 * One stand-in per process, as the managed services are separate from each
 * other: `sns`, `dynamodb` (dynalite), `speed-layer` and `alert-notifier` (each
 * an event source mapping and the function it invokes, as Lambda runs them) and
 * `raw-archive` (the Firehose stand-in).
 * Started and tracked by the supervisor like any engine:
 *
 *   node -r ts-node/register/transpile-only sandbox/workers/main.ts <worker> <settings.json> <marker>
 *
 * SIGTERM stops the worker cleanly: the archiver delivers its buffer, the
 * mapping finishes its invocation, then the process exits.
 */

/** In start order: a worker starts after those it writes to. */
export const WORKERS = ['sns', 'dynamodb', 'alert-notifier', 'speed-layer', 'raw-archive'] as const;
const STATUS_INTERVAL_MS = 2000;
export type WorkerName = (typeof WORKERS)[number];

/** The consumer name of the speed layer's event source mapping on the log. */
export const SPEED_LAYER_READER = 'speed-layer';
/** The consumer name of the alert notifier's event source mapping on the alerts log. */
export const ALERT_NOTIFIER_READER = 'alert-notifier';
/** Function names, as the stacks name them: in the ARNs of the mappings' events and on-failure records. */
const SPEED_LAYER_FUNCTION = 'tributary-speed-layer';
const ALERT_NOTIFIER_FUNCTION = 'tributary-alert-notifier';

interface Running {
  status(): Record<string, unknown> | Promise<Record<string, unknown>>;
  stop(): Promise<void>;
  done?: Promise<void>;
}

/** The SDK's own settings that point a function's clients at the local stand-ins: no code path of its own. */
function sandboxSdkEnvironment(settings: SandboxSettings): Record<string, string> {
  return {
    AWS_REGION: settings.region,
    AWS_ACCESS_KEY_ID: settings.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: settings.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoint(settings.ports.s3),
    AWS_ENDPOINT_URL_SNS: endpoint(settings.ports.sns),
    AWS_ENDPOINT_URL_KINESIS: endpoint(settings.ports.kinesis),
    AWS_ENDPOINT_URL_DYNAMODB: endpoint(settings.ports.dynamodb),
    // S3Proxy predates the SDK's default CRC checksums; these are the SDK's own switches for that.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
}

/** Where producers write the local alerts log: the kinesis-local stream by name, or the plaintext broker's topic. */
export function sandboxAlertsLogTarget(settings: SandboxSettings): AlertsLogEnvironment {
  return settings.log === 'kinesis'
    ? { type: 'kinesis', streamName: settings.alertsLogName }
    : { type: 'kafka', bootstrapBrokers: `127.0.0.1:${settings.ports.kafka}`, topic: settings.alertsLogName, auth: 'none' };
}

/** The speed layer's environment exactly as the speed-layer stack sets it, plus the SDK's local endpoints. */
export function sandboxSpeedLayerEnvironment(settings: SandboxSettings): Record<string, string> {
  return {
    ...speedLayerEnvironment({ bucketName: settings.bucket, alertsLog: sandboxAlertsLogTarget(settings), rules: cardFraud.rules }),
    ...sandboxSdkEnvironment(settings),
  };
}

/** The alert notifier's environment exactly as the alerts stack sets it, plus the SDK's local endpoints. */
export function sandboxAlertNotifierEnvironment(settings: SandboxSettings, config: PlatformConfig): Record<string, string> {
  return {
    ...alertNotifierEnvironment({
      bucketName: settings.bucket,
      alertsTopicArn: alertsTopicArn(settings),
      idempotencyTableName: settings.idempotencyTableName,
      // As AlertsStack's idempotencyExpirySeconds: the longer of the alerts log's and the event log's retention.
      idempotencyExpirySeconds:
        Math.max(config.alerts.retentionHours, settings.log === 'kinesis' ? config.eventLog.kinesis.retentionHours : config.eventLog.msk.retentionHours) * 3600,
    }),
    ...sandboxSdkEnvironment(settings),
  };
}

async function startWorker(name: WorkerName, settings: SandboxSettings): Promise<Running> {
  const { config } = sandboxPlatformConfig(settings.repoRoot);
  switch (name) {
    case 'sns': {
      const sns = await startSnsStandIn(settings);
      return { status: () => ({ url: sns.url }), stop: () => sns.close() };
    }
    case 'dynamodb':
      return startDynalite(settings);
    case 'raw-archive': {
      const log = openLog(settings);
      const archiver = startArchiver({
        settings,
        reader: log.reader(RAW_ARCHIVE_READER),
        buffering: { intervalSeconds: config.archive.bufferingIntervalSeconds, sizeMiB: config.archive.bufferingSizeMiB },
        platformName: config.name,
      });
      return {
        status: () => ({ ...archiver.status() }),
        stop: async () => {
          await archiver.stop();
          await log.close();
        },
        done: archiver.done,
      };
    }
    case 'speed-layer':
      // Loaded after the environment is set: the handler reads it once at init, as on Lambda.
      Object.assign(process.env, sandboxSpeedLayerEnvironment(settings));
      return startMapping({
        log: openLog(settings),
        logSettings: settings,
        reader: SPEED_LAYER_READER,
        functionName: SPEED_LAYER_FUNCTION,
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        handler: (require('../../lambdas/speed-layer/index') as typeof import('../../lambdas/speed-layer/index')).handler as MappingHandler<unknown>,
        options: mappingOptionsFromConfig(config.speedLayer, settings.log),
        onFailureDir: sandboxDirs(settings).onFailure,
      });
    case 'alert-notifier':
      Object.assign(process.env, sandboxAlertNotifierEnvironment(settings, config));
      return startMapping({
        log: openAlertsLog(settings, config),
        logSettings: alertsLogSettings(settings, config.alerts),
        reader: ALERT_NOTIFIER_READER,
        functionName: ALERT_NOTIFIER_FUNCTION,
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        handler: (require('../../lambdas/alert-notifier/index') as typeof import('../../lambdas/alert-notifier/index')).handler as MappingHandler<unknown>,
        options: notifierMappingOptions(config.alerts.notifier, settings.log),
        onFailureDir: sandboxDirs(settings).alertsOnFailure,
      });
  }
}

/** A Lambda function behind its event source mapping: the real handler, invoked with the exact event shape. */
async function startMapping(props: {
  log: LocalLog;
  logSettings: SandboxSettings;
  reader: string;
  functionName: string;
  handler: MappingHandler<unknown>;
  options: EventSourceMappingOptions;
  onFailureDir: string;
}): Promise<Running> {
  const mapping = new EventSourceMapping({
    reader: props.log.reader(props.reader),
    format: eventFormatFor(props.logSettings, props.functionName),
    handler: props.handler,
    options: props.options,
    onFailureDir: props.onFailureDir,
    functionArn: sandboxArns(props.logSettings, props.functionName).functionArn,
  });
  await mapping.start();
  return {
    status: () => mapping.status() as unknown as Promise<Record<string, unknown>>,
    stop: async () => {
      await mapping.stop();
      await props.log.close();
    },
  };
}

/**
 * DynamoDB's stand-in: dynalite (the DynamoDB API on LevelDB, kept under `.sandbox/dynamodb` so idempotency
 * records survive a stop). It does not implement time to live: expired items stay, and Powertools' conditional
 * write (`attribute_not_exists(id) OR expiration < now`) treats them as gone, as it does before DynamoDB's
 * TTL sweep deletes them (docs/sandbox.md).
 */
async function startDynalite(settings: SandboxSettings): Promise<Running> {
  const dir = sandboxDirs(settings).dynamodb;
  fs.mkdirSync(dir, { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => http.Server;
  // Tables are ACTIVE at once: nothing here waits on DynamoDB's provisioning.
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.ports.dynamodb, '127.0.0.1', () => resolve());
  });
  return {
    status: () => ({ url: endpoint(settings.ports.dynamodb) }),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        // Clients keep connections alive; closing them lets the server (and its LevelDB store) close now.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function main(): Promise<void> {
  const [name, settingsFile] = process.argv.slice(2);
  if (!WORKERS.includes(name as WorkerName)) throw new Error(`Unknown worker '${name}'; known: ${WORKERS.join(', ')}`);
  const settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as SandboxSettings;
  const running = await startWorker(name as WorkerName, settings);
  const report = async () => writeStatus(settings, name, await running.status());
  await report();
  // Every 2 s: a status counts each unit's lag, which on kinesis-local means reading the records again.
  const timer = setInterval(() => void report().catch(() => undefined), STATUS_INTERVAL_MS);
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    try {
      await running.stop();
      await report();
    } catch (error) {
      console.error(`${name}: stopping failed:`, error);
      code = 1;
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  running.done?.catch((error: unknown) => {
    console.error(`${name} failed:`, error);
    void stop(1);
  });
  console.log(`${name} ready`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
