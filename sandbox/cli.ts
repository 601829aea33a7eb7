import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { PORT_FLAGS, SandboxAlreadyRunningError, stopRecorded, Supervisor, isStillOurs } from './engines';
import { sandboxPlatformConfig } from './platform-config';
import { makeWorkload, readProgress, runWorkload, progressLine } from './run';
import { flinkConsumerGroup, FLINK_PROCESS, readSettings, startSandbox, type Sandbox } from './session';
import { printAlerts } from './alerts';
import { formatReplay, replay } from './replay';
import { readServingVersion, servingVersion, switchServingVersion } from './serving/version';
import { openLog } from './log';
import { openLakeSql } from './serving/lake-sql';
import { formatCsv, formatJson, formatTable, type QueryColumn, type Row } from './serving/format';
import { formatBatch, readBatchRun, runBatch, servedBatchRun } from './batch';
import { defaultSettings, sandboxDirs, type LogKind, type SandboxPorts, type SandboxSettings } from './settings';
import { WORKERS } from './workers/main';
import { readStatus } from './workers/status';
import { DEFAULT_CONSOLE_PORT, startConsole } from './console/server';
import { LESSON_CHECKPOINT_INTERVAL_MS, LESSONS, runLesson, selectLessons } from './lessons';
import { FAULTS, injectFault, isFault } from './chaos';

/**
 * `sandbox up | produce | query | status | chaos | down`: the whole architecture on
 * one machine. `npm start` is `sandbox up --exit`: start everything, produce a
 * generated workload, wait for every path, print the summary, stop.
 */

const REPO_ROOT = path.resolve(__dirname, '..');

const positiveNumber = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number.`);
  return n;
};
const integer = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be an integer.`);
  return n;
};

interface CommonOptions {
  home?: string;
  log?: LogKind;
  kafkaPort?: number;
  kafkaControllerPort?: number;
  kinesisPort?: number;
  kinesisTlsPort?: number;
  s3Port?: number;
  snsPort?: number;
  dynamodbPort?: number;
}

function withCommon(command: Command): Command {
  command
    .option('--home <dir>', 'where the sandbox keeps its state (a second `up` resumes from it)', path.join(REPO_ROOT, '.sandbox'))
    .addOption(new Option('--log <kind>', 'the event log: a Kafka broker or kinesis-local').choices(['kafka', 'kinesis']));
  for (const [key, flag] of Object.entries(PORT_FLAGS)) {
    command.option(`${flag} <port>`, `port of ${key}`, integer(flag));
  }
  return command;
}

/** Settings from flags, over those the home was last started with, over the defaults. */
function settingsFrom(options: CommonOptions): SandboxSettings {
  const home = path.resolve(options.home ?? path.join(REPO_ROOT, '.sandbox'));
  const previous = readSettings(home);
  const base = previous ? { ...defaultSettings(REPO_ROOT), ...previous, repoRoot: REPO_ROOT, home } : defaultSettings(REPO_ROOT, { home });
  const ports: SandboxPorts = { ...base.ports };
  const flagged: Record<keyof SandboxPorts, number | undefined> = {
    kafka: options.kafkaPort,
    kafkaController: options.kafkaControllerPort,
    kinesis: options.kinesisPort,
    kinesisTls: options.kinesisTlsPort,
    s3: options.s3Port,
    sns: options.snsPort,
    dynamodb: options.dynamodbPort,
  };
  for (const [key, value] of Object.entries(flagged)) if (value !== undefined) ports[key as keyof SandboxPorts] = value;
  return { ...base, log: options.log ?? base.log, ports };
}

interface RunFlags {
  rate: number;
  duration: number;
  seed: number;
  fromFile?: string;
}

function withRun(command: Command): Command {
  return command
    .option('--rate <n>', 'records per second', positiveNumber('--rate'), 200)
    .option('--duration <seconds>', 'how long to produce', positiveNumber('--duration'), 90)
    .option('--seed <n>', 'seed of the generated workload (the same seed and start give the same records)', integer('--seed'), 42)
    .option('--from-file <ndjson>', 'produce the records of a recorded NDJSON file instead (no ground truth)');
}

function checkFile(file: string | undefined): void {
  if (file && !fs.existsSync(file)) throw new InvalidArgumentError(`--from-file: no such file: ${file}`);
}

