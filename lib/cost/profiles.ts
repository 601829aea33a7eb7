import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../config/load';
import type { PlatformConfig } from '../config/schema';

export const CDK_JSON = path.resolve(__dirname, '..', '..', 'cdk.json');

/** Every profile in cdk.json, in file order, as its validated configuration, loaded exactly as synth loads it (lib/config/load.ts). */
export function loadProfiles(cdkJson: string = CDK_JSON): Map<string, PlatformConfig> {
  const profiles: unknown = JSON.parse(fs.readFileSync(cdkJson, 'utf8')).context?.profiles;
  if (typeof profiles !== 'object' || profiles === null || Array.isArray(profiles)) throw new Error(`${cdkJson} has no context.profiles`);
  const out = new Map<string, PlatformConfig>();
  for (const name of Object.keys(profiles)) {
    const context: Record<string, unknown> = { profiles, profile: name };
    out.set(name, loadConfig({ tryGetContext: (key: string) => context[key], getAllContext: () => context }).config);
  }
  return out;
}
