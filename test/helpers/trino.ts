import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { pomClasspath } from '../../sandbox/engines/classpath';

/**
 * Trino, the engine Athena engine v3 is built on, as a local process for tests: fetched from Maven
 * Central by test/trino/pom.xml, unpacked once into test/trino/target/trino-server/, started with a
 * small heap, queried over Trino's HTTP protocol. Free of CDK and jest, so CI can install it ahead
 * of the tests (`node -r ts-node/register/transpile-only test/helpers/trino.ts install`).
 */

export const TRINO_POM = path.resolve(__dirname, '..', 'trino', 'pom.xml');
const CACHE_DIR = path.join(path.dirname(TRINO_POM), 'target');
const SERVER_DIR = path.join(CACHE_DIR, 'trino-server');
/** The oldest Java Trino 476 runs on: its classes are Java 24 bytecode (class file version 68). */
export const TRINO_MIN_JAVA = 24;
/** Where these machines keep their second JDK. */
const KNOWN_JAVA_HOMES = ['/usr/lib/jvm/temurin-25-jdk-amd64'];

export const TRINO_VERSION = /<trino\.version>([^<]+)<\/trino\.version>/.exec(fs.readFileSync(TRINO_POM, 'utf8'))?.[1] ?? 'unknown';

function javaMajor(java: string): number | undefined {
  const result = spawnSync(java, ['-XshowSettings:properties', '-version'], { encoding: 'utf8' });
  const spec = /java\.specification\.version = (\d+)/.exec(`${result.stdout ?? ''}${result.stderr ?? ''}`);
  return spec ? Number(spec[1]) : undefined;
}

/**
 * The home of a JDK Trino can run on: `TRINO_JAVA_HOME` if set (and then only it), else the
 * machine's Temurin 25, else any JDK 24+ under /usr/lib/jvm or at `JAVA_HOME`. Throws naming what
 * it looked at and how to fix it.
 */
export function trinoJavaHome(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.TRINO_JAVA_HOME;
  const candidates = explicit
    ? [explicit]
    : [
        ...KNOWN_JAVA_HOMES,
        ...(fs.existsSync('/usr/lib/jvm') ? fs.readdirSync('/usr/lib/jvm').map((d) => path.join('/usr/lib/jvm', d)) : []),
        ...(env.JAVA_HOME ? [env.JAVA_HOME] : []),
      ];
  const seen: string[] = [];
  for (const home of [...new Set(candidates)]) {
    const java = path.join(home, 'bin', 'java');
    if (!fs.existsSync(java)) continue;
    const major = javaMajor(java);
    seen.push(`${home} (Java ${major ?? '?'})`);
    if (major !== undefined && major >= TRINO_MIN_JAVA) return home;
  }
  throw new Error(
    `Trino ${TRINO_VERSION} (the Athena engine v3 stand-in of test/trino/) needs Java ${TRINO_MIN_JAVA} or newer, ` +
      `and ${explicit ? `TRINO_JAVA_HOME=${explicit} is not one` : 'none was found'} (looked at: ${seen.join(', ') || 'no JDK'}). ` +
      `Install a JDK ${TRINO_MIN_JAVA}+ (these machines have Temurin 25 in /usr/lib/jvm/temurin-25-jdk-amd64) ` +
      'and, if it lies elsewhere, set TRINO_JAVA_HOME to its home. The project itself stays on Java 17.',
  );
}

export interface TrinoInstall {
  readonly javaHome: string;
  /** The server's jars: `lib/` of trino-server-core. */
  readonly libDir: string;
  /** One folder per plugin (here only the Hive connector). */
  readonly pluginDir: string;
}

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(`Unpacking Trino failed: ${command} ${args.join(' ')}: ${result.error?.message ?? result.stderr.trim().slice(-400)}`);
  }
}

/**
 * Fetches (Maven, once) and unpacks (once per pom change) the Trino server and its Hive plugin.
 * Only the server's lib/ is kept: its bundled plugins (exchange, Python functions, ...) are not
 * what Athena's SQL needs, and each one costs start-up time.
 */