async function up(options: CommonOptions & RunFlags & { produce: boolean; flink: boolean; exit: boolean; profile?: string; console: boolean; consolePort: number }) {
  checkFile(options.fromFile);
  const settings = settingsFrom(options);
  const { config } = sandboxPlatformConfig(REPO_ROOT, { profile: options.profile });
  const workload = options.produce && !options.fromFile ? makeWorkload({ ...options, durationSeconds: options.duration }, config) : undefined;
  console.log(`Starting the sandbox in ${settings.home} (log: ${settings.log}) ...`);
  const began = Date.now();
  let sandbox: Sandbox | undefined;
  const stopSignals = (() => {
    // Until the supervisor owns the processes, Ctrl-C must still stop what has started.
    const early = new Supervisor(settings);
    return early.handleSignals(() => console.log('\nStopping every process of the sandbox ...'));
  })();
  try {
    sandbox = await startSandbox(settings, {
      cards: workload?.groundTruth.cards,
      flink: options.flink,
      profile: options.profile,
      onProgress: (message) => console.log(`  ${message}`),
    });
  } finally {
    stopSignals();
  }
  sandbox.supervisor.handleSignals(() => console.log('\nStopping every process of the sandbox ...'));
  sandbox.supervisor.onUnexpectedExit((record, code, signal) => {
    console.error(`\n${record.name} exited unexpectedly (${signal ?? `code ${code}`}); its log: ${record.logFile}`);
  });
  console.log(`Sandbox up in ${((Date.now() - began) / 1000).toFixed(0)} s. Stop it with Ctrl-C (or \`npm run sandbox -- down\` elsewhere).`);
  let web: Awaited<ReturnType<typeof startConsole>> | undefined;
  if (options.console) {
    // The web console (sandbox/console), gone with this process; failing to start it (say, its port is taken) does not stop the sandbox.
    const running = sandbox;
    try {
      web = await startConsole({ settings, config, profile: options.profile ?? 'dev', flink: () => running.flink, log: running.log, port: options.consolePort });
      console.log(`Console: ${web.url}`);
    } catch (error) {
      console.error(`The web console did not start on 127.0.0.1:${options.consolePort} (${(error as Error).message}); use --console-port or --no-console.`);
    }
  }
  if (options.produce) {
    await runWorkload(sandbox, {
      rate: options.rate,
      durationSeconds: options.duration,
      seed: options.seed,
      fromFile: options.fromFile,
      workload,
      stopArchiveWhenCaughtUp: options.exit,
    });
  }
  if (options.produce && options.exit) {
    // The Lambda architecture's batch layer over what the run archived: batch up to its watermark, speed after.
    console.log(formatBatch(await runBatch(settings, sandbox.config)));
  }
  if (options.exit) {
    await web?.close();
    await sandbox.log.close();
    await sandbox.supervisor.stopAll();
    console.log('Sandbox stopped. Its state stays in', settings.home, '(the next `up` resumes from it).');
    return;
  }
  console.log('Running. `npm run sandbox -- status`, `... produce`, `... query "<sql>"` from another terminal; Ctrl-C to stop.');
  await new Promise(() => undefined);
}

/** The sandbox another `up` is running in this home, to work with from here; undefined when none is. */
function attachRunning(settings: SandboxSettings): Sandbox | undefined {
  const running = new Supervisor(settings).recorded().filter((r) => isStillOurs(r));
  if (!running.some((r) => r.name === 'speed-layer')) return undefined;
  const { config } = sandboxPlatformConfig(REPO_ROOT);
  const version = servingVersion(settings, config).version;
  const flinkRunning = running.some((r) => r.name.startsWith(FLINK_PROCESS));
  const sandbox: Sandbox = {
    settings,
    config,
    supervisor: new Supervisor(settings),
    log: openLog(settings),
    flink: flinkRunning ? { running: true, version, consumerGroup: settings.log === 'kafka' ? flinkConsumerGroup(version) : undefined } : { running: false, reason: 'not running in this sandbox' },
    startupMs: {},
  };
  return sandbox;
}

/** Produce into a sandbox another `up` is running, and summarize. */
async function produce(options: CommonOptions & RunFlags) {
  checkFile(options.fromFile);
  const settings = settingsFrom(options);
  const sandbox = attachRunning(settings);
  if (!sandbox) throw new Error(`No sandbox is running in ${settings.home}: start one with \`npm run sandbox -- up --no-produce\` first.`);
  try {
    await runWorkload(sandbox, { rate: options.rate, durationSeconds: options.duration, seed: options.seed, fromFile: options.fromFile });
  } finally {
    await sandbox.log.close();
  }
}

