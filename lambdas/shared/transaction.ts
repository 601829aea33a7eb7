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

/**
 * `multipleOf` as JSON Schema means it, on decimals: whether the number written in the JSON is a whole multiple
 * of the (decimal) divisor. Binary floating point cannot say so by dividing (19.99 / 0.01 is 1998.9999999999998),
 * and ajv's `multipleOfPrecision` tolerance lets through what is nearly a multiple: 1e-12 and 5e-324 passed as
 * multiples of 0.01 and were counted as 0.00 transactions. Exact instead: scale the divisor to an integer `d` by
 * its k decimals; `value` is a multiple when it is the double nearest to n / 10^k for an integer n that `d`
 * divides (a division of two exact integers is correctly rounded, so `n / 10^k === value` is that test).
 * The same decimal rule the Flink job applies with BigDecimal (scale <= 2).
 */
export function isDecimalMultipleOf(value: number, divisor: number): boolean {
  const decimals = (String(divisor).split('.')[1] ?? '').length;
  if (!Number.isFinite(value) || !Number.isFinite(divisor) || divisor <= 0 || /e/i.test(String(divisor))) return false;
  const scale = 10 ** decimals;
  const scaled = Math.round(value * scale);
  return Number.isSafeInteger(scaled) && scaled / scale === value && scaled % Math.round(divisor * scale) === 0;
}

const ajv = new Ajv2020({ allErrors: true });
// Annotation consumed by the Glue table builder; declared so strict mode accepts it.
ajv.addKeyword({ keyword: 'x-glue-type', schemaType: 'string' });
// ajv's own multipleOf is a floating-point test; replaced by the exact decimal one above.
ajv.removeKeyword('multipleOf');
ajv.addKeyword({
  keyword: 'multipleOf',
  type: 'number',
  schemaType: 'number',
  error: { message: ({ schema }) => `must be a multiple of ${String(schema)}` },
  validate: (divisor: number, value: number) => isDecimalMultipleOf(value, divisor),
});
const validateSchema = ajv.compile<Transaction>(transactionSchema);

const MAX_VALUES_NAMED = 10;

function describe(error: ErrorObject): SchemaError {
  const params = error.params as Record<string, unknown>;
  // ajv's message already names a missing property, but not an extra property or the allowed values
  // (named when they are few, like the channels; the ISO lists are in the schema).
  const allowed = params.allowedValues as unknown[] | undefined;
  const subject = params.additionalProperty ?? (allowed && allowed.length <= MAX_VALUES_NAMED ? allowed.join(', ') : undefined);
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
