import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureFlinkJar } from '../lib/constructs/flink-application/flink-jar';
import type { PlatformConfig } from '../lib/config';
import { LakePrefix } from '../lib/lake-layout';
import { isStillOurs, KAFKA_ENGINE, KINESIS_ENGINE, S3_ENGINE, startKafka, startKinesis, startS3, type ProcessRecord, type Supervisor } from './engines';
import { openLog } from './log';
import { FLINK_PROCESS, flinkProcessName, startFlinkVersion, startWorker } from './session';
import { sandboxDirs, type SandboxSettings } from './settings';
import { RAW_ARCHIVE_READER } from './stand-ins/archiver';
import { SPEED_LAYER_READER, WORKERS, type WorkerName } from './workers/main';

/**
 * Faults injected into a running sandbox, so that a learner (`npm run sandbox -- chaos <fault>`) and the
 * fault suite (test/sandbox/faults/) break the same things the same way and watch the platform recover.
 * Each fault finds its process in processes.json, so it works from the process that started the sandbox
 * and from any other terminal; a process it restarts is started the way the sandbox starts it, and is
 * recorded there too (so `down` and Ctrl-C of `up` still stop it). What each fault shows, and what the
 * managed service guarantees under it, is in docs/faults.md.
 */

export const FAULTS = {
  'kill-flink': "SIGKILL the Flink job's process, then start it again: it restores from its newest checkpoint",
  'restart-log': "stop the event log's engine (the Kafka broker or kinesis-local), leave it down a while, start it again",
  'kill-speed-layer': "SIGKILL the speed layer's event source mapping after an S3 write of a batch it has not committed; start it again",
  'kill-archiver': 'SIGKILL the raw archive in the middle of a flush (its intent saved, an object of it written, not committed); start it again',
  'restart-s3': 'stop S3Proxy, leave it down a while, start it again',
  'fill-disk': 'fill the filesystem under the lake until writes fail (ENOSPC), hold it full a while, free it',
} as const;
export type FaultName = keyof typeof FAULTS;

export function isFault(name: string): name is FaultName {
  return Object.prototype.hasOwnProperty.call(FAULTS, name);
}

/** The sandbox a fault is injected into. `supervisor` is the sandbox's own, or a new one for its home (CLI). */
export interface ChaosTarget {
  settings: SandboxSettings;
  config: PlatformConfig;
  supervisor: Supervisor;
}

export interface FaultOptions {
  /** How long a stopped engine stays down, or the disk stays full; default 5 s. */
  downMs?: number;
  /** How long to wait for the moment a kill is aimed at (a batch write, a flush); default 90 s. */
  waitMs?: number;
  /** Refuse to fill a filesystem with more free space than this; default 1 GiB (it is not meant for a laptop's disk). */
  maxFillBytes?: number;
  /** Told of each step. */
  say?: (line: string) => void;
}

export interface FaultReport {
  fault: FaultName;
  /** When the fault began and when what it broke was back (epoch ms). */
  injectedAt: number;
  recoveredAt: number;
  /** What the fault hit and saw, for the learner and the test's assertions. */
  details: Record<string, unknown>;
}

/** Inject one fault and wait until what it broke is running again (or the disk is freed). */
export async function injectFault(target: ChaosTarget, fault: FaultName, options: FaultOptions = {}): Promise<FaultReport> {
  const injectedAt = Date.now();
  const details = await FAULT_STEPS[fault](target, options);
  return { fault, injectedAt, recoveredAt: Date.now(), details };
}

const FAULT_STEPS: Record<FaultName, (target: ChaosTarget, options: FaultOptions) => Promise<Record<string, unknown>>> = {
  'kill-flink': (target, options) => killFlink(target, options),
  'restart-log': (target, options) => stopAndStart(target, target.settings.log === 'kafka' ? KAFKA_ENGINE : KINESIS_ENGINE, options),
  'restart-s3': (target, options) => stopAndStart(target, S3_ENGINE, options),
  'kill-speed-layer': (target, options) => killSpeedLayerMidBatch(target, options),
  'kill-archiver': (target, options) => killArchiverMidFlush(target, options),
  'fill-disk': (target, options) => fillDisk(sandboxDirs(target.settings).lake, options),
};

/** The live process of that name, from processes.json. */
export function liveProcess(target: ChaosTarget, name: string): ProcessRecord {
  const record = target.supervisor.recorded().find((r) => r.name === name && isStillOurs(r));
  if (!record) throw new Error(`${name} is not running in ${target.settings.home}: nothing to inject the fault into (is the sandbox up?)`);
  return record;
}

