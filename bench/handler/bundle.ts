/**
 * The speed layer's deployment bundle, built as CDK builds it (PlatformFunction's bundling options through
 * esbuild), and the time a fresh Node.js process takes to load it: what a cold start pays before the first event.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync, type Metafile } from 'esbuild';
import { PLATFORM_BUNDLING } from '../../lib/constructs/platform-function';
import { VALID_ENV } from '../../test/lambdas/fixtures';

export const SPEED_LAYER_ENTRY = join(__dirname, '..', '..', 'lambdas', 'speed-layer', 'index.ts');

export interface Bundle {
  /** The minified bundle's size, source map left out (it is a file of its own that Node reads only on an error). */
  bytes: number;
  /** Bytes in the bundle per npm package (or repository folder), largest first. */
  byPackage: Array<{ name: string; bytes: number }>;
}

/**
 * The baseline for the load time, measured in the same run: a bundle that only makes the S3 client, built the same
 * way. Every function that writes to the lake loads at least this when the SDK is bundled.
 */
export const S3_CLIENT_ALONE = "const { S3Client } = require('@aws-sdk/client-s3'); module.exports.client = new S3Client({});";

const ROOT = join(__dirname, '..', '..');

/**
 * Builds an entry file (or the given source, resolved from the repository root) into `outDir/index.js` with the
 * options CDK's NodejsFunction passes to esbuild for a platform function.
 */
export function buildBundle(entry: string | { source: string }, outDir: string): Bundle {
  const outfile = join(outDir, 'index.js');
  const result = buildSync({
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { contents: entry.source, resolveDir: ROOT, loader: 'js' as const } }),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minify: PLATFORM_BUNDLING.minify,
    sourcemap: PLATFORM_BUNDLING.sourceMap,
    target: PLATFORM_BUNDLING.target,
    external: PLATFORM_BUNDLING.externalModules,
    outfile,
    metafile: true,
    logLevel: 'error',
  });
  const output = (result.metafile as Metafile).outputs[Object.keys(result.metafile!.outputs).find((k) => k.endsWith('index.js'))!];
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const inModules = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
    const name = inModules ? inModules[1] : input.split('/').slice(0, 2).join('/');
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  return {
    bytes: statSync(outfile).size,
    byPackage: [...byPackage].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes),
  };
}

/**
 * Milliseconds a fresh `node` takes to `require` the bundle (its top level: clients, environment, schemas), one
 * process per run. The process's own start is not counted: Lambda's runtime has started before it loads the handler.
 */
export function loadTimes(bundleDir: string, runs: number): number[] {
  const probe = join(bundleDir, 'load-probe.js');
  writeFileSync(
    probe,
    "const { performance } = require('node:perf_hooks'); const start = performance.now(); require('./index.js');" +
      ' process.stdout.write(String(performance.now() - start));',
  );
  const env = { ...process.env, ...VALID_ENV, AWS_REGION: 'eu-west-1', NODE_NO_WARNINGS: '1' };
  return Array.from({ length: runs }, () => Number(execFileSync(process.execPath, [probe], { env, encoding: 'utf8' })));
}

export interface BundleMeasurement extends Bundle {
  loadMs: number[];
  /** The S3 client alone, loaded in the runs interleaved with the bundle's. */
  baselineBytes: number;
  baselineLoadMs: number[];
}

/** Builds the speed layer's bundle and the baseline in temporary folders, measures both (interleaved), removes them. */
export function measureSpeedLayerBundle(loadRuns: number): BundleMeasurement {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bundle-'));
  const baselineDir = mkdtempSync(join(tmpdir(), 'tributary-bundle-baseline-'));
  try {
    const bundle = buildBundle(SPEED_LAYER_ENTRY, dir);
    const baseline = buildBundle({ source: S3_CLIENT_ALONE }, baselineDir);
    const loadMs: number[] = [];
    const baselineLoadMs: number[] = [];
    for (let i = 0; i < loadRuns; i += 1) {
      loadMs.push(...loadTimes(dir, 1));
      baselineLoadMs.push(...loadTimes(baselineDir, 1));
    }
    return { ...bundle, loadMs, baselineBytes: baseline.bytes, baselineLoadMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(baselineDir, { recursive: true, force: true });
  }
}
