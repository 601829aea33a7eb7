import { RemovalPolicy } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import type { z } from 'zod';
import { defaultConfig } from './defaults';
import { platformConfigSchema, type PlatformConfig } from './schema';

/** The profile used when `-c profile=...` is not given. */
export const DEFAULT_PROFILE = 'dev';

/** Raised for any configuration problem; its message names the key, the value and the fix. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Deep merge where `override` wins; arrays and scalars are replaced whole. */
function merge(base: JsonObject, override: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? merge(current, value) : value;
  }
  return out;
}

/** `-c` values arrive as strings: read booleans and numbers as such, everything else as text. */
function coerce(raw: unknown): Json {
  if (typeof raw !== 'string') return raw as Json;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

/**
 * Context keys that override one configuration key, such as `speedLayer.batchSize`.
 * CDK's own context keys (feature flags like `@aws-cdk/...`, `aws:cdk:...`) never match.
 */
function dottedOverrides(context: Record<string, unknown>): JsonObject {
  const sections = new Set(Object.keys(defaultConfig));
  let overrides: JsonObject = {};
  for (const [key, raw] of Object.entries(context)) {
    if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$/.test(key)) continue;
    const path = key.split('.');
    if (!sections.has(path[0])) {
      throw new ConfigError(
        `Unknown configuration key '${key}' (given with -c). ` +
          `The first part must be one of: ${[...sections].sort().join(', ')}.`,
      );
    }
    const nested = path.reduceRight<Json>((value, segment) => ({ [segment]: value }), coerce(raw));
    overrides = merge(overrides, nested as JsonObject);
  }
  return overrides;
}

function describeAllowed(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return `must be ${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}`;
    case 'too_big':
      return `must be ${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}`;
    case 'invalid_value':
      return `allowed: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}; remove or correct them`;
    case 'invalid_type':
      return `expected ${issue.expected}`;
    default:
      return issue.message;
  }
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>((node, key) => (isObject(node) ? node[String(key)] : undefined), root);
}

/** Turns zod's issues into one message a person can act on, one line per bad key. */
function formatIssues(profile: string, candidate: unknown, issues: z.core.$ZodIssue[]): string {
  const lines = issues.map((issue) => {
    const key = issue.path.map(String).join('.') || '(root)';
    const value = issue.code === 'unrecognized_keys' ? undefined : valueAt(candidate, issue.path);
    const shown = value === undefined ? '' : ` = ${JSON.stringify(value)}`;
    return `  - ${key}${shown}: ${describeAllowed(issue)}`;
  });
  return (
    `Invalid Tributary configuration for profile '${profile}':\n${lines.join('\n')}\n` +
    `Fix it in cdk.json under context.profiles.${profile}, or override one key with -c <key>=<value>.`
  );
}

/** Validates an already merged configuration object. */
export function parseConfig(profile: string, candidate: unknown): PlatformConfig {
  const result = platformConfigSchema.safeParse(candidate);
  if (!result.success) throw new ConfigError(formatIssues(profile, candidate, result.error.issues));
  return result.data;
}

/**
 * Builds the configuration for the profile selected with `-c profile=NAME`:
 * the defaults, then the profile from `cdk.json`, then any `-c section.key=value`.
 */
export function loadConfig(node: Pick<Node, 'tryGetContext' | 'getAllContext'>): { profile: string; config: PlatformConfig } {
  const profile = String(node.tryGetContext('profile') ?? DEFAULT_PROFILE);
  const profiles = node.tryGetContext('profiles');
  if (!isObject(profiles)) {
    throw new ConfigError("cdk.json has no context key 'profiles': it holds the named configuration profiles.");
  }
  const selected = profiles[profile];
  if (!isObject(selected)) {
    throw new ConfigError(
      `Unknown profile '${profile}' (given with -c profile=...). ` +
        `Available: ${Object.keys(profiles).sort().join(', ')}. Add it under context.profiles in cdk.json.`,
    );
  }
  const candidate = merge(merge(defaultConfig as unknown as JsonObject, selected), dottedOverrides(node.getAllContext()));
  return { profile, config: parseConfig(profile, candidate) };
}

/** What deleting a stack does to the data it holds, from `dataRemoval`. */
export function removalPolicyFor(config: PlatformConfig): RemovalPolicy {
  return config.dataRemoval === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}
