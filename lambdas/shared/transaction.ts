import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import transactionSchema from '../../schemas/transaction.schema.json';
import { parseJsonRecord, type SourceRecord } from './source-record';

/** The `Transaction` event; schemas/transaction.schema.json is the source of truth (a test keeps the two in step). */
export interface Transaction {
  txnId: string;
  cardId: string;
  customerId: string;
  merchantId: string;
  /** Major units, at most two decimals. */
  amount: number;
  currency: string;
  country: string;
  channel: 'POS' | 'ECOM' | 'ATM' | 'CONTACTLESS';
  /** Event time, UTC epoch milliseconds. */
  eventTime: number;
  schemaVersion: 1;
}

export type InvalidReason = 'undecodable' | 'bad_json' | 'schema_violation';

export interface SchemaError {
  /** JSON Pointer into the event, `""` for the whole event. */
  path: string;
  message: string;
}

export type ValidationResult =
  | { valid: true; transaction: Transaction }
  | { valid: false; reason: InvalidReason; detail: string; errors: SchemaError[] };

const ajv = new Ajv2020({
  allErrors: true,
  // 19.99 / 0.01 is 1998.9999999999998 in binary floating point; compare to 9 decimals instead of exactly.
  multipleOfPrecision: 9,
});
// Annotation consumed by the Glue table builder; declared so strict mode accepts it.
ajv.addKeyword({ keyword: 'x-glue-type', schemaType: 'string' });
const validateSchema = ajv.compile<Transaction>(transactionSchema);

function describe(error: ErrorObject): SchemaError {
  const params = error.params as Record<string, unknown>;
  // ajv's message already names a missing property, but not an extra property or the allowed values.
  const subject = params.additionalProperty ?? (params.allowedValues as unknown[] | undefined)?.join(', ');
  const message = subject === undefined ? (error.message ?? error.keyword) : `${error.message ?? error.keyword}: ${subject}`;
  return { path: error.instancePath, message };
}

/** Decode, parse and validate one record's payload, saying precisely why when it is not a Transaction. */
export function validateTransaction(record: SourceRecord): ValidationResult {
  const json = parseJsonRecord(record);
  if (!json.ok) return { valid: false, reason: json.reason, detail: json.detail, errors: [] };
  const parsed = json.parsed;
  if (!validateSchema(parsed)) {
    const errors = (validateSchema.errors ?? []).map(describe);
    const detail = errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ');
    return { valid: false, reason: 'schema_violation', detail, errors };
  }
  return { valid: true, transaction: parsed };
}

/** Exact minor units; the schema guarantees at most two decimals and at most 1,000,000. */
export function toCents(amount: number): number {
  return Math.round(amount * 100);
}

/** Cents as a decimal(18,2) literal with exactly two decimals, e.g. 12345 -> "123.45". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
