import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { SandboxSettings, sandboxDirs } from '../settings';
import { EngineStartError, PortInUseError, SandboxAlreadyRunningError } from './errors';

/**
 * Starts the sandbox's engines as ordinary local processes and makes sure none
 * outlives the sandbox: every process runs in its own process group (so a
 * signal reaches whatever it forks), logs to `<logs>/<name>.log`, and is
 * recorded in `processes.json` so that Ctrl-C, a `down` from another terminal,
 * or the next start after a crash can find and stop it.
 *
 * A pid is only ever signalled after /proc says it is still the process we
 * started (its command line carries our marker and its start time matches),
 * so a pid the kernel has since reused for something else is never killed.
 */

/** One tracked process, as `processes.json` holds it. */
export interface ProcessRecord {
  name: string;
  /** Also its process group id: it was started as a group leader. */
  pid: number;
  /** A string in its command line that says it is this sandbox's (see {@link processMarker}). */
  marker: string;
  /** Its start time in clock ticks since boot (/proc/<pid>/stat field 22), when /proc exists. */
  startTicks?: number;
  command: string[];
  ports: number[];
  logFile: string;
  startedAt: string;
  /** The process that started it: while that one lives, the engines belong to a running sandbox. */
  owner: { pid: number; startTicks?: number };
  /** See {@link ProcessSpec.stopTimeoutMs}. */
  stopTimeoutMs?: number;
  /** See {@link ProcessSpec.flush}. */
  flush?: { file: string; timeoutMs: number };
}

/** What to start and how to know it is ready. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Must appear in the command line; see {@link processMarker}. */
  marker: string;
  /** Ports it listens on, for `down` and for humans reading processes.json. */
  ports?: number[];
  ready?: Readiness;
  /** Time between SIGTERM and SIGKILL for this process, instead of the supervisor's. */
  stopTimeoutMs?: number;
  /**
   * A JSON state file the process rewrites in place on a timer. Before SIGTERM, stopping
   * waits (up to `timeoutMs`) until the file was rewritten after the stop
   * began and that write is complete (it parses), and keeps that copy as
   * `<file>.last-good` (see {@link lastGoodCopy}): the process may still be
   * killed in the middle of a later write (one that will not exit while clients
   * hold connections open), which leaves the file itself cut short.
   */
  flush?: { file: string; timeoutMs: number };
}

/** Ready when every given condition holds. */
export interface Readiness {
  /** A loopback TCP port that accepts connections. */
  port?: number;
  /** A line its log prints (searched in what this start wrote, not earlier runs). */
  logLine?: RegExp;
  /** Default 60 s. */
  timeoutMs?: number;
}

/** A port an engine will listen on, with the CLI flag that changes it. */
export interface PortClaim {
  port: number;
  engine: string;
  flag: string;
}

export interface SupervisorOptions {
  /** How long a process gets between SIGTERM and SIGKILL. Default 15 s (a Kafka broker's controlled shutdown takes a few). */
  stopTimeoutMs?: number;
}

/** The command-line marker of one engine of the sandbox in `home`: a Java system property or an argument it ignores. */
export function processMarker(settings: SandboxSettings, name: string): string {
  return `-Dtributary.sandbox=${name}@${settings.home}`;
}

const PROC = '/proc';

