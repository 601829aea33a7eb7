import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The Flink jobs' Maven project. */
export const FLINK_APPS_DIR = path.resolve(__dirname, '..', '..', '..', 'flink-apps');

/** The shaded jar Managed Flink runs, as `mvn package` writes it. */
export const FLINK_JAR = path.join(FLINK_APPS_DIR, 'target', 'tributary-flink-jobs.jar');

/** A built jar. One jar serves every event log: it carries both the Kinesis and the Kafka connector. */
export interface FlinkJar {
  readonly path: string;
}

/** A connector the job needs to read an event log: its Maven artifact and one class the jar must then contain. */
export interface FlinkConnector {
  /** groupId:artifactId, e.g. `org.apache.flink:flink-connector-aws-kinesis-streams`. */
  readonly artifact: string;
  /** A class of the connector, e.g. `org.apache.flink.connector.kinesis.source.KinesisStreamsSource`. */
  readonly className: string;
}

/** Where a contributor whose Maven repository lacks a connector finds how to get it. */
const CONNECTOR_HELP = 'docs/flink-jobs.md, "Building the jar"';

/** The newest modification time under a path, in ms. */
function newestChange(entry: string): number {
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs.readdirSync(entry).reduce((newest, child) => Math.max(newest, newestChange(path.join(entry, child))), stat.mtimeMs);
}

/** The jar exists and is newer than the pom and every source. */
function current(): boolean {
  if (!fs.existsSync(FLINK_JAR)) return false;
  const sources = Math.max(newestChange(path.join(FLINK_APPS_DIR, 'pom.xml')), newestChange(path.join(FLINK_APPS_DIR, 'src')));
  return fs.statSync(FLINK_JAR).mtimeMs >= sources;
}

/** The lines of Maven's output that say why a build failed, e.g. the artifact it could not find. */
function reasonIn(output: string): string {
  const line = output.split('\n').find((l) => /Could not (find|resolve|transfer) artifact/.test(l)) ?? output.split('\n').find((l) => l.startsWith('[ERROR]'));
  return (line ?? 'Maven failed').replace(/^\[ERROR\]\s*/, '').slice(0, 600);
}

/**
 * The Flink jar, built with Maven first when it is missing or older than
 * flink-apps/pom.xml or flink-apps/src, so synth and deploy always ship the
 * current code and no binary is committed. Tests are skipped here; `npm test`
 * runs them through `mvn verify`. A build that fails throws, with Maven's
 * reason: a jar that cannot be built is never deployed.
 */
export function ensureFlinkJar(): FlinkJar {
  if (!current()) {
    process.stderr.write('Building the Flink jar (mvn package) ...\n');
    const args = ['-B', '-ntp', '-DskipTests', '-f', path.join(FLINK_APPS_DIR, 'pom.xml'), 'package'];
    const result = spawnSync('mvn', args, { encoding: 'utf8' });
    if (result.error) {
      throw new Error(`Could not run Maven (${result.error.message}): Java 17+ and Maven are needed to build the Flink jar; see scripts/require-java.sh.`);
    }
    if (result.status !== 0) {
      throw new Error(`Could not build the Flink jar (mvn -f flink-apps/pom.xml package): ${reasonIn(`${result.stdout}\n${result.stderr}`)}. See ${CONNECTOR_HELP}.`);
    }
  }
  return { path: FLINK_JAR };
}

/**
 * The names of the entries of a zip (jar) file, read from its central
 * directory; ZIP64 archives (more than 65,535 entries, as a shaded jar may
 * have) included.
 */
export function zipEntries(file: string): string[] {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const read = (position: number, length: number) => {
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, position);
      return buffer;
    };
    // The end-of-central-directory record sits within the last 64 KiB + 22 bytes (its comment is at most 64 KiB).
    const tailStart = Math.max(0, size - 0xffff - 22);
    const tail = read(tailStart, size - tailStart);
    const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (eocd < 0) throw new Error(`${file} is not a zip or jar file`);
    let count = tail.readUInt16LE(eocd + 10);
    let offset = tail.readUInt32LE(eocd + 16);
    const locator = eocd - 20;
    if (locator >= 0 && tail.readUInt32LE(locator) === 0x07064b50) {
      const zip64 = read(Number(tail.readBigUInt64LE(locator + 8)), 56);
      count = Number(zip64.readBigUInt64LE(32));
      offset = Number(zip64.readBigUInt64LE(48));
    }
    const directory = read(offset, size - offset);
    const names: string[] = [];
    for (let at = 0, n = 0; n < count; n++) {
      if (directory.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: corrupt central directory at entry ${n}`);
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      names.push(directory.toString('utf8', at + 46, at + 46 + nameLength));
      at += 46 + nameLength + extraLength + commentLength;
    }
    return names;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Fails synth when the jar lacks the connector the configured event log
 * needs: deploying it would start a job that fails on its first record and
 * roll the stack back.
 */
export function requireFlinkConnector(jar: FlinkJar, connector: FlinkConnector, profile: string): void {
  const entry = `${connector.className.replace(/\./g, '/')}.class`;
  if (zipEntries(jar.path).includes(entry)) return;
  throw new Error(
    `Profile '${profile}' reads its event log with ${connector.artifact}, but the Flink jar ${jar.path} lacks it (no ${entry}); ` +
      'the deployed job would fail on start and roll the stack back. Rebuild the jar with `mvn -f flink-apps/pom.xml package` ' +
      `on a machine whose Maven repository serves ${connector.artifact} (Maven Central does); see ${CONNECTOR_HELP}.`,
  );
}
