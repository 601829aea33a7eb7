import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PlatformConfig } from '../../lib/config';
import { expectedResults, type ExpectedResults } from '../../sandbox/expected';
import type { GeneratedWorkload } from '../../sandbox/generator';
import { makeWorkload } from '../../sandbox/run';
import { defaultSettings, type SandboxSettings } from '../../sandbox/settings';

export const REPO = path.resolve(__dirname, '..', '..');

/** Ports nothing listens on right now, from the OS (held together, so they are distinct). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Settings for a sandbox of a test's own: a temporary home and free ports, so it never meets a developer's sandbox. */
export async function testSettings(prefix: string, overrides: Partial<SandboxSettings> = {}): Promise<SandboxSettings> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const [kafka, kafkaController, kinesis, kinesisTls, s3, sns, dynamodb] = await freePorts(7);
  return defaultSettings(REPO, { home, ports: { kafka, kafkaController, kinesis, kinesisTls, s3, sns, dynamodb }, ...overrides });
}

/**
 * A spend-view row as one comparable string: its key, window (or session) bounds, count and amount in
 * cents. Works on the lake's rows (BIGINT and DECIMAL as strings) and the recomputation's alike.
 */
export function viewRowKey(row: Record<string, unknown>): string {
  const cents = Math.round(Number(row.total_amount) * 100);
  return `${row.card_id ?? row.customer_id}@${row.window_start ?? row.session_start}-${row.window_end ?? row.session_end ?? ''}:${row.txn_count}/${cents}`;
}

/** A short run's workload, the exact recomputation of its outputs, and the txnId prefix that scopes its rows. */
export interface PlannedRun {
  workload: GeneratedWorkload;
  expected: ExpectedResults;
  prefix: string;
}

/**
 * A workload with more fraud than the default, so a short run still has every rule several times, starting
 * 20 s before a minute (within the last minute): the first card-minutes end early enough in the run for
 * the watermark to close them.
 */
export function planShortRun(settings: SandboxSettings, config: PlatformConfig, options: { seed: number; rate: number; durationSeconds: number }): PlannedRun {
  const workload = makeWorkload(
    { ...options, startTime: Math.floor((Date.now() + 20_000) / 60_000) * 60_000 - 20_000, rates: { r1: 5, r2: 5, r3: 5 } },
    config,
  );
  const stream = config.streamProcessing;
  const expected = expectedResults(workload.records, { partitions: settings.shards, maxOutOfOrdernessMs: stream.maxOutOfOrdernessMs, allowedLatenessMs: stream.allowedLatenessMs });
  return { workload, expected, prefix: `${workload.groundTruth.runId}-` };
}