/** SIGKILL the process group at once (no shutdown hook runs) and wait until it is gone. */
export async function killProcess(target: ChaosTarget, record: ProcessRecord): Promise<void> {
  try {
    process.kill(-record.pid, 'SIGKILL');
  } catch {
    process.kill(record.pid, 'SIGKILL');
  }
  // Gone from /proc, and (for the supervisor that started it) its exit seen, so it can be started again.
  while (isStillOurs(record) || target.supervisor.running().some((r) => r.pid === record.pid)) await sleep(20);
}

/** Start a process again as the sandbox starts it, from what its record says. */
export async function restartProcess(target: ChaosTarget, record: ProcessRecord): Promise<ProcessRecord> {
  const { supervisor, settings, config } = target;
  if (record.name === S3_ENGINE) return startS3(supervisor, settings);
  if (record.name === KAFKA_ENGINE) return startKafka(supervisor, settings);
  if (record.name === KINESIS_ENGINE) return startKinesis(supervisor, settings);
  if ((WORKERS as readonly string[]).includes(record.name)) return startWorker(supervisor, settings, record.name as WorkerName);
  const version = flinkVersionOf(record.name);
  if (version !== undefined) {
    const flag = record.command.indexOf('--checkpoint-interval-ms');
    const checkpointIntervalMs = flag >= 0 ? Number(record.command[flag + 1]) : undefined;
    return startFlinkVersion(supervisor, settings, config, { version, checkpointIntervalMs }, ensureFlinkJar().path);
  }
  throw new Error(`chaos does not know how to start ${record.name} again`);
}

function flinkVersionOf(name: string): number | undefined {
  const match = new RegExp(`^${FLINK_PROCESS}-v(\\d+)$`).exec(name);
  return match ? Number(match[1]) : undefined;
}

/** A stop as an operator's restart does it (SIGTERM, the engine's own shutdown), down for `downMs`, then started again. */
async function stopAndStart(target: ChaosTarget, name: string, options: FaultOptions): Promise<Record<string, unknown>> {
  const say = options.say ?? (() => undefined);
  const record = liveProcess(target, name);
  say(`stopping ${name} (pid ${record.pid})`);
  await target.supervisor.stop(name);
  const stoppedAt = Date.now();
  await sleep(options.downMs ?? 5000);
  say(`starting ${name} again`);
  const started = await restartProcess(target, record);
  return { process: name, pid: started.pid, downMs: Date.now() - stoppedAt };
}

/** A complete checkpoint of a Flink job: its folder, and when its `_metadata` was written (epoch ms). */
export interface Checkpoint {
  dir: string;
  completedAt: number;
}

/** Where the stream job of `version` keeps its checkpoints (startFlinkVersion). */
export function checkpointsDir(settings: SandboxSettings, version: number): string {
  return path.join(sandboxDirs(settings).flink, `v${version}`, 'checkpoints');
}

/** The newest complete checkpoint under `root` (the one a restarted job restores from: LaunchOptions.latestCheckpoint). */
export function newestCheckpoint(root: string): Checkpoint | undefined {
  let newest: Checkpoint | undefined;
  if (!fs.existsSync(root)) return undefined;
  for (const job of fs.readdirSync(root)) {
    let entries: string[];
    try {
      entries = fs.readdirSync(path.join(root, job));
    } catch {
      continue;
    }
    for (const chk of entries.filter((e) => e.startsWith('chk-'))) {
      try {
        const completedAt = fs.statSync(path.join(root, job, chk, '_metadata')).mtimeMs;
        if (!newest || completedAt > newest.completedAt) newest = { dir: path.join(root, job, chk), completedAt };
      } catch {
        // Not complete yet, or deleted as a newer one completed.
      }
    }
  }
  return newest;
}

export interface FlinkCrash {
  version: number;
  /** The newest complete checkpoint once the job was dead: the one it must restore from. */
  restoreFrom?: Checkpoint;
  /** What the restarted job's log says it restored from. */
  restoredFrom?: string;
  killedAt: number;
  restartMs: number;
}

/**
 * SIGKILL the stream job (the serving version's, or `version`) and start it again, as Managed Flink restarts
 * an application from its latest checkpoint. Returns which checkpoint was newest and which one the job says it
 * restored from.
 */
