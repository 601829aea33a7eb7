import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The Flink jobs' Maven project. */
export const FLINK_APPS_DIR = path.resolve(__dirname, '..', '..', '..', 'flink-apps');

/** The shaded jar Managed Flink runs, as `mvn package` writes it. */
export const FLINK_JAR = path.join(FLINK_APPS_DIR, 'target', 'tributary-flink-jobs.jar');

/** Beside the jar: which Maven profiles it was asked for and built with. */
const STAMP = path.join(FLINK_APPS_DIR, 'target', 'tributary-flink-jobs.build.json');

/** A built jar and what went into it. */
export interface FlinkJar {
  readonly path: string;
  /** Maven profiles (optional connectors) the jar was built with. */
  readonly profiles: string[];
  /** Profiles that were asked for but could not be built, each with Maven's reason. */
  readonly missing: { profile: string; reason: string }[];
}

interface Stamp {
  wanted: string[];
  built: string[];
  missing: FlinkJar['missing'];
  /** The jar this stamp describes: any other build (say `mvn verify` without profiles) invalidates it. */
  jar: { size: number; mtimeMs: number };
}

const jarIdentity = (): Stamp['jar'] => {
  const stat = fs.statSync(FLINK_JAR);
  return { size: stat.size, mtimeMs: stat.mtimeMs };
};

/** The newest modification time under a path, in ms. */
function newestChange(entry: string): number {
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs.readdirSync(entry).reduce((newest, child) => Math.max(newest, newestChange(path.join(entry, child))), stat.mtimeMs);
}

function readStamp(): Stamp | undefined {
  try {
    return JSON.parse(fs.readFileSync(STAMP, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The jar serves a request when it exists, is newer than every source, and
 * every profile wanted was either built into it or already tried and found
 * missing: a jar with an extra connector serves a log that does not need it.
 */
function current(wanted: string[]): Stamp | undefined {
  const stamp = readStamp();
  if (!stamp || !fs.existsSync(FLINK_JAR)) return undefined;
  const settled = new Set([...stamp.built, ...stamp.missing.map((m) => m.profile)]);
  if (!wanted.every((profile) => settled.has(profile))) return undefined;
  if (JSON.stringify(stamp.jar) !== JSON.stringify(jarIdentity())) return undefined;
  const sources = Math.max(newestChange(path.join(FLINK_APPS_DIR, 'pom.xml')), newestChange(path.join(FLINK_APPS_DIR, 'src')));
  return fs.statSync(FLINK_JAR).mtimeMs >= sources ? stamp : undefined;
}

function mavenPackage(profiles: string[]): { ok: boolean; output: string } {
  const args = ['-B', '-ntp', '-DskipTests', '-f', path.join(FLINK_APPS_DIR, 'pom.xml'), 'package'];
  if (profiles.length) args.push(`-P${profiles.join(',')}`);
  const result = spawnSync('mvn', args, { encoding: 'utf8' });
  if (result.error) {
    throw new Error(`Could not run Maven (${result.error.message}): Java 17+ and Maven are needed to build the Flink jar; see scripts/require-java.sh.`);
  }
  return { ok: result.status === 0, output: `${result.stdout}\n${result.stderr}` };
}

/** The line of Maven's output that says why a build failed, e.g. the artifact it could not find. */
function reasonIn(output: string): string {
  const line = output.split('\n').find((l) => /Could not (find|resolve|transfer) artifact/.test(l)) ?? output.split('\n').find((l) => l.startsWith('[ERROR]'));
  return (line ?? 'Maven failed').replace(/^\[ERROR\]\s*/, '').slice(0, 400);
}

/**
 * The Flink jar with the optional connectors `profiles` name (Maven profiles
 * of flink-apps/pom.xml), built with Maven first when it is missing or stale,
 * so synth and deploy always ship the current code and no binary is
 * committed. Tests are skipped here; `npm test` runs them through `mvn verify`.
 *
 * A profile whose connector the Maven repository cannot provide is left out,
 * and reported in `missing` with Maven's reason: the caller decides how loudly
 * to say so.
 */
export function ensureFlinkJar(profiles: string[] = []): FlinkJar {
  const wanted = [...profiles].sort();
  let stamp = current(wanted);
  if (!stamp) {
    process.stderr.write(`Building the Flink jar (mvn package${wanted.length ? ` -P${wanted.join(',')}` : ''}) ...\n`);
    const full = mavenPackage(wanted);
    if (full.ok) {
      stamp = { wanted, built: wanted, missing: [], jar: jarIdentity() };
    } else {
      const plain = wanted.length ? mavenPackage([]) : full;
      if (!plain.ok) throw new Error(`Could not build the Flink jar: ${reasonIn(plain.output)}`);
      const reason = reasonIn(full.output);
      stamp = { wanted, built: [], missing: wanted.map((profile) => ({ profile, reason })), jar: jarIdentity() };
    }
    fs.writeFileSync(STAMP, `${JSON.stringify(stamp, null, 2)}\n`);
  }
  return { path: FLINK_JAR, profiles: stamp.built, missing: stamp.missing.filter((m) => wanted.includes(m.profile)) };
}
