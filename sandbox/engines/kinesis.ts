import * as fs from 'node:fs';
import * as path from 'node:path';
import { SandboxSettings, sandboxDirs } from '../settings';
import { requireKinesisLocal } from './prerequisites';
import { ProcessRecord, Supervisor, processMarker, restoreLastGood } from './supervisor';

/**
 * The sandbox's stand-in for Kinesis Data Streams: kinesis-local (the npm
 * build of kinesis-mock) as a node process, plain HTTP on `ports.kinesis`.
 * The SDK v3 Kinesis client speaks HTTP/2 by default: clients of this
 * endpoint pass `requestHandler: new NodeHttpHandler()`.
 *
 * Persistence: kinesis-mock keeps its streams in memory and, with
 * SHOULD_PERSIST_DATA, writes all of them as one JSON file
 * (`<home>/kinesis/kinesis-data.json`) every PERSIST_INTERVAL and once more
 * when SIGTERM ends it, and loads it at start, so a second `up` resumes with
 * every stream and record. Two limits, found by trying:
 * - After SIGTERM it waits for clients' open (keep-alive) connections to
 *   close and stops its timed writes meanwhile; with a client still
 *   connected it neither exits nor writes. So stopping first waits for one
 *   complete timed write after the stop began (`flush`), keeps it as
 *   `kinesis-data.json.last-good`, then SIGTERM, then SIGKILL after a few
 *   seconds: nothing accepted before the stop is lost.
 * - It rewrites the file in place, so a kill in the middle of a write (the
 *   SIGTERM write of a large state outlasting the stop timeout, seen with
 *   16 shards and 18,000 records) leaves it cut short; the next start puts the
 *   last complete copy back first (`restoreLastGood`).
 * - A crash (SIGKILL without that wait) loses up to one interval (5 s). The whole
 *   state is rewritten every interval, so very large streams make it slow;
 *   records expire after the stream's retention (24 h by default) as on AWS.
 */

export const KINESIS_ENGINE = 'kinesis-local';

/**
 * How often kinesis-mock writes its state file. Each write serializes every stream whole, so its cost grows
 * with the records held: at 2 s it took about 45 % of kinesis-local's throughput once 12,000 records were
 * stored (bench/README.md). 5 s trades a longer crash window for throughput; a stop still waits for one write.
 */
export const KINESIS_PERSIST_INTERVAL_MS = 5000;

export function kinesisEnvironment(settings: SandboxSettings, main: string): Record<string, string> {
  const dirs = sandboxDirs(settings);
  return {
    KINESIS_MOCK_PLAIN_PORT: String(settings.ports.kinesis),
    KINESIS_MOCK_TLS_PORT: String(settings.ports.kinesisTls),
    // Read relative to the working directory otherwise, and the process runs in <home>/kinesis.
    KINESIS_MOCK_CERT_PATH: path.join(path.dirname(main), 'server.json'),
    AWS_REGION: settings.region,
    AWS_ACCOUNT_ID: settings.accountId,
    SHOULD_PERSIST_DATA: 'true',
    LOAD_DATA_IF_EXISTS: 'true',
    PERSIST_PATH: dirs.kinesis,
    PERSIST_INTERVAL: `${KINESIS_PERSIST_INTERVAL_MS}ms`,
    LOG_LEVEL: 'WARN',
  };
}

/** Starts kinesis-local and resolves once its plain HTTP port accepts connections. */
export async function startKinesis(supervisor: Supervisor, settings: SandboxSettings, options: { readyTimeoutMs?: number } = {}): Promise<ProcessRecord> {
  const main = requireKinesisLocal(settings.repoRoot);
  const dirs = sandboxDirs(settings);
  fs.mkdirSync(dirs.kinesis, { recursive: true });
  const marker = processMarker(settings, KINESIS_ENGINE);
  const state = path.join(dirs.kinesis, 'kinesis-data.json');
  if (restoreLastGood(state)) process.stderr.write(`kinesis-local: ${state} was cut short by a kill mid-write; restored the complete copy kept at the last stop\n`);
  return supervisor.start({
    name: KINESIS_ENGINE,
    command: process.execPath,
    // kinesis-local ignores arguments: the marker is there for /proc/<pid>/cmdline only.
    args: [main, marker],
    cwd: dirs.kinesis,
    env: kinesisEnvironment(settings, main),
    marker,
    ports: [settings.ports.kinesis, settings.ports.kinesisTls],
    flush: { file: state, timeoutMs: KINESIS_PERSIST_INTERVAL_MS + 5000 },
    stopTimeoutMs: 3000,
    ready: { port: settings.ports.kinesis, timeoutMs: options.readyTimeoutMs ?? 60_000 },
  });
}
