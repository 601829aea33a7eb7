import * as fs from 'node:fs';
import { speedLayerEnvironment } from '../../lib/speed-layer-environment';
import { openLog } from '../log';
import { sandboxPlatformConfig } from '../platform-config';
import { alertsTopicArn, endpoint, sandboxDirs, type SandboxSettings } from '../settings';
import { RAW_ARCHIVE_READER, startArchiver } from '../stand-ins/archiver';
import { startSnsStandIn } from '../stand-ins/sns';
import { EventSourceMapping, eventFormatFor, mappingOptionsFromConfig, sandboxArns, type MappingHandler } from '../stand-ins/event-source-mapping';
import { writeStatus } from './status';

/**
 * One stand-in per process, as the managed services are separate from each
 * other: `sns`, `speed-layer` (the event source mapping and the function it
 * invokes, as Lambda runs them) and `raw-archive` (the Firehose stand-in).
 * Started and tracked by the supervisor like any engine:
 *
 *   node -r ts-node/register/transpile-only sandbox/workers/main.ts <worker> <settings.json> <marker>
 *
 * SIGTERM stops the worker cleanly: the archiver delivers its buffer, the
 * mapping finishes its invocation, then the process exits.
 */

export const WORKERS = ['sns', 'speed-layer', 'raw-archive'] as const;
const STATUS_INTERVAL_MS = 2000;
export type WorkerName = (typeof WORKERS)[number];

/** The consumer name of the speed layer's event source mapping on the log. */
export const SPEED_LAYER_READER = 'speed-layer';

interface Running {
  status(): Record<string, unknown> | Promise<Record<string, unknown>>;
  stop(): Promise<void>;
  done?: Promise<void>;
}

/**
 * The function's environment exactly as the speed-layer stack sets it, plus what makes its SDK
 * clients reach the local stand-ins: only the SDK's standard settings, no code path of its own.
 */
export function sandboxSpeedLayerEnvironment(settings: SandboxSettings): Record<string, string> {
  return {
    ...speedLayerEnvironment({ bucketName: settings.bucket, alertsTopicArn: alertsTopicArn(settings) }),
    AWS_REGION: settings.region,
    AWS_ACCESS_KEY_ID: settings.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: settings.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoint(settings.ports.s3),
    AWS_ENDPOINT_URL_SNS: endpoint(settings.ports.sns),
    // S3Proxy predates the SDK's default CRC checksums; these are the SDK's own switches for that.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
}

async function startWorker(name: WorkerName, settings: SandboxSettings): Promise<Running> {
  const { config } = sandboxPlatformConfig(settings.repoRoot);
  switch (name) {
    case 'sns': {
      const sns = await startSnsStandIn(settings);
      return { status: () => ({ url: sns.url }), stop: () => sns.close() };
    }
    case 'raw-archive': {
      const log = openLog(settings);
      const archiver = startArchiver({
        settings,
        reader: log.reader(RAW_ARCHIVE_READER),
        buffering: { intervalSeconds: config.archive.bufferingIntervalSeconds, sizeMiB: config.archive.bufferingSizeMiB },
        deliveryStreamName: `${config.name}-raw-archive`,
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
      return startSpeedLayer(settings, config);
  }
}

async function startSpeedLayer(settings: SandboxSettings, config: ReturnType<typeof sandboxPlatformConfig>['config']): Promise<Running> {
  Object.assign(process.env, sandboxSpeedLayerEnvironment(settings));
  // Loaded after the environment is set: the handler reads it once at init, as on Lambda.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../../lambdas/speed-layer/index') as typeof import('../../lambdas/speed-layer/index');
  const log = openLog(settings);
  const mapping = new EventSourceMapping({
    reader: log.reader(SPEED_LAYER_READER),
    format: eventFormatFor(settings),
    handler: handler as MappingHandler<unknown>,
    options: mappingOptionsFromConfig(config.speedLayer),
    onFailureDir: sandboxDirs(settings).onFailure,
    functionArn: sandboxArns(settings).functionArn,
  });
  await mapping.start();
  return {
    status: () => mapping.status() as unknown as Promise<Record<string, unknown>>,
    stop: async () => {
      await mapping.stop();
      await log.close();
    },
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
