import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadConfig, type PlatformConfig } from '../../lib/config';
import { buildPlatform, platformStacks, type Platform } from '../../lib/platform';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The `context` of cdk.json: the profiles and the feature flags, exactly as `cdk synth` sees them. */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')).context;
}

/** Every profile defined in cdk.json. */
export function profileNames(): string[] {
  return Object.keys(cdkJsonContext().profiles as object).sort();
}

/** An architecture a profile can be built with (`architecture` in cdk.json). */
export type Architecture = 'kappa' | 'lambda' | 'both';

/**
 * Context that builds `profile` with another architecture. `architecture` is a top-level key,
 * which `-c section.key=value` cannot set, so the profile itself is replaced in the context.
 */
export function withArchitecture(profile: string, architecture: Architecture): Record<string, unknown> {
  const profiles = cdkJsonContext().profiles as Record<string, Record<string, unknown>>;
  return { profiles: { ...profiles, [profile]: { ...profiles[profile], architecture } } };
}

/** What the whole-app checks (cdk-nag, cfn-lint) synthesize: every profile, and the architectures the profiles do not use. */
export interface SynthTarget {
  readonly label: string;
  readonly profile: string;
  readonly context: Record<string, unknown>;
}

export function synthTargets(): SynthTarget[] {
  const variants: [string, Architecture][] = [['dev', 'lambda'], ['msk', 'lambda']];
  return [
    ...profileNames().map((profile) => ({ label: profile, profile, context: {} })),
    ...variants.map(([profile, architecture]) => ({ label: `${profile} (architecture ${architecture})`, profile, context: withArchitecture(profile, architecture) })),
  ];
}

export interface Synthesized {
  readonly profile: string;
  /** The cloud assembly directory: the templates as `cdk synth` writes them. */
  readonly outdir: string;
  readonly config: PlatformConfig;
  readonly platform: Platform;
  readonly templates: Record<string, Template>;
  /** The cdk-nag and CloudFormation validation findings CDK wrote for this synth. */
  readonly validationReports: unknown[];
}

const cache = new Map<string, Synthesized>();
const scratchDirs: string[] = [];

// Each synth writes a cloud assembly of about 70 MB (the Flink jar and bundles among it): remove them when
// the test file is done, or a few hundred runs of the suite fill the disk.
afterAll(() => {
  for (const { outdir } of cache.values()) fs.rmSync(outdir, { recursive: true, force: true });
  cache.clear();
  for (const dir of scratchDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * An App whose cloud assembly (assets staged as constructs are made, the Flink jar among them) goes to a
 * temporary folder removed when the test file is done: `new App()` alone leaves a `cdk.out*` folder in /tmp.
 */
export function scratchApp(props: AppProps = {}): App {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-app-'));
  scratchDirs.push(outdir);
  return new App({ ...props, outdir });
}

/**
 * Synthesizes the whole platform for a profile, as `cdk synth -c profile=NAME`
 * with any extra `-c key=value` would. Cached per profile and context.
 */
export function synthProfile(profile: string, extraContext: Record<string, unknown> = {}): Synthesized {
  const cacheKey = JSON.stringify([profile, extraContext]);
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `tributary-${profile}-`));
  const app = new App({ outdir, context: { ...cdkJsonContext(), profile, ...extraContext } });
  const { config } = loadConfig(app.node);
  const platform = buildPlatform(app, profile, config);
  app.synth();
  const stacks = platformStacks(platform);
  const templates = Object.fromEntries(stacks.map((stack) => [stack.node.id, Template.fromStack(stack)]));
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
  const synthesized: Synthesized = { profile, outdir, config, platform, templates, validationReports: report.pluginReports };
  cache.set(cacheKey, synthesized);
  return synthesized;
}

/** Asset hashes change with any edit to a bundled handler; replace them so snapshots only move when the template does. */
export function normalizeAssetHashes(template: unknown): unknown {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}/g, '<asset-hash>'));
}

/** The single resource of a type in a template, or a failure naming how many there were. */
export function onlyResource(template: Template, type: string): { logicalId: string; Properties: Record<string, any> } {
  const found = Object.entries(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  const [logicalId, resource] = found[0];
  return { logicalId, Properties: resource.Properties };
}

/** A program of the project's .venv (scripts/setup-python.sh), with a clear failure if it is missing. */
export function venvTool(name: 'python' | 'cfn-lint'): string {
  const tool = path.join(REPO_ROOT, '.venv', 'bin', name);
  if (!fs.existsSync(tool)) {
    throw new Error(`.venv/bin/${name} is missing: run \`bash scripts/setup-python.sh\` (npm test does it for you).`);
  }
  return tool;
}
