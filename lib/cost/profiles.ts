import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig } from '../config/defaults';
import { type PlatformConfig, platformConfigSchema } from '../config/schema';

/**
 * The profiles of cdk.json as configurations, without CDK: the defaults, then the profile, validated by the
 * same schema synth uses (lib/config/load.ts does the same with `-c` overrides on top).
 */

export const CDK_JSON = path.resolve(__dirname, '..', '..', 'cdk.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

function merge(base: JsonObject, override: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? merge(current, value) : value;
  }
  return out;
}

/** Every profile in cdk.json, in file order, as its validated configuration. */
export function loadProfiles(cdkJson: string = CDK_JSON): Map<string, PlatformConfig> {
  const profiles: unknown = JSON.parse(fs.readFileSync(cdkJson, 'utf8')).context?.profiles;
  if (!isObject(profiles)) throw new Error(`${cdkJson} has no context.profiles`);
  const out = new Map<string, PlatformConfig>();
  for (const [name, profile] of Object.entries(profiles)) {
    if (!isObject(profile)) throw new Error(`profile '${name}' in ${cdkJson} is not an object`);
    const result = platformConfigSchema.safeParse(merge(defaultConfig as unknown as JsonObject, profile));
    if (!result.success) throw new Error(`profile '${name}' is not a valid configuration (npm run plan -- ${name} says why)`);
    out.set(name, result.data);
  }
  return out;
}
