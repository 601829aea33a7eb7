import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, venvTool } from './synth';

/**
 * Runs a synthesized state machine definition in ministack's Step Functions interpreter
 * (scripts/run_state_machine.py), each Task answered from a mock config in the format of Step Functions
 * Local's mocked service integrations (https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-mock-cfg-file.html).
 */

/** One mocked response: what the API returns, or the error Step Functions raises for the call. */
export type MockedResponse = { Return: unknown } | { Throw: { Error: string; Cause: string } };

export interface Execution {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'RUNNING' | 'TIMED_OUT' | 'ABORTED';
  readonly output: unknown;
  readonly error: string | null;
  readonly cause: string | null;
  /** The top-level states entered, in order. */
  readonly states: string[];
}

export interface TestCase {
  readonly input: unknown;
  /** Per Task state, its responses by attempt ("0", "1", "0-9", ...). */
  readonly responses: Record<string, Record<string, MockedResponse>>;
}

/** Runs every case in one interpreter process; `{{executionArnPrefix}}<case>` in a response is that execution's ARN. */
export function runStateMachine(name: string, definition: string, cases: Record<string, TestCase>): Record<string, Execution> {
  const mockedResponses: Record<string, Record<string, MockedResponse>> = {};
  const testCases: Record<string, Record<string, string>> = {};
  for (const [caseName, { responses }] of Object.entries(cases)) {
    testCases[caseName] = {};
    for (const [state, byAttempt] of Object.entries(responses)) {
      const responseName = `${caseName}:${state}`;
      mockedResponses[responseName] = byAttempt;
      testCases[caseName][state] = responseName;
    }
  }
  const job = {
    name, definition,
    mockConfig: { StateMachines: { [name]: { TestCases: testCases } }, MockedResponses: mockedResponses },
    cases: Object.entries(cases).map(([testCase, { input }]) => ({ testCase, input })),
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-sfn-'));
  try {
    const file = path.join(dir, 'job.json');
    fs.writeFileSync(file, JSON.stringify(job));
    return JSON.parse(execFileSync(venvTool('python'), [path.join(REPO_ROOT, 'scripts', 'run_state_machine.py'), file], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