async function status(options: CommonOptions) {
  const settings = settingsFrom(options);
  if (!readSettings(settings.home)) {
    console.log(`No sandbox has run in ${settings.home}.`);
    return;
  }
  const records = new Supervisor(settings).recorded();
  const version = served(settings);
  const batch = readBatchRun(settings);
  console.log(`Sandbox in ${settings.home} (log: ${settings.log}), serving v=${version}; ${batch ? `batch run ${batch.run} up to ${new Date(batch.watermarkMs).toISOString()}` : 'no batch run yet'}`);
  if (records.length === 0) console.log('  nothing is running; the counters below are from the last run');
  for (const record of records) {
    const alive = isStillOurs(record);
    console.log(`  ${record.name.padEnd(14)} ${alive ? 'running' : 'stopped'}  pid ${record.pid}${record.ports.length ? `  ports ${record.ports.join(',')}` : ''}  log ${record.logFile}`);
  }
  const flinkRunning = records.some((r) => r.name.startsWith(FLINK_PROCESS) && isStillOurs(r));
  const progress = await readProgress({
    settings,
    flink: flinkRunning ? { running: true, version } : { running: false },
  });
  console.log(`  ${progressLine(0, 0, progress, flinkRunning).replace(/^in 0\/0 \| /, '')}`);
  for (const worker of WORKERS) {
    const s = readStatus(settings, worker);
    if (s) console.log(`  ${worker} counters (${new Date(s.updatedAt).toISOString()}): ${JSON.stringify(s.counters)}`);
  }
}

/** The served version of this home (the profile's outputVersion until a replay switched it). */
function served(settings: SandboxSettings): number {
  return servingVersion(settings, sandboxPlatformConfig(REPO_ROOT).config).version;
}

/**
 * Run SQL on the lake and print the result: an aligned table (times as ISO-8601 UTC, decimals exact), or
 * with `--json` / `--csv` the same values for scripts (sandbox/serving/format.ts).
 */
async function query(sql: string, options: CommonOptions & { json?: boolean; csv?: boolean }) {
  const settings = settingsFrom(options);
  const lake = await openLakeSql(sandboxDirs(settings).lake, { servedVersion: served(settings), batchRun: servedBatchRun(settings) });
  try {
    // The reader, not lake.query, so that the column types (BIGINT, DECIMAL, TIMESTAMP, ...) come with the rows.
    const reader = await lake.connection.runAndReadAll(sql);
    const types = reader.columnTypes();
    const columns: QueryColumn[] = reader.columnNames().map((name, i) => ({ name, type: types[i].toString() }));
    const rows = reader.getRowObjectsJson() as Row[];
    if (options.json) console.log(formatJson(columns, rows));
    else if (options.csv) process.stdout.write(formatCsv(columns, rows));
    else console.log(formatTable(columns, rows));
  } finally {
    lake.close();
  }
}

/** Start (resuming), replay from a timestamp into the next version, switch serving, retire the old one. */
async function replayCommand(options: CommonOptions & { from: string; reason?: string; keepRunning?: boolean; profile?: string }) {
  const settings = settingsFrom(options);
  console.log(`Starting the sandbox in ${settings.home} to replay (serving v=${served(settings)}) ...`);
  const sandbox = await startSandbox(settings, { profile: options.profile, onProgress: (message) => console.log(`  ${message}`) });
  sandbox.supervisor.handleSignals(() => console.log('\nStopping every process of the sandbox ...'));
  const result = await replay(sandbox, { from: options.from, reason: options.reason });
  console.log(formatReplay(result));
  if (!options.keepRunning) {
    await sandbox.log.close();
    await sandbox.supervisor.stopAll();
    if (!result.ok) process.exitCode = 1;
    return;
  }
  await new Promise(() => undefined);
}

/** Point serving at another version: a rollback after a replay is one switch back. */
async function serve(options: CommonOptions & { version: number }) {
  const settings = settingsFrom(options);
  const lake = await openLakeSql(sandboxDirs(settings).lake);
  try {
    const [row] = await lake.query(`SELECT count(*) AS n FROM views_spend_per_card_minute WHERE v = '${options.version}'`);
    if (Number(row.n) === 0) throw new InvalidArgumentError(`v=${options.version} has no rows in the lake: nothing to serve.`);
  } finally {
    lake.close();
  }
  const before = readServingVersion(settings)?.version ?? served(settings);
  switchServingVersion(settings, { version: options.version, previous: before, switchedAt: new Date().toISOString(), reason: 'sandbox serve' });
  console.log(`Serving v=${options.version} (was v=${before}). The next \`up\` runs the stream job of v=${options.version}.`);
}

