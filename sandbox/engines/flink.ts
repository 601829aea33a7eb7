import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureFlinkJar } from '../../lib/constructs/flink-application/flink-jar';
import { type SandboxSettings, sandboxDirs } from '../settings';
import { FLINK_MAIN_CLASS, flinkJavaOpens, flinkRuntimeClasspath } from './classpath';
import { log4j2Properties, writeEngineConfig } from './config';
import { requireJava } from './prerequisites';
import { ProcessRecord, Supervisor, processMarker } from './supervisor';

/**
 * The sandbox's stand-in for Managed Service for Apache Flink: the same
 * shaded jar, run by `java` with Flink's runtime (flink-apps' provided scope)
 * beside it, so `StreamExecutionEnvironment` starts a local MiniCluster in
 * that JVM. The job reads its property groups from `--properties <file>`
 * instead of the Managed Flink runtime.
 */

/**
 * What the job graph logs when the job is scheduled, `Job <name> (<id>) switched
 * from state CREATED to RUNNING.` (DefaultExecutionGraph, through the logger of
 * the ExecutionGraph interface).
 */
export const FLINK_RUNNING_LINE = /Job .* switched from state \w+ to RUNNING\./;

export interface FlinkJobOptions {
  /** The process (and log file) name, e.g. `flink-stream` or `flink-replay-v2`. */
  name: string;
  /** The job's property groups as JSON (the local stand-in for Managed Flink's runtime properties). */
  propertiesFile: string;
  /** Further job arguments, e.g. `['--checkpoints', dir, '--checkpoint-interval-ms', '5000']`. */
  extraArgs?: string[];
  /** The shaded jar. Default: built or reused by ensureFlinkJar. */
  jar?: string;
  /** JVM heap. Default 1g. */
  heap?: string;
  /** Added to the JVM's environment, e.g. the AWS SDK's endpoint settings. */
  env?: Record<string, string>;
  /** Default 120 s (the first run of a MiniCluster on two cores takes a while). */
  readyTimeoutMs?: number;
}

export interface JavaCommand {
  command: string;
  args: string[];
  marker: string;
}

/** The Flink JVMs' temporary directory, in the sandbox's home. */
export function flinkTempDir(settings: SandboxSettings): string {
  return path.join(sandboxDirs(settings).flink, 'tmp');
}

/** The Flink job's command line, given its classpath, `--add-opens` flags and log4j2 file. */
export function flinkJobCommand(
  settings: SandboxSettings,
  options: Pick<FlinkJobOptions, 'name' | 'propertiesFile' | 'extraArgs' | 'heap'>,
  classpath: string[],
  opens: string[],
  log4jFile: string,
): JavaCommand {
  const marker = processMarker(settings, options.name);
  const heap = options.heap ?? '1g';
  return {
    command: 'java',
    args: [
      marker,
      ...opens,
      `-Xmx${heap}`,
      '-XX:+ExitOnOutOfMemoryError',
      `-Dlog4j2.configurationFile=${log4jFile}`,
      // Flink unpacks its 21 MB RPC jar into the temporary directory and a killed JVM (the crash tests, `chaos
      // kill-flink`) leaves it there: keep it in the sandbox's home, removed with it, not in /tmp.
      `-Djava.io.tmpdir=${flinkTempDir(settings)}`,
      '-cp',
      classpath.join(path.delimiter),
      FLINK_MAIN_CLASS,
      '--properties',
      path.resolve(options.propertiesFile),
      ...(options.extraArgs ?? []),
    ],
    marker,
  };
}

/**
 * Starts a Flink job as its own JVM and resolves once the job is RUNNING
 * (from its log). The jar must be current: by default ensureFlinkJar builds
 * it with Maven when it is missing or older than flink-apps/src.
 */
export async function startFlinkJob(supervisor: Supervisor, settings: SandboxSettings, options: FlinkJobOptions): Promise<ProcessRecord> {
  requireJava();
  const jar = options.jar ?? ensureFlinkJar().path;
  const log4j = writeEngineConfig(
    settings,
    'flink-log4j2.properties',
    log4j2Properties(
      // The REST endpoint's address: the sandbox reads the Kinesis source's reader metrics there.
      ['org.apache.flink.runtime.executiongraph.ExecutionGraph', 'dev.tributary', 'org.apache.flink.runtime.dispatcher.DispatcherRestEndpoint'],
      // "Name collision: Group already contains a Metric ..." once per committer subtask; Hadoop's native-library notice.
      ['org.apache.flink.metrics', 'org.apache.flink.runtime.metrics', 'org.apache.hadoop'],
    ),
  );
  fs.mkdirSync(flinkTempDir(settings), { recursive: true });
  const { command, args, marker } = flinkJobCommand(settings, options, flinkRuntimeClasspath(jar), flinkJavaOpens(), log4j);
  return supervisor.start({
    name: options.name,
    command,
    args,
    marker,
    env: options.env,
    ready: { logLine: FLINK_RUNNING_LINE, timeoutMs: options.readyTimeoutMs ?? 120_000 },
  });
}