export function installTrino(): TrinoInstall {
  const javaHome = trinoJavaHome();
  const archives = pomClasspath({
    name: 'trino', pom: TRINO_POM, cacheDir: CACHE_DIR, why: `download Trino ${TRINO_VERSION} from Maven Central (about 450 MB)`,
  });
  const server = archives.find((a) => a.endsWith('.tar.gz'));
  const plugins = archives.filter((a) => a.endsWith('.zip'));
  if (!server || plugins.length === 0) throw new Error(`${TRINO_POM} must list trino-server-core (tar.gz) and at least one plugin (zip); Maven gave ${archives.join(', ')}`);
  const key = createHash('sha256').update(archives.map((a) => `${a}:${fs.statSync(a).size}`).join('\n')).digest('hex');
  const marker = path.join(SERVER_DIR, '.installed');
  const install = { javaHome, libDir: path.join(SERVER_DIR, 'lib'), pluginDir: path.join(SERVER_DIR, 'plugin') };
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').trim() === key) return install;

  process.stderr.write(`Unpacking Trino ${TRINO_VERSION} into ${SERVER_DIR} (once) ...\n`);
  const tmp = `${SERVER_DIR}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'plugin'), { recursive: true });
  run('tar', ['xzf', server, '--strip-components=1', '--wildcards', '*/lib/*'], tmp);
  // `jar` reads zip files and is in every JDK, where `unzip` may not be installed.
  for (const plugin of plugins) run(path.join(javaHome, 'bin', 'jar'), ['xf', plugin], path.join(tmp, 'plugin'));
  fs.writeFileSync(path.join(tmp, '.installed'), `${key}\n`);
  fs.rmSync(SERVER_DIR, { recursive: true, force: true });
  fs.renameSync(tmp, SERVER_DIR);
  return install;
}

/** One result row, by column name. Trino's JSON values: bigint and integer as numbers, decimal as strings, arrays as arrays. */
export type TrinoRow = Record<string, unknown>;

export class TrinoQueryError extends Error {
  constructor(
    message: string,
    /** Trino's error name, e.g. `INVALID_VIEW`, `TABLE_NOT_FOUND`, `SYNTAX_ERROR`. */
    public readonly errorName: string,
    public readonly sql: string,
  ) {
    super(message);
    this.name = 'TrinoQueryError';
  }
}

export interface TrinoServer {
  readonly url: string;
  /** Where the server's output goes. */
  readonly logFile: string;
  /** Runs one statement to completion, as `user` (default `tributary`), in catalog `awsdatacatalog` and the given schema, time zone UTC as in Athena. */
  query(sql: string, options?: { schema?: string; user?: string }): Promise<TrinoRow[]>;
  stop(): Promise<void>;
}

export interface TrinoOptions {
  /** A folder of the test's own: etc/, data/ and the log go there. */
  readonly workDir: string;
  /** Catalog name -> connector properties (`etc/catalog/<name>.properties`). */
  readonly catalogs: Record<string, Record<string, string>>;
  /** JVM heap. @default 1G */
  readonly heap?: string;
  /** How long to wait for `SERVER STARTED`. @default 120 s */
  readonly startTimeoutMs?: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** `sh -c` script: run "$@" (the JVM), stop it when the parent pid ($1) is gone; SIGTERM to the group stops it too. */
const WATCHDOG = [
  'parent=$1; shift',
  '"$@" & java=$!',
  'trap \'kill -TERM $java 2>/dev/null; wait $java; exit 143\' TERM INT',
  'while kill -0 "$parent" 2>/dev/null && kill -0 $java 2>/dev/null; do sleep 1; done',
  'kill -TERM $java 2>/dev/null; wait $java',
].join('\n');

const properties = (values: Record<string, string>) => `${Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => !/^\s+at /.test(l)).slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts a single-node Trino (coordinator and worker in one JVM) and waits until it takes queries. */
export async function startTrino(options: TrinoOptions): Promise<TrinoServer> {
  const install = installTrino();
  const port = await freePort();
  const etc = path.join(options.workDir, 'etc');
  fs.mkdirSync(path.join(etc, 'catalog'), { recursive: true });
  fs.mkdirSync(path.join(options.workDir, 'data'), { recursive: true });
  fs.writeFileSync(path.join(etc, 'config.properties'), properties({
    coordinator: 'true',
    'node-scheduler.include-coordinator': 'true',
    'http-server.http.port': String(port),
    'discovery.uri': `http://127.0.0.1:${port}`,
  }));
  for (const [name, catalog] of Object.entries(options.catalogs)) fs.writeFileSync(path.join(etc, 'catalog', `${name}.properties`), properties(catalog));
  const logFile = path.join(options.workDir, 'trino.log');
  const log = fs.openSync(logFile, 'a');
  const args = [
    `-Xmx${options.heap ?? '1G'}`,
    // Start-up counts more than throughput for a test's few small queries.
    '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xss4m',
    '-Duser.timezone=UTC', '-Djdk.attach.allowAttachSelf=true', '--enable-native-access=ALL-UNNAMED',
    `-Dconfig=${path.join(etc, 'config.properties')}`,
    `-Dcatalog.config-dir=${path.join(etc, 'catalog')}`,
    `-Dplugin.dir=${install.pluginDir}`,
    '-Dnode.environment=test', '-Dnode.id=tributary-test', '-Dnode.internal-address=127.0.0.1',
    `-Dnode.data-dir=${path.join(options.workDir, 'data')}`,
    '-cp', path.join(install.libDir, '*'),
    'io.trino.server.TrinoServer',
  ];
  // In its own process group, under a watchdog shell that stops the JVM once this process is gone,
  // however it went (a killed jest leaves no Trino behind).
  const child: ChildProcess = spawn('sh', ['-c', WATCHDOG, 'trino-watchdog', String(process.pid), path.join(install.javaHome, 'bin', 'java'), ...args], {
    // cwd: Trino writes relative paths (var/log/http-request.log) there, inside the test's folder.
    cwd: options.workDir, detached: true, stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  const pid = child.pid!;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  // A test process that dies must not leave a JVM behind.
  const killOnExit = () => { if (!exited) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (exited) return;
    try { process.kill(-pid, 'SIGTERM'); } catch { return; }
    const timer = setTimeout(() => { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }, 10_000);
    await exit;
    clearTimeout(timer);
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  for (;;) {
    if (exited) throw new Error(`Trino exited while starting; its log (${logFile}):\n${tail(logFile)}`);
    if (fs.readFileSync(logFile, 'utf8').includes('======== SERVER STARTED ========')) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Trino did not start within ${(options.startTimeoutMs ?? 120_000) / 1000} s; its log (${logFile}):\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  const query = async (sql: string, queryOptions: { schema?: string; user?: string } = {}): Promise<TrinoRow[]> => {
    const headers: Record<string, string> = {
      'X-Trino-User': queryOptions.user ?? 'tributary',
      'X-Trino-Catalog': 'awsdatacatalog',
      'X-Trino-Time-Zone': 'UTC',
      ...(queryOptions.schema ? { 'X-Trino-Schema': queryOptions.schema } : {}),
    };
    let response = await (await fetch(`${url}/v1/statement`, { method: 'POST', headers, body: sql })).json() as any;
    let columns: string[] | undefined;
    const rows: TrinoRow[] = [];
    for (;;) {
      if (response.error) {
        const error = response.error;
        throw new TrinoQueryError(`${error.errorName}: ${error.message}`, error.errorName, sql);
      }
      if (response.columns) columns = response.columns.map((c: { name: string }) => c.name);
      for (const values of response.data ?? []) rows.push(Object.fromEntries(columns!.map((c, i) => [c, values[i]])));
      if (!response.nextUri) return rows;
      response = await (await fetch(response.nextUri, { headers })).json();
    }
  };

  return { url, logFile, query, stop };
}

if (require.main === module) {
  const [command] = process.argv.slice(2);
  if (command !== 'install') {
    process.stderr.write('usage: trino.ts install   (fetch and unpack Trino for test/trino/)\n');
    process.exit(2);
  }
  try {
    const install = installTrino();
    process.stdout.write(`Trino ${TRINO_VERSION} ready in ${path.dirname(install.libDir)} (Java: ${install.javaHome})\n`);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}
