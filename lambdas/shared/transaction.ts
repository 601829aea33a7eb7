import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
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
  return isScaledMultiple(value, scale, Math.round(divisor * scale));
}

/** The test of {@link isDecimalMultipleOf} once the divisor is scaled: `scaledDivisor / scale` with `scale` = 10^k. */
function isScaledMultiple(value: number, scale: number, scaledDivisor: number): boolean {
  const scaled = Math.round(value * scale);
  return Number.isSafeInteger(scaled) && scaled / scale === value && scaled % scaledDivisor === 0;
}

/**
 * ajv's validator, compiled on first use: a cold start whose records all pass the fast path never pays for
 * compiling it (part of the module's load time, bench/README.md).
 */
const schemaValidator = (() => {
  let compiled: ValidateFunction<Transaction> | undefined;
  return (): ValidateFunction<Transaction> => {
    if (compiled) return compiled;
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
    compiled = ajv.compile<Transaction>(transactionSchema);
    return compiled;
  };
})();

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

/*
 * The fast path: a hand check that says "valid" only where the schema does (test/lambdas/fast-paths.test.ts
 * proves it against ajv on generated valid and invalid events). ajv compiled with allErrors took about a tenth of
 * the handler's time on valid records; it still decides every record the fast path does not accept, so a
 * rejection's reason and errors come from ajv as before. Bounds and enums are read from the schema itself.
 */
const props = transactionSchema.properties;
const ID_PATTERN = new RegExp(props.txnId.pattern, 'u');
const FIELD_COUNT = transactionSchema.required.length;
const FIELDS = new Set<string>(transactionSchema.required);
const CURRENCIES = new Set<unknown>(props.currency.enum);
const COUNTRIES = new Set<unknown>(props.country.enum);
const CHANNELS = new Set<unknown>(props.channel.enum);
const AMOUNT_DECIMALS = (String(props.amount.multipleOf).split('.')[1] ?? '').length;
const AMOUNT_SCALE = 10 ** AMOUNT_DECIMALS;
const AMOUNT_SCALED_DIVISOR = Math.round(props.amount.multipleOf * AMOUNT_SCALE);

/** An id of the schema's pattern: ASCII only, so UTF-16 units are code points, which is what ajv's lengths count. */
function isPatternId(value: unknown, minLength: number, maxLength: number): boolean {
  return typeof value === 'string' && value.length >= minLength && value.length <= maxLength && ID_PATTERN.test(value);
}

/**
 * True only for a Transaction; false means "ask ajv". A string's code points are at most its UTF-16 units, so a
 * merchantId of at most maxLength units is within maxLength; a longer one may still be (surrogate pairs) and is
 * left to ajv.
 */
export function isCertainlyTransaction(value: unknown): value is Transaction {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== FIELD_COUNT) return false;
  for (const key of keys) if (!FIELDS.has(key)) return false;
  const t = value as Record<string, unknown>;
  const { amount, eventTime, merchantId } = t;
  return (
    isPatternId(t.txnId, props.txnId.minLength, props.txnId.maxLength) &&
    isPatternId(t.cardId, props.cardId.minLength, props.cardId.maxLength) &&
    isPatternId(t.customerId, props.customerId.minLength, props.customerId.maxLength) &&
    typeof merchantId === 'string' &&
    merchantId.length >= props.merchantId.minLength &&
    merchantId.length <= props.merchantId.maxLength &&
    typeof amount === 'number' &&
    Number.isFinite(amount) &&
    amount > props.amount.exclusiveMinimum &&
    amount <= props.amount.maximum &&
    isScaledMultiple(amount, AMOUNT_SCALE, AMOUNT_SCALED_DIVISOR) &&
    CURRENCIES.has(t.currency) &&
    COUNTRIES.has(t.country) &&
    CHANNELS.has(t.channel) &&
    Number.isSafeInteger(eventTime) &&
    (eventTime as number) >= props.eventTime.minimum &&
    (eventTime as number) <= props.eventTime.maximum &&
    t.schemaVersion === props.schemaVersion.const
  );
}

/** The schema's verdict through ajv alone, with its errors when the value is not a Transaction. */
export function checkTransactionWithAjv(parsed: unknown): ValidationResult {
  const validateSchema = schemaValidator();
  if (!validateSchema(parsed)) {
    const errors = (validateSchema.errors ?? []).map(describe);
    const detail = errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ');
    return { valid: false, reason: 'schema_violation', detail, errors };
  }
  return { valid: true, transaction: parsed };
}

/** The schema's verdict on an already parsed value: the fast path, else ajv. */
export function checkTransaction(parsed: unknown): ValidationResult {
  return isCertainlyTransaction(parsed) ? { valid: true, transaction: parsed } : checkTransactionWithAjv(parsed);
}

/** Decode, parse and validate one record's payload, saying precisely why when it is not a Transaction. */
export function validateTransaction(record: SourceRecord): ValidationResult {
  const json = parseJsonRecord(record);
  if (!json.ok) return { valid: false, reason: json.reason, detail: json.detail, errors: [] };
  return checkTransaction(json.parsed);
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