/** Start time and state from /proc/<pid>/stat, or undefined when there is no such process. */
function procStat(pid: number): { startTicks: number; state: string } | undefined {
  try {
    const stat = fs.readFileSync(path.join(PROC, String(pid), 'stat'), 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields after it follow the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], startTicks: Number(rest[19]) };
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(path.join(PROC, String(pid), 'cmdline'), 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive at all (a zombie is not). */
function alive(pid: number): boolean {
  if (fs.existsSync(PROC)) {
    const stat = procStat(pid);
    return stat !== undefined && stat.state !== 'Z';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the recorded process is alive and still the one we started (not a reused pid). */
export function isStillOurs(record: Pick<ProcessRecord, 'pid' | 'marker' | 'startTicks'>): boolean {
  if (!alive(record.pid)) return false;
  if (!fs.existsSync(PROC)) return true; // no /proc (macOS): the liveness check is all there is.
  const cmdline = commandLine(record.pid);
  if (!cmdline || !cmdline.includes(record.marker)) return false;
  const stat = procStat(record.pid);
  return record.startTicks === undefined || stat?.startTicks === record.startTicks;
}

function ownerAlive(owner: ProcessRecord['owner']): boolean {
  if (owner.pid === process.pid) return true;
  if (!alive(owner.pid)) return false;
  return owner.startTicks === undefined || procStat(owner.pid)?.startTicks === owner.startTicks;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The last `lines` lines of a log file ('' when there is none). */
export function logTail(file: string, lines = 25): string {
  try {
    const size = fs.statSync(file).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, buffer, 0, length, size - length);
    } finally {
      fs.closeSync(fd);
    }
    return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portAccepts(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Whether this process could listen on 127.0.0.1:port right now. */
function portBindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Throws {@link PortInUseError} for the first claimed port that is taken, and
 * a plain Error when two engines were given the same port: checked before
 * anything starts, so a conflict never leaves a half-started sandbox.
 */
export async function assertPortsFree(claims: readonly PortClaim[]): Promise<void> {
  const seen = new Map<number, PortClaim>();
  for (const claim of claims) {
    const other = seen.get(claim.port);
    if (other) throw new Error(`port ${claim.port} is given to both ${other.engine} and ${claim.engine}; pass ${claim.flag} <n> with another port`);
    seen.set(claim.port, claim);
  }
  for (const claim of claims) {
    if ((await portAccepts(claim.port, 500)) || !(await portBindable(claim.port))) {
      throw new PortInUseError(claim.port, claim.engine, claim.flag);
    }
  }
}

interface Tracked {
  record: ProcessRecord;
  child: ChildProcess;
  exited?: { code: number | null; signal: NodeJS.Signals | null };
  stopping: boolean;
}

export type UnexpectedExitListener = (record: ProcessRecord, code: number | null, signal: NodeJS.Signals | null) => void;

export class Supervisor {
  readonly dirs: ReturnType<typeof sandboxDirs>;
  private readonly stopTimeoutMs: number;
  private readonly tracked = new Map<string, Tracked>();
  private readonly exitListeners: UnexpectedExitListener[] = [];
  private readonly selfTicks = procStat(process.pid)?.startTicks;

  constructor(
    readonly settings: SandboxSettings,
    options: SupervisorOptions = {},
  ) {
    this.dirs = sandboxDirs(settings);
    this.stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
  }

  /** Everything `processes.json` lists, alive or not. */
  recorded(): ProcessRecord[] {
    try {
      return (JSON.parse(fs.readFileSync(this.dirs.pidsFile, 'utf8')) as { processes: ProcessRecord[] }).processes ?? [];
    } catch {
      return [];
    }
  }

  /** The processes this supervisor started that are still running. */
  running(): ProcessRecord[] {
    return [...this.tracked.values()].filter((t) => !t.exited).map((t) => t.record);
  }

  /** Called when a process exits without being asked to (the CLI says so and points at its log). */
  onUnexpectedExit(listener: UnexpectedExitListener): void {
    this.exitListeners.push(listener);
  }

  private write(records: ProcessRecord[]): void {
    fs.mkdirSync(path.dirname(this.dirs.pidsFile), { recursive: true });
    const tmp = `${this.dirs.pidsFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify({ processes: records }, null, 2)}\n`);
    fs.renameSync(tmp, this.dirs.pidsFile);
  }

  private update(change: (records: ProcessRecord[]) => ProcessRecord[]): void {
    this.write(change(this.recorded()));
  }

  /**
   * Finds what a previous run left behind. Processes of a run that crashed
   * (its owner is gone) are stopped and returned; processes whose owner still
   * runs mean another sandbox uses this home, which is an error. Records of
   * processes that are already gone are dropped.
   */
  async clearLeftovers(): Promise<ProcessRecord[]> {
    const own = (r: ProcessRecord) => [...this.tracked.values()].some((t) => t.record.pid === r.pid);
    const live = this.recorded().filter((r) => !own(r) && isStillOurs(r));
    const orphans = live.filter((r) => !ownerAlive(r.owner));
    // Owned by this very process (another Supervisor instance here) is neither an orphan nor a rival.
    const rivals = live.filter((r) => r.owner.pid !== process.pid && ownerAlive(r.owner));
    if (rivals.length) {
      const list = rivals.map((r) => `${r.name} (pid ${r.pid})`).join(', ');
      throw new SandboxAlreadyRunningError(
        `another sandbox run (pid ${rivals[0].owner.pid}) is using ${this.settings.home}: ${list}; stop it first (Ctrl-C there, or \`down\`)`,
      );
    }
    for (const record of orphans) await this.stopRecord(record);
    const keep = new Set(live.filter((r) => !orphans.includes(r)).map((r) => r.pid));
    this.update((records) => records.filter((r) => own(r) || keep.has(r.pid)));
    return orphans;
  }

  /**
   * Starts a process detached in its own group, its output appended to
   * `<logs>/<name>.log`, records it, and waits until it is ready. If it exits
   * or is not ready in time it is stopped and an {@link EngineStartError}
   * names it and quotes the end of its log.
   */
  async start(spec: ProcessSpec): Promise<ProcessRecord> {
    const existing = this.tracked.get(spec.name);
    if (existing && !existing.exited) throw new Error(`${spec.name} is already running (pid ${existing.record.pid})`);
    if (![spec.command, ...spec.args].some((arg) => arg.includes(spec.marker))) {
      throw new Error(`the command line of ${spec.name} must contain its marker ${spec.marker}, or it could never be stopped safely`);
    }
    const { child, logFile, logStart } = this.spawnLogged(spec);
    const record: ProcessRecord = {
      name: spec.name,
      pid: child.pid!,
      marker: spec.marker,
      startTicks: procStat(child.pid!)?.startTicks,
      command: readableCommand([spec.command, ...spec.args]),
      ports: spec.ports ?? [],
      logFile,
      startedAt: new Date().toISOString(),
      owner: { pid: process.pid, startTicks: this.selfTicks },
      stopTimeoutMs: spec.stopTimeoutMs,
      flush: spec.flush,
    };
    const tracked: Tracked = { record, child, stopping: false };
    this.tracked.set(spec.name, tracked);
    this.update((records) => [...records.filter((r) => r.name !== spec.name), record]);
    child.once('exit', (code, signal) => {
      tracked.exited = { code, signal };
      this.update((records) => records.filter((r) => !(r.name === record.name && r.pid === record.pid)));
      if (!tracked.stopping) for (const listener of this.exitListeners) listener(record, code, signal);
    });
    // The supervisor's own process may exit (a detached `up`) without waiting for its engines.
    child.unref();

    if (spec.ready) {
      try {
        await this.waitReady(tracked, spec.ready, logStart);
      } catch (error) {
        await this.stop(spec.name);
        throw error;
      }
    }
    return record;
  }

  /**
   * Runs a one-shot command (a formatting tool, say) to completion with its
   * output in the same log, throwing an {@link EngineStartError} on failure.
   */
  async run(spec: Omit<ProcessSpec, 'ready' | 'ports'> & { label: string }, timeoutMs = 120_000): Promise<void> {
    const { child, logFile } = this.spawnLogged(spec);
    const result = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, timeoutMs);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    });
    if (result.code !== 0) {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
      throw new EngineStartError(spec.name, `(${spec.label}) ${how}`, logFile, logTail(logFile));
    }
  }

  private spawnLogged(spec: Omit<ProcessSpec, 'ready' | 'ports'>): { child: ChildProcess; logFile: string; logStart: number } {
    fs.mkdirSync(this.dirs.logs, { recursive: true });
    const logFile = path.join(this.dirs.logs, `${spec.name}.log`);
    fs.appendFileSync(logFile, `\n=== ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
    const logStart = fs.statSync(logFile).size;
    const fd = fs.openSync(logFile, 'a');
    try {
      const child = spawn(spec.command, spec.args, {
        cwd: spec.cwd ?? this.settings.repoRoot,
        env: { ...process.env, ...spec.env },
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      if (child.pid === undefined) {
        // spawn reports ENOENT asynchronously; surface it as a start failure now.
        throw new EngineStartError(spec.name, `could not be started (${spec.command} not found)`, logFile, '');
      }
      return { child, logFile, logStart };
    } finally {
      fs.closeSync(fd);
    }
  }

  private async waitReady(tracked: Tracked, ready: Readiness, logStart: number): Promise<void> {
    const { record } = tracked;
    const timeoutMs = ready.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    let portOk = ready.port === undefined;
    let lineOk = ready.logLine === undefined;
    const log = new LogScanner(record.logFile, logStart);
    for (;;) {
      if (tracked.exited) {
        const { code, signal } = tracked.exited;
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        throw new EngineStartError(record.name, `${how} before it was ready`, record.logFile, logTail(record.logFile));
      }
      if (!portOk) portOk = await portAccepts(ready.port!, 500);
      if (!lineOk) lineOk = log.newLines().some((line) => ready.logLine!.test(line));
      if (portOk && lineOk) return;
      if (Date.now() > deadline) {
        const waiting = [!portOk && `port ${ready.port} accepting connections`, !lineOk && `a log line matching ${ready.logLine}`].filter(Boolean).join(' and ');
        throw new EngineStartError(record.name, `was not ready within ${Math.round(timeoutMs / 1000)} s (waited for ${waiting})`, record.logFile, logTail(record.logFile));
      }
      await sleep(200);
    }
  }

  /** SIGTERM to the process group, SIGKILL after the timeout; only while /proc says it is still ours. */
  private async stopRecord(record: ProcessRecord): Promise<void> {
    if (!isStillOurs(record)) return;
    if (record.flush) await keepCompleteRewrite(record.flush.file, Date.now(), record.flush.timeoutMs, () => isStillOurs(record));
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-record.pid, signal);
      } catch {
        try {
          process.kill(record.pid, signal);
        } catch {
          /* already gone */
        }
      }
    };
    signalGroup('SIGTERM');
    const deadline = Date.now() + (record.stopTimeoutMs ?? this.stopTimeoutMs);
    while (Date.now() < deadline) {
      if (!isStillOurs(record)) return;
      await sleep(100);
    }
    if (isStillOurs(record)) {
      signalGroup('SIGKILL');
      while (isStillOurs(record)) await sleep(50);
    }
  }

  /**
   * Stops one process this supervisor started, or else the live one of that name that processes.json lists
   * (started by another supervisor of this home: `chaos` restarts a process from its own command).
   */
  async stop(name: string): Promise<void> {
    const tracked = this.tracked.get(name);
    if (!tracked || tracked.exited) {
      this.tracked.delete(name);
      const record = this.recorded().find((r) => r.name === name && isStillOurs(r));
      if (!record) return;
      await this.stopRecord(record);
      this.update((records) => records.filter((r) => r.pid !== record.pid));
      return;
    }
    tracked.stopping = true;
    await this.stopRecord(tracked.record);
    if (!tracked.exited) {
      // Gone from /proc, but its 'exit' event may still be queued: wait for it so the record is dropped.
      await new Promise<void>((resolve) => {
        if (tracked.exited) return resolve();
        tracked.child.once('exit', () => resolve());
        setTimeout(resolve, 1000);
      });
    }
    this.tracked.delete(name);
    this.update((records) => records.filter((r) => !(r.name === name && r.pid === tracked.record.pid)));
  }

  /**
   * Stops every recorded process of this home, the ones this supervisor started
   * and the ones `processes.json` lists from another (this is `down`), in the
   * reverse order of starting, and empties the file. Returns what it stopped.
   */
  async stopAll(): Promise<ProcessRecord[]> {
    const own = [...this.tracked.values()].map((t) => t.record);
    const fromFile = this.recorded().filter((r) => !own.some((o) => o.pid === r.pid));
    const all = [...fromFile, ...own].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    const stopped: ProcessRecord[] = [];
    for (const record of all) {
      const live = isStillOurs(record);
      if (this.tracked.has(record.name) && this.tracked.get(record.name)!.record.pid === record.pid) await this.stop(record.name);
      else await this.stopRecord(record);
      if (live) stopped.push(record);
    }
    this.write([]);
    return stopped;
  }

  /**
   * Makes Ctrl-C, SIGTERM and SIGHUP stop every engine before this process
   * exits (a second Ctrl-C kills them at once), and SIGTERMs whatever is left
   * if the process exits any other way. Returns a function that removes the handlers.
   */
  handleSignals(onSignal?: (signal: NodeJS.Signals) => void): () => void {
    let stopping = false;
    const onSig = (signal: NodeJS.Signals) => {
      if (stopping) {
        for (const r of this.running()) killGroup(r.pid, 'SIGKILL');
        process.exit(130);
      }
      stopping = true;
      onSignal?.(signal);
      const code = 128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as Record<string, number>)[signal];
      this.stopAll().then(
        () => process.exit(code),
        () => process.exit(code),
      );
    };
    const onExit = () => {
      for (const r of this.running()) if (isStillOurs(r)) killGroup(r.pid, 'SIGTERM');
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, onSig);
    process.on('exit', onExit);
    return () => {
      for (const s of signals) process.off(s, onSig);
      process.off('exit', onExit);
    };
  }
}

/** The command line with a long classpath shortened to its first entry and a count: processes.json is for people too. */
function readableCommand(argv: string[]): string[] {
  return argv.map((arg, i) => {
    if (!['-cp', '-classpath', '--class-path'].includes(argv[i - 1])) return arg;
    const entries = arg.split(path.delimiter);
    return entries.length > 1 ? `${entries[0]}${path.delimiter}... (${entries.length} entries)` : arg;
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/** Where a flushed state file's last complete write is kept. */
export const lastGoodCopy = (file: string): string => `${file}.last-good`;

function parsesAsJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const parsesAsJson = (file: string): boolean => parsesAsJsonText(fs.readFileSync(file, 'utf8'));

/**
 * Waits (for at most `timeoutMs`, while `alive()`) until `file` was rewritten after `since` (ms) and that
 * write is complete (the file parses: a write cut short or under way does not), then copies it to
 * {@link lastGoodCopy} through a temporary file and a rename, so the copy is never itself cut short.
 */
async function keepCompleteRewrite(file: string, since: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = since + timeoutMs;
  let tried = '';
  while (Date.now() < deadline && alive()) {
    try {
      const stat = fs.statSync(file);
      const version = `${stat.mtimeMs}:${stat.size}`;
      // Parse each version of the file once: a large state takes a while to read.
      if (stat.mtimeMs > since && version !== tried) {
        tried = version;
        const text = fs.readFileSync(file, 'utf8');
        if (parsesAsJsonText(text)) {
          fs.writeFileSync(`${lastGoodCopy(file)}.tmp`, text);
          fs.renameSync(`${lastGoodCopy(file)}.tmp`, lastGoodCopy(file));
          return;
        }
      }
    } catch {
      /* not written yet */
    }
    await sleep(100);
  }
}

/**
 * Before a process that loads `file` starts: if the file is cut short (a kill in the middle of its write)
 * and a complete copy was kept at the last stop, puts that copy back. Returns whether it did.
 */
export function restoreLastGood(file: string): boolean {
  if (!fs.existsSync(file) || parsesAsJson(file)) return false;
  if (!fs.existsSync(lastGoodCopy(file)) || !parsesAsJson(lastGoodCopy(file))) return false;
  fs.copyFileSync(lastGoodCopy(file), file);
  return true;
}

/** Reads a growing log file line by line from an offset, each line once (a JVM's log can be megabytes). */
class LogScanner {
  private partial = '';
  constructor(
    private readonly file: string,
    private offset: number,
  ) {}

  newLines(): string[] {
    try {
      const size = fs.statSync(this.file).size;
      if (size <= this.offset) return [];
      const buffer = Buffer.alloc(size - this.offset);
      const fd = fs.openSync(this.file, 'r');
      try {
        fs.readSync(fd, buffer, 0, buffer.length, this.offset);
      } finally {
        fs.closeSync(fd);
      }
      this.offset = size;
      const lines = (this.partial + buffer.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      return lines;
    } catch {
      return [];
    }
  }
}

/** `down` from any process: stops everything `processes.json` of this home records. */
export async function stopRecorded(settings: SandboxSettings, options?: SupervisorOptions): Promise<ProcessRecord[]> {
  return new Supervisor(settings, options).stopAll();
}
