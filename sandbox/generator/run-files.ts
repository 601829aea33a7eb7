import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { recordKey } from './generate';
import { MALFORMED_KINDS, RULES, type GroundTruth, type LabelledRecord, type Workload } from './types';

/**
 * A run on disk, so it can be scored and replayed later:
 * - `events.ndjson`: one line per produced record, in production order: `{"key","label","data"}`;
 * - `ground-truth.json`: the ground truth (known for a generated run, unknown for a recorded file).
 * Writing is deterministic: the same workload gives the same bytes.
 */

export const EVENTS_FILE = 'events.ndjson';
export const GROUND_TRUTH_FILE = 'ground-truth.json';

const labelSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('normal') }),
  z.object({ kind: z.literal('fraud'), rule: z.enum(RULES), incidentId: z.string() }),
  z.object({ kind: z.literal('out-of-order'), behindMs: z.number() }),
  z.object({ kind: z.literal('late'), behindMs: z.number() }),
  z.object({ kind: z.literal('duplicate'), of: z.string(), originalIndex: z.number().int() }),
  z.object({
    kind: z.literal('malformed'),
    malformation: z.enum(MALFORMED_KINDS as [string, ...string[]]),
    reason: z.enum(['undecodable', 'bad_json', 'schema_violation']),
  }),
  z.object({ kind: z.literal('recorded') }),
]);

const lineSchema = z.object({ key: z.string(), label: labelSchema, data: z.string() });

const incidentSchema = z.object({
  incidentId: z.string(),
  rule: z.enum(RULES),
  cardId: z.string(),
  customerId: z.string(),
  txnIds: z.array(z.string()),
  alertId: z.string(),
  windowStart: z.number(),
});

const groundTruthSchema = z.discriminatedUnion('known', [
  z.object({
    known: z.literal(true),
    runId: z.string(),
    options: z.object({
      seed: z.number(),
      startTime: z.number(),
      rate: z.number(),
      eventCount: z.number(),
      cards: z.number(),
      customers: z.number(),
      rates: z.object({
        r1: z.number(),
        r2: z.number(),
        r3: z.number(),
        outOfOrder: z.number(),
        late: z.number(),
        duplicate: z.number(),
        malformed: z.number(),
      }),
      maxOutOfOrdernessMs: z.number(),
      allowedLatenessMs: z.number(),
      lateMarginMs: z.number(),
      duplicateDelayMaxRecords: z.number(),
      fraudFreeTailSeconds: z.number(),
    }),
    incidents: z.array(incidentSchema),
    cards: z.array(
      z.object({
        cardId: z.string(),
        customerId: z.string(),
        homeCountry: z.string(),
        currency: z.string(),
        segment: z.enum(['consumer', 'business', 'premium']),
        riskTier: z.enum(['low', 'medium', 'high']),
      }),
    ),
  }),
  z.object({ known: z.literal(false), source: z.string(), reason: z.string() }),
]);

/** The NDJSON text of `events.ndjson`. */
export function eventsText(records: readonly LabelledRecord[]): string {
  return records.map((r) => `${JSON.stringify({ key: r.key, label: r.label, data: r.data })}\n`).join('');
}

/** Write `events.ndjson` and `ground-truth.json` into `dir` (created if needed); returns their paths. */
export async function writeRun(dir: string, workload: Workload): Promise<{ events: string; groundTruth: string }> {
  await mkdir(dir, { recursive: true });
  const events = path.join(dir, EVENTS_FILE);
  const groundTruth = path.join(dir, GROUND_TRUTH_FILE);
  await writeFile(events, eventsText(workload.records));
  await writeFile(groundTruth, `${JSON.stringify(workload.groundTruth, null, 2)}\n`);
  return { events, groundTruth };
}

/** Non-blank lines of an NDJSON text, without their line ending; `\r\n` is accepted. */
function lines(text: string): Array<{ line: string; number: number }> {
  return text
    .split('\n')
    .map((line, i) => ({ line: line.endsWith('\r') ? line.slice(0, -1) : line, number: i + 1 }))
    .filter(({ line }) => line.trim().length > 0);
}

/** Read back what {@link writeRun} wrote. Throws, naming the file and line, on anything else. */
export async function readRun(dir: string): Promise<Workload> {
  const eventsPath = path.join(dir, EVENTS_FILE);
  const records: LabelledRecord[] = lines(await readFile(eventsPath, 'utf8')).map(({ line, number }) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new Error(`${eventsPath}:${number}: not JSON: ${(error as Error).message}`);
    }
    const result = lineSchema.safeParse(parsed);
    if (!result.success) throw new Error(`${eventsPath}:${number}: ${z.prettifyError(result.error)}`);
    return result.data as LabelledRecord;
  });
  const truthPath = path.join(dir, GROUND_TRUTH_FILE);
  const truth = groundTruthSchema.safeParse(JSON.parse(await readFile(truthPath, 'utf8')));
  if (!truth.success) throw new Error(`${truthPath}: ${z.prettifyError(truth.error)}`);
  return { records, groundTruth: truth.data as GroundTruth };
}

/**
 * Records to produce from a recorded NDJSON file: each non-blank line is one record's data, verbatim
 * (a trailing `\r` is dropped); the key is its cardId when the line is a JSON object with a string
 * cardId, else `unkeyed`. Nobody knows which of them are fraud: the ground truth is unknown.
 */
export async function readRecordedFile(file: string): Promise<Workload> {
  const records: LabelledRecord[] = lines(await readFile(file, 'utf8')).map(({ line }) => ({
    key: recordKey(line),
    data: line,
    label: { kind: 'recorded' },
  }));
  return {
    records,
    groundTruth: {
      known: false,
      source: path.resolve(file),
      reason: 'records read from a recorded file: which of them are fraud is not known, so alerts cannot be scored',
    },
  };
}