export async function killFlink(target: ChaosTarget, options: FaultOptions & { version?: number } = {}): Promise<FlinkCrash & Record<string, unknown>> {
  const say = options.say ?? (() => undefined);
  const record = options.version !== undefined
    ? liveProcess(target, flinkProcessName(options.version))
    : target.supervisor.recorded().find((r) => flinkVersionOf(r.name) !== undefined && isStillOurs(r));
  if (!record) throw new Error(`no Flink stream job is running in ${target.settings.home}`);
  const version = flinkVersionOf(record.name)!;
  say(`SIGKILL ${record.name} (pid ${record.pid})`);
  await killProcess(target, record);
  const killedAt = Date.now();
  const restoreFrom = newestCheckpoint(checkpointsDir(target.settings, version));
  const logStart = fs.statSync(record.logFile).size;
  say(`starting ${record.name} again${restoreFrom ? `; its newest checkpoint is ${restoreFrom.dir}` : ' (it has no checkpoint yet)'}`);
  await restartProcess(target, record);
  const restartMs = Date.now() - killedAt;
  const restoredFrom = /Restoring from checkpoint (\S+)/.exec(readFrom(record.logFile, logStart))?.[1];
  return { version, restoreFrom, restoredFrom, killedAt, restartMs };
}

/** A file's text from byte `start` on. */
function readFrom(file: string, start: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const text = Buffer.alloc(Math.max(0, fs.fstatSync(fd).size - start));
    fs.readSync(fd, text, 0, text.length, start);
    return text.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** The next object the speed layer writes under `dir` (inotify, so it is seen at once). */
function nextWrite(dir: string, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`the speed layer wrote nothing under ${dir} within ${timeoutMs / 1000} s: is anything being produced?`));
    }, timeoutMs);
    const watcher = fs.watch(dir, { recursive: true }, (_event, name) => {
      if (!name || !name.endsWith('.json') || !fs.existsSync(path.join(dir, name))) return;
      clearTimeout(timer);
      watcher.close();
      resolve(path.join(dir, name));
    });
  });
}

/**
 * The speed layer's mapping commits a batch's position only after the handler returned, and the handler
 * writes a batch's objects in parallel, each named `<shard>-<first sequence number of its segment>`. So on
 * a new object the worker is frozen (SIGSTOP) and its mapping's committed position read: if the object's
 * first record is past it, the batch is in the middle of its writes, and the worker is killed; otherwise
 * (the batch finished in between) it goes on (SIGCONT) until the next write. The mapping started again
 * re-reads from the committed position and the handler writes the batch again under the same keys.
 */
async function killSpeedLayerMidBatch(target: ChaosTarget, options: FaultOptions): Promise<Record<string, unknown>> {
  const say = options.say ?? (() => undefined);
  const record = liveProcess(target, 'speed-layer');
  const dir = path.join(sandboxDirs(target.settings).lake, LakePrefix.speed);
  fs.mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + (options.waitMs ?? 90_000);
  const log = openLog(target.settings);
  try {
    say(`waiting for the speed layer to write an object under ${dir}`);
    for (let tries = 1; ; tries++) {
      const written = await nextWrite(dir, Math.max(1, deadline - Date.now()));
      process.kill(-record.pid, 'SIGSTOP');
      const [, shard, first] = /^(.+)-(\d+)\.json$/.exec(path.basename(written)) ?? [];
      let unit: string | undefined;
      let committed: string | undefined;
      try {
        // A fresh reader each time: it reads the committed positions as they are now (Kinesis keeps them in a file).
        const reader = log.reader(SPEED_LAYER_READER);
        unit = (await reader.units()).find((u) => shard === u || shard === `${target.settings.streamName}-${u}`);
        committed = unit === undefined ? undefined : await reader.committed(unit);
      } catch (error) {
        process.kill(-record.pid, 'SIGCONT');
        throw error;
      }
      if (unit !== undefined && (committed === undefined || BigInt(committed) < BigInt(first))) {
        await killProcess(target, record);
        const killedAt = Date.now();
        say(`killed the speed layer (pid ${record.pid}) after it wrote ${written}, its batch not committed (unit ${unit} at ${committed ?? 'nothing'}); starting it again`);
        await restartProcess(target, record);
        return { process: 'speed-layer', killedAt, writtenBeforeKill: written, committedAtKill: committed ?? null, tries };
      }
      process.kill(-record.pid, 'SIGCONT');
    }
  } finally {
    await log.close();
  }
}

/** The archiver's intent file: present from before a flush's first write until its positions are committed. */
export function archiverIntentFile(settings: SandboxSettings): string {
  return path.join(sandboxDirs(settings).positions, `archiver-${RAW_ARCHIVE_READER}.intent.json`);
}

