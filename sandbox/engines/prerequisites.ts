import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SandboxPrerequisiteError } from './errors';

/**
 * Checks for what the engines need on this machine, done before anything
 * starts so a missing tool is one clear message instead of a half-started
 * sandbox and a Java stack trace in a log file.
 */

const INSTALL_JAVA = 'Install it: Debian/Ubuntu `sudo apt-get install openjdk-17-jdk-headless`, macOS `brew install openjdk@17`.';
const INSTALL_MAVEN = 'Install it: Debian/Ubuntu `sudo apt-get install maven`, macOS `brew install maven`.';

let javaChecked: number | undefined;

/** The major version of `java` on PATH; throws unless it is 17 or newer (Kafka 4, Flink 2 and S3Proxy 3 need it). */
export function requireJava(): number {
  if (javaChecked !== undefined) return javaChecked;
  const result = spawnSync('java', ['-XshowSettings:properties', '-version'], { encoding: 'utf8' });
  if (result.error) {
    throw new SandboxPrerequisiteError(`Java 17 or newer is needed on PATH to run Kafka, S3Proxy and Flink, and \`java\` was not found. ${INSTALL_JAVA}`);
  }
  const spec = /java\.specification\.version = (\d+)(?:\.(\d+))?/.exec(`${result.stdout}${result.stderr}`);
  const major = spec ? (spec[1] === '1' ? Number(spec[2]) : Number(spec[1])) : 0;
  if (major < 17) {
    throw new SandboxPrerequisiteError(`Java ${major || '(unknown version)'} is on PATH; the sandbox's engines need Java 17 or newer. ${INSTALL_JAVA}`);
  }
  javaChecked = major;
  return major;
}

/** Maven is needed only to resolve a classpath that is not cached yet (looked up on `env`'s PATH). */
export function requireMaven(why: string, env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync('mvn', ['-v'], { encoding: 'utf8', env });
  if (result.error || result.status !== 0) {
    throw new SandboxPrerequisiteError(`Maven is needed once to ${why} (afterwards the result is cached), and \`mvn\` was not found. ${INSTALL_MAVEN}`);
  }
}

/** kinesis-local's entry point in the repository's node_modules. */
export function requireKinesisLocal(repoRoot: string): string {
  const main = path.join(repoRoot, 'node_modules', 'kinesis-local', 'main.js');
  if (!fs.existsSync(main)) {
    throw new SandboxPrerequisiteError(`kinesis-local is not installed (${main} is missing); run \`npm ci\` in ${repoRoot}.`);
  }
  return main;
}
