import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PlatformConfig } from '../../lib/config';
import { sandboxDirs, type SandboxSettings } from '../settings';

/**
 * Which output version of the stream views is served: the sandbox's stand-in
 * for the cloud's serving views (`CREATE OR REPLACE VIEW serving_<view> ...
 * WHERE v = '<n>'`). One small JSON file, replaced with a rename, which is
 * atomic on a POSIX filesystem: a reader sees the old pointer or the new one,
 * never half a file. DuckDB binds it once when it opens the lake, so every
 * query of that session reads one version whole.
 */

export interface ServingVersion {
  version: number;
  /** The version served before the last switch, kept (not deleted) so a rollback is one switch back. */
  previous?: number;
  switchedAt?: string;
  reason?: string;
}

export function servingVersionFile(settings: SandboxSettings): string {
  // Beside the lake, not in it: this is the catalog's state, not data.
  return path.join(sandboxDirs(settings).home, 'serving', 'version.json');
}

export function readServingVersion(settings: SandboxSettings): ServingVersion | undefined {
  return readPointer<ServingVersion>(servingVersionFile(settings));
}

/** The served version: the pointer if a switch ever happened, else the profile's `streamProcessing.outputVersion`. */
export function servingVersion(settings: SandboxSettings, config: PlatformConfig): ServingVersion {
  return readServingVersion(settings) ?? { version: config.streamProcessing.outputVersion };
}

/** Replace `file` with `value` as JSON in one rename: readers see the old pointer or the new one. */
export function writePointer(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** Read a pointer file; undefined if it was never written. */
export function readPointer<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Point serving at `next.version`, atomically. */
export function switchServingVersion(settings: SandboxSettings, next: ServingVersion): void {
  writePointer(servingVersionFile(settings), next);
}