/** The data objects of the flush named `name` that are in the lake now. */
function flushObjects(lake: string, name: string): string[] {
  const raw = path.join(lake, LakePrefix.raw);
  if (!fs.existsSync(raw)) return [];
  return fs.readdirSync(raw, { recursive: true, encoding: 'utf8' }).filter((f) => path.basename(f) === `${name}.parquet`).map((f) => path.join(raw, f));
}

/**
 * The archive saves its intent (the buffer's log ranges and the objects' name) before it writes a flush's
 * objects, and removes it after committing the positions. A kill while the intent is there, once one object
 * of the flush is written, is a crash in the middle of a flush.
 */
async function killArchiverMidFlush(target: ChaosTarget, options: FaultOptions): Promise<Record<string, unknown>> {
  const say = options.say ?? (() => undefined);
  const record = liveProcess(target, 'raw-archive');
  const intentFile = archiverIntentFile(target.settings);
  const lake = sandboxDirs(target.settings).lake;
  const deadline = Date.now() + (options.waitMs ?? 90_000);
  say(`waiting for the raw archive to begin a flush (${intentFile})`);
  for (;;) {
    if (Date.now() > deadline) throw new Error(`the raw archive began no flush within ${(options.waitMs ?? 90_000) / 1000} s (its buffering interval is ${target.config.archive.bufferingIntervalSeconds} s)`);
    let name: string | undefined;
    try {
      name = (JSON.parse(fs.readFileSync(intentFile, 'utf8')) as { name: string }).name;
    } catch {
      // No flush under way (or its intent half written).
    }
    const objects = name ? flushObjects(lake, name) : [];
    if (name && objects.length > 0 && fs.existsSync(intentFile)) {
      await killProcess(target, record);
      const killedAt = Date.now();
      const intentAfterKill = fs.existsSync(intentFile);
      say(`killed the raw archive (pid ${record.pid}) in flush ${name}, ${objects.length} of its object(s) written; starting it again`);
      await restartProcess(target, record);
      return { process: 'raw-archive', killedAt, flush: name, objectsBeforeKill: objects, intentAfterKill };
    }
    await sleep(name ? 2 : 20);
  }
}

/** What a fill leaves behind while it holds, hidden from listings (a dot file, as the lake's readers skip them). */
const FILLER = '.chaos-disk-filler';

/**
 * Fill the filesystem `dir` is on with one file until a write fails with ENOSPC, hold it full for `downMs`,
 * then delete the file. Refuses a filesystem with more free space than `maxFillBytes`: mount a small tmpfs on
 * the lake first (docs/faults.md says how).
 */
export async function fillDisk(dir: string, options: FaultOptions = {}): Promise<Record<string, unknown>> {
  const say = options.say ?? (() => undefined);
  const max = options.maxFillBytes ?? 1024 ** 3;
  const stats = fs.statfsSync(dir);
  const free = stats.bavail * stats.bsize;
  if (free > max) {
    throw new Error(
      `the filesystem under ${dir} has ${(free / 1024 ** 2).toFixed(0)} MiB free, more than fill-disk fills (${(max / 1024 ** 2).toFixed(0)} MiB): ` +
        `mount a small one on the lake first, e.g. \`mount -t tmpfs -o size=256m tmpfs ${dir}\` before \`up\` (docs/faults.md)`,
    );
  }
  const filler = path.join(dir, FILLER);
  const chunk = Buffer.alloc(1024 * 1024, 0xaa);
  const fd = fs.openSync(filler, 'w');
  let filled = 0;
  let full = false;
  try {
    say(`filling ${dir} (${(free / 1024 ** 2).toFixed(0)} MiB free)`);
    while (!full) {
      try {
        // The last write that fits is short; the one after it fails.
        filled += fs.writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        full = true;
      }
    }
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(filler, { force: true });
    throw error;
  }
  const fullAt = Date.now();
  const left = fs.statfsSync(dir);
  say(`${dir} is full (${(filled / 1024 ** 2).toFixed(1)} MiB written); holding it ${(options.downMs ?? 5000) / 1000} s`);
  try {
    // Writers free space too (an object overwritten, a temporary file removed): take it back at once.
    while (Date.now() - fullAt < (options.downMs ?? 5000)) {
      try {
        filled += fs.writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        await sleep(20);
      }
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(filler, { force: true });
  }
  say(`freed ${dir}`);
  return { dir, filledBytes: filled, freeWhileFull: left.bavail * left.bsize, fullMs: Date.now() - fullAt };
}
