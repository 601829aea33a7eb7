import { SandboxPorts, SandboxSettings } from '../settings';
import { startKafka } from './kafka';
import { startKinesis } from './kinesis';
import { portClaims } from './ports';
import { requireJava, requireKinesisLocal } from './prerequisites';
import { ensureBucket, startS3 } from './s3';
import { ProcessRecord, Supervisor, assertPortsFree } from './supervisor';

/**
 * The sandbox's engines as local processes: S3Proxy for the lake and the
 * event log the settings choose (a Kafka broker or kinesis-local). The Flink
 * job is started separately (startFlinkJob), once the log and bucket exist.
 */

export * from './errors';
export * from './supervisor';
export * from './classpath';
export * from './ports';
export { requireJava, requireMaven, requireKinesisLocal } from './prerequisites';
export { engineConfigDir } from './config';
export { startKafka, kafkaBootstrap, kafkaServerProperties, kafkaFormatted, KAFKA_ENGINE } from './kafka';
export { startKinesis, kinesisEnvironment, KINESIS_ENGINE } from './kinesis';
export { startS3, ensureBucket, s3ClientConfig, s3ProxyConfig, S3_ENGINE } from './s3';
export { startFlinkJob, flinkJobCommand, FLINK_RUNNING_LINE } from './flink';
export type { FlinkJobOptions, JavaCommand } from './flink';

export interface StartedEngines {
  s3: ProcessRecord;
  /** The event log's engine: `kafka` or `kinesis-local`. */
  log: ProcessRecord;
  /** Processes of a crashed earlier run in this home that were found and stopped first. */
  leftovers: ProcessRecord[];
  /** Milliseconds from spawn to ready, per engine. */
  startupMs: Record<string, number>;
}

/** The ports the engines for `settings.log` will take. */
export function enginePorts(settings: SandboxSettings): (keyof SandboxPorts)[] {
  return settings.log === 'kafka' ? ['s3', 'kafka', 'kafkaController'] : ['s3', 'kinesis', 'kinesisTls'];
}

/**
 * Checks prerequisites and ports, stops a crashed run's leftovers, then starts
 * S3Proxy (and creates the lake bucket) and the log's engine side by side.
 * Each engine resumes from what `settings.home` already holds. If one fails,
 * the others this call started are stopped before the error is thrown.
 */
export async function startEngines(settings: SandboxSettings, supervisor: Supervisor): Promise<StartedEngines> {
  requireJava();
  if (settings.log === 'kinesis') requireKinesisLocal(settings.repoRoot);
  const leftovers = await supervisor.clearLeftovers();
  await assertPortsFree(portClaims(settings, enginePorts(settings)));

  const startupMs: Record<string, number> = {};
  const timed = async (name: string, start: () => Promise<ProcessRecord>) => {
    const began = Date.now();
    const record = await start();
    startupMs[name] = Date.now() - began;
    return record;
  };
  const starts = [
    timed('s3proxy', async () => {
      const record = await startS3(supervisor, settings);
      await ensureBucket(settings);
      return record;
    }),
    settings.log === 'kafka' ? timed('kafka', () => startKafka(supervisor, settings)) : timed('kinesis-local', () => startKinesis(supervisor, settings)),
  ];
  const results = await Promise.allSettled(starts);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const result of results) if (result.status === 'fulfilled') await supervisor.stop(result.value.name);
    throw failed.reason;
  }
  const [s3, log] = results.map((r) => (r as PromiseFulfilledResult<ProcessRecord>).value);
  return { s3, log, leftovers, startupMs };
}