/** One batch run on DuckDB over the lake as it is: recompute the batch views, switch the Lambda serving views. */
async function batchCommand(options: CommonOptions & { watermark?: string }) {
  const settings = settingsFrom(options);
  const { config } = sandboxPlatformConfig(REPO_ROOT);
  let watermarkMs: number | undefined;
  if (options.watermark !== undefined) {
    watermarkMs = Date.parse(options.watermark);
    if (Number.isNaN(watermarkMs) || watermarkMs % 60_000 !== 0) {
      throw new InvalidArgumentError(`--watermark must be an ISO-8601 instant on a whole minute, e.g. 2026-11-22T10:15:00Z; got '${options.watermark}'.`);
    }
  }
  console.log(formatBatch(await runBatch(settings, config, { watermarkMs })));
}

/** The alerts the notifier delivered to the SNS topic, from both paths, with the latency of each. */
async function alertsCommand(options: CommonOptions & { follow?: boolean; fromStart?: boolean }) {
  const settings = settingsFrom(options);
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  const printed = await printAlerts(settings, {
    follow: options.follow === true,
    fromStart: options.fromStart === true,
    out: (line) => console.log(line),
    signal: stop.signal,
  });
  if (!options.follow) console.log(`${printed} alerts delivered to ${settings.alertsTopicName} (in ${sandboxDirs(settings).sns}).`);
}

/**
 * Run lessons (sandbox/lessons, docs/lessons/): in the sandbox an `up` is running in this home, or else in
 * one started for them (resuming the home) and stopped after. A lesson whose point does not hold fails the command.
 */
async function lessonCommand(names: string[], options: CommonOptions) {
  const lessons = selectLessons(names);
  const settings = settingsFrom(options);
  let sandbox = attachRunning(settings);
  const own = !sandbox;
  const needOwn = lessons.filter((l) => l.ownSandbox).map((l) => l.name);
  if (sandbox && needOwn.length) {
    throw new Error(`The lesson(s) ${needOwn.join(', ')} kill or replace the stream job, which the running \`up\` owns: stop it (\`npm run sandbox -- down\`) and run them again, or run them with another --home.`);
  }
  if (!sandbox) {
    console.log(`Starting a sandbox in ${settings.home} for the lessons (log: ${settings.log}) ...`);
    sandbox = await startSandbox(settings, { flinkCheckpointIntervalMs: LESSON_CHECKPOINT_INTERVAL_MS, onProgress: (message) => console.log(`  ${message}`) });
    sandbox.supervisor.handleSignals(() => console.log('\nStopping every process of the sandbox ...'));
  } else {
    console.log(`Using the sandbox running in ${settings.home}.`);
  }
  try {
    for (const lesson of lessons) await runLesson(lesson, { sandbox, out: (line) => console.log(line) });
  } finally {
    await sandbox.log.close();
    if (own) await sandbox.supervisor.stopAll();
  }
}

/** Break one part of a running sandbox on purpose (sandbox/chaos.ts) and wait until it is back. */
async function chaos(fault: string, options: CommonOptions & { down: number; wait: number }) {
  if (!isFault(fault)) throw new InvalidArgumentError(`unknown fault '${fault}'; one of: ${Object.keys(FAULTS).join(', ')}`);
  const settings = settingsFrom(options);
  const supervisor = new Supervisor(settings);
  if (!supervisor.recorded().some((r) => isStillOurs(r))) {
    throw new Error(`No sandbox is running in ${settings.home}: start one with \`npm run sandbox -- up --no-produce\` (and produce from another terminal) first.`);
  }
  const { config } = sandboxPlatformConfig(REPO_ROOT);
  console.log(`chaos ${fault}: ${FAULTS[fault]}`);
  const report = await injectFault({ settings, config, supervisor }, fault, {
    downMs: options.down * 1000,
    waitMs: options.wait * 1000,
    say: (line) => console.log(`  ${line}`),
  });
  console.log(`Back after ${((report.recoveredAt - report.injectedAt) / 1000).toFixed(1)} s: ${JSON.stringify(report.details)}`);
  console.log('Watch the recovery with `npm run sandbox -- status`; docs/faults.md says what each path guarantees.');
}

async function down(options: CommonOptions) {
  const settings = settingsFrom(options);
  const stopped = await stopRecorded(settings);
  console.log(stopped.length ? `Stopped ${stopped.map((r) => r.name).join(', ')}.` : `Nothing of the sandbox in ${settings.home} was running.`);
}

