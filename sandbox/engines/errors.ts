/**
 * The ways starting the sandbox's engines can fail before or while they start,
 * each its own class so the CLI can print the message alone (no stack trace):
 * every message already says what is wrong and what to do about it.
 */

/** Something the engines need is not installed (Java, Maven, node_modules). */
export class SandboxPrerequisiteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxPrerequisiteError';
  }
}

/** A port the settings give an engine is already taken by a process that is not ours. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly engine: string,
    readonly flag: string,
  ) {
    super(`port ${port} (${engine}) is in use by another process; stop it or pass ${flag} <n>`);
    this.name = 'PortInUseError';
  }
}

/** Another live sandbox run owns the processes recorded in this home. */
export class SandboxAlreadyRunningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxAlreadyRunningError';
  }
}

/** An engine exited or did not become ready in time; the message ends with the tail of its log. */
export class EngineStartError extends Error {
  constructor(
    readonly engine: string,
    reason: string,
    readonly logFile: string,
    logTail: string,
  ) {
    super(`${engine} ${reason}. Log: ${logFile}${logTail ? `\n--- last lines ---\n${logTail}` : ' (empty)'}`);
    this.name = 'EngineStartError';
  }
}
