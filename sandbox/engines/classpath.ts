import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FLINK_APPS_DIR } from '../../lib/constructs/flink-application/flink-jar';
import { requireMaven } from './prerequisites';

/**
 * The Java engines' classpaths, resolved by Maven from Maven Central once and
 * cached as plain text, so a normal `up` starts the JVMs without running Maven
 * (which alone takes seconds). A cache entry is keyed by a hash of the poms it
 * came from and is rebuilt when either changes or a jar it lists is gone.
 *
 * The cache lives beside the pom (sandbox/engines/maven/target/, git-ignored)
 * rather than in a sandbox home: it describes this machine's Maven repository,
 * not one sandbox's state, so every home (and every test) shares it.
 */

/** The engines' own pom: one Maven profile per engine classpath. */
export const ENGINES_POM = path.join(__dirname, 'maven', 'pom.xml');
export const CLASSPATH_CACHE_DIR = path.join(__dirname, 'maven', 'target');
export const FLINK_APPS_POM = path.join(FLINK_APPS_DIR, 'pom.xml');

/** Profiles of sandbox/engines/maven/pom.xml. */
export type EngineProfile = 'kafka' | 's3proxy' | 'flink-logging';

/** Flink's job class, the entry point of the shaded jar. */
export const FLINK_MAIN_CLASS = 'dev.tributary.flink.TributaryStreamJob';

function hashOf(files: string[], extra: string): string {
  const hash = createHash('sha256').update(extra);
  for (const file of files) hash.update(fs.readFileSync(file));
  return hash.digest('hex');
}

/** A cached classpath if its key matches and every entry still exists. */
function readCache(cacheDir: string, name: string, key: string): string[] | undefined {
  const file = path.join(cacheDir, `${name}.classpath`);
  try {
    if (fs.readFileSync(`${file}.key`, 'utf8').trim() !== key) return undefined;
    const entries = fs.readFileSync(file, 'utf8').trim().split(path.delimiter).filter(Boolean);
    return entries.length && entries.every((entry) => fs.existsSync(entry)) ? entries : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `mvn dependency:build-classpath` and caches its output. Note the flag
 * is `-DincludeScope`, not `-Dmdep.includeScope`: maven-dependency-plugin 3.x
 * ignores the latter and silently returns the test scope (junit and all).
 */
function resolve(cacheDir: string, name: string, key: string, pom: string, mavenArgs: string[], why: string): string[] {
  requireMaven(why);
  fs.mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `${name}.classpath`);
  const tmp = `${file}.${process.pid}.tmp`;
  process.stderr.write(`Resolving the ${name} classpath with Maven (once; cached in ${cacheDir}) ...\n`);
  const result = spawnSync('mvn', ['-B', '-q', '-ntp', '-f', pom, ...mavenArgs, 'dependency:build-classpath', `-Dmdep.outputFile=${tmp}`], {
    encoding: 'utf8',
  });
  if (result.status !== 0 || !fs.existsSync(tmp)) {
    const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
    const reason = output.split('\n').find((l) => /Could not (find|resolve|transfer) artifact/.test(l)) ?? output.split('\n').find((l) => l.includes('[ERROR]'));
    throw new Error(`Could not resolve the ${name} classpath with Maven: ${(reason ?? output.trim().slice(-400)).replace(/^\[ERROR\]\s*/, '')}`);
  }
  const entries = fs.readFileSync(tmp, 'utf8').trim().split(path.delimiter).filter(Boolean);
  fs.renameSync(tmp, file);
  fs.writeFileSync(`${file}.key`, `${key}\n`);
  return entries;
}

/** What {@link pomClasspath} resolves: the files of a pom's dependencies (jars, or any other artifact type). */
export interface PomClasspathRequest {
  /** Cache entry name: `<cacheDir>/<name>.classpath`. */
  readonly name: string;
  readonly pom: string;
  /** Where the cache entry is kept. @default sandbox/engines/maven/target */
  readonly cacheDir?: string;
  /** Extra Maven arguments, e.g. `-P<profile>`; part of the cache key. */
  readonly mavenArgs?: string[];
  /** What Maven is needed for, in the message when it is missing. */
  readonly why: string;
}

/**
 * The files of a pom's dependencies, resolved from Maven Central once and cached, keyed by the
 * pom's hash and the arguments. Not only jars: a `tar.gz` or `zip` dependency is listed too, which
 * is how test/trino's pom fetches the Trino server and plugins.
 */
export function pomClasspath(request: PomClasspathRequest): string[] {
  const cacheDir = request.cacheDir ?? CLASSPATH_CACHE_DIR;
  const mavenArgs = request.mavenArgs ?? [];
  const key = hashOf([request.pom], mavenArgs.join(' '));
  return readCache(cacheDir, request.name, key) ?? resolve(cacheDir, request.name, key, request.pom, mavenArgs, request.why);
}

/** The jars of one engine profile (kafka, s3proxy, flink-logging), resolved once. */
export function engineClasspath(profile: EngineProfile): string[] {
  return pomClasspath({ name: profile, pom: ENGINES_POM, mavenArgs: [`-P${profile}`], why: `resolve the ${profile} jars from Maven Central` });
}

/**
 * What the shaded jar needs beside it at run time: flink-apps' compile and
 * provided scopes. Provided alone is not enough: the jar leaves out every
 * `flink-shaded-*` artifact (Managed Flink has them), and some of those, like
 * flink-shaded-guava, reach the project through compile-scope paths. Compile
 * scope also repeats what the jar already holds, harmlessly, since the jar
 * comes first. Logging is left out: it comes from the flink-logging profile.
 */
export function flinkDependencyClasspath(): string[] {
  const key = hashOf([FLINK_APPS_POM], 'flink-runtime');
  const entries = readCache(CLASSPATH_CACHE_DIR, 'flink-runtime', key) ?? resolve(CLASSPATH_CACHE_DIR, 'flink-runtime', key, FLINK_APPS_POM, ['-DincludeScope=compile'], 'resolve the Flink runtime jars');
  // slf4j-api 1.7 from here would hide the slf4j 2 binding, and the job would log nothing.
  return entries.filter((entry) => !/[\\/]org[\\/](slf4j|apache[\\/]logging[\\/]log4j)[\\/]/.test(entry));
}

/**
 * What a local Flink job runs with: the shaded jar first (the code exactly as
 * Managed Flink gets it), then the Flink runtime, then a log4j2 binding.
 */
export function flinkRuntimeClasspath(jar: string): string[] {
  return [jar, ...flinkDependencyClasspath(), ...engineClasspath('flink-logging')];
}

/** The `--add-opens` flags Kryo needs on Java 17, from `<java17.opens>` in flink-apps/pom.xml (one list for tests, bench and sandbox). */
export function flinkJavaOpens(): string[] {
  const pom = fs.readFileSync(FLINK_APPS_POM, 'utf8');
  const opens = /<java17\.opens>([^<]*)<\/java17\.opens>/.exec(pom);
  if (!opens) throw new Error(`${FLINK_APPS_POM} has no <java17.opens> property; the Flink job needs its --add-opens flags on Java 17`);
  return opens[1].trim().split(/\s+/);
}
