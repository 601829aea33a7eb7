import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SandboxSettings } from '../settings';

/**
 * Each worker process writes its live counters to `<home>/status/<name>.json`
 * every two seconds; `up` shows them as they change and `status` reads them from
 * another terminal. Written atomically (temp file + rename), so a reader never
 * sees half a file.
 */

export interface WorkerStatus {
  name: string;
  pid: number;
  updatedAt: number;
  /** The worker's own counters, as its stand-in reports them. */
  counters: Record<string, unknown>;
}

export function statusDir(settings: SandboxSettings): string {
  return path.join(settings.home, 'status');
}

export function writeStatus(settings: SandboxSettings, name: string, counters: Record<string, unknown>): void {
  const dir = statusDir(settings);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  const status: WorkerStatus = { name, pid: process.pid, updatedAt: Date.now(), counters };
  fs.writeFileSync(tmp, JSON.stringify(status));
  fs.renameSync(tmp, file);
}

export function readStatus(settings: SandboxSettings, name: string): WorkerStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(statusDir(settings), `${name}.json`), 'utf8')) as WorkerStatus;
  } catch {
    return undefined;
  }
}