export function program(): Command {
  const cli = new Command('sandbox').description('Tributary on one machine: real Kafka or kinesis-local, S3Proxy, Flink, DuckDB, and the stand-ins.');
  withRun(withCommon(cli.command('up')))
    .description('start everything, produce a generated workload, wait for every path and print a summary')
    .option('--no-produce', 'start and wait; produce from another terminal with `produce`')
    .option('--no-flink', 'do not start the Flink stream job')
    .option('--exit', 'stop everything once the summary is printed')
    .option('--profile <name>', 'configuration profile of cdk.json whose settings the sandbox runs', 'dev')
    .option('--console-port <port>', 'port of the web console on 127.0.0.1', integer('--console-port'), DEFAULT_CONSOLE_PORT)
    .option('--no-console', 'do not serve the web console')
    .action((options) => up(options));
  withRun(withCommon(cli.command('produce')))
    .description('produce a workload into a running sandbox, wait for every path and summarize')
    .action((options) => produce(options));
  withCommon(cli.command('query'))
    .description('run SQL on the lake through DuckDB: the Glue tables, the serving_ (Kappa) and lambda_ (Lambda) views')
    .argument('<sql>', 'the query')
    .option('--json', 'print rows as JSON (times as ISO-8601, BIGINT and DECIMAL as exact strings)')
    .addOption(new Option('--csv', 'print rows as CSV (RFC 4180; times as ISO-8601, decimals exact)').conflicts('json'))
    .action((sql, options) => query(sql, options));
  withCommon(cli.command('alerts'))
    .description('the real-time alerts delivered to subscribers (the SNS topic), from both paths, with each one\'s latency from produce')
    .option('--follow', 'keep printing each new alert as it is delivered (Ctrl-C stops)')
    .option('--from-start', 'with --follow, print the alerts delivered before the command started first')
    .action((options) => alertsCommand(options));
  withCommon(cli.command('replay'))
    .description('replay the log from a timestamp into the next output version, switch serving to it, retire the old one')
    .requiredOption('--from <instant>', 'ISO-8601 UTC instant to replay from, e.g. 2026-11-22T00:00:00Z')
    .option('--reason <text>', 'why, kept with the switch')
    .option('--keep-running', 'keep the sandbox running after the switch')
    .option('--profile <name>', 'configuration profile of cdk.json', 'dev')
    .action((options) => replayCommand(options));
  withCommon(cli.command('serve'))
    .description('serve another output version (a rollback after a replay)')
    .requiredOption('--version <n>', 'the output version to serve', integer('--version'))
    .action((options) => serve(options));
  withCommon(cli.command('batch'))
    .description('one batch-layer run: recompute the batch views from raw/ up to a watermark and point the lambda_ views at it')
    .option('--watermark <iso>', 'event time the run reads raw/ up to, a whole minute (default: now - batch.settleMinutes)')
    .action((options) => batchCommand(options));
  withCommon(cli.command('status')).description('processes, lag and counters of the sandbox').action((options) => status(options));
  withCommon(cli.command('lesson'))
    .description(`run lessons, short experiments that show one concept each and check it (docs/lessons/): ${LESSONS.map((l) => l.name).join(', ')}, or all`)
    .argument('[names...]', 'the lessons to run (default: all); they run in the order listed here')
    .action((names: string[], options) => lessonCommand(names, options));
  withCommon(cli.command('chaos'))
    .description(`inject a fault into a running sandbox and wait until it recovers: ${Object.keys(FAULTS).join(', ')} (docs/faults.md)`)
    .argument('<fault>', Object.entries(FAULTS).map(([name, what]) => `${name}: ${what}`).join('; '))
    .option('--down <seconds>', 'how long a stopped engine stays down, or the disk stays full', positiveNumber('--down'), 5)
    .option('--wait <seconds>', 'how long to wait for the moment a kill is aimed at (a batch write, a flush)', positiveNumber('--wait'), 90)
    .action((fault, options) => chaos(fault, options));
  withCommon(cli.command('down')).description('stop every process of the sandbox (from any terminal)').action((options) => down(options));
  return cli;
}

if (require.main === module) {
  program()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      const known = error instanceof Error && (error.name.endsWith('Error') || error instanceof SandboxAlreadyRunningError);
      console.error(`sandbox: ${known ? (error as Error).message : String(error)}`);
      if (process.env.SANDBOX_DEBUG) console.error(error);
      process.exit(1);
    });
}
