import prand from 'pure-rand';
import schema from '../../schemas/transaction.schema.json';
import { hourPartition } from '../../lambdas/shared/lake';
import { decodeBase64, isStrictBase64 } from '../../lambdas/shared/source-record';
import { checkTransaction, checkTransactionWithAjv, isCertainlyTransaction } from '../../lambdas/shared/transaction';
import { txn } from './fixtures';

/**
 * The handler's hand-checked fast path (isCertainlyTransaction) against the JSON schema as ajv checks it, on
 * generated events, valid and invalid. Soundness: the fast path never accepts what the schema rejects, so no bad
 * record reaches the views. Coverage: it accepts every valid event whose merchantId is at most 64 UTF-16 units
 * (the one case it leaves to ajv), so the handler really takes it. And checkTransaction's whole answer (verdict,
 * reason, errors) equals ajv's alone.
 */

const RUNS = 20_000;
const SEED = 20261205;

type Rng = prand.RandomGenerator;
const int = (rng: Rng, from: number, to: number) => prand.unsafeUniformIntDistribution(from, to, rng);
const pick = <T>(rng: Rng, values: readonly T[]): T => values[int(rng, 0, values.length - 1)];

function text(rng: Rng, alphabet: readonly string[], minLength: number, maxLength: number): string {
  const length = int(rng, minLength, maxLength);
  let out = '';
  for (let i = 0; i < length; i += 1) out += pick(rng, alphabet);
  return out;
}

const ID_CHARS = [...'abcXYZ019_-'];
// Outside the id pattern, a surrogate pair (two units, one code point), a lone surrogate, NUL.
const ODD_CHARS = [...ID_CHARS, ':', ' ', 'é', '\u{1F4B3}', '\uD800', '\u0000', '\n'];

/** Values for a field: mostly near the boundaries of the schema, from both sides. */
function stringValue(rng: Rng): unknown {
  switch (int(rng, 0, 7)) {
    case 0: return text(rng, ID_CHARS, 1, 64);
    case 1: return text(rng, ID_CHARS, 60, 70);
    case 2: return text(rng, ODD_CHARS, 0, 70);
    case 3: return text(rng, ['\u{1F4B3}', 'a'], 30, 66); // 64 code points in up to 128 units
    case 4: return '';
    default: return text(rng, ID_CHARS, 1, 12);
  }
}

const NUMBERS = [
  0, -0, -1, 0.01, 0.001, 0.1 + 0.2, 19.99, 10.005, 42.5, 100, 100.01, 999999.99, 1000000, 1000000.01, 1e-12, 5e-324,
  Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 1e21, NaN, Infinity, -Infinity, 946684800000, 946684799999, 4102444800000,
  4102444800001, 1763762400000.5, 1, 2, 1.0000000000000002,
];

function numberValue(rng: Rng): unknown {
  switch (int(rng, 0, 3)) {
    case 0: return pick(rng, NUMBERS);
    case 1: return int(rng, -100, 100_000_100) / 100; // amounts around (0, 1e6], two decimals
    case 2: return int(rng, 0, 10_000_000) / 1000; // three decimals, mostly not multiples of 0.01
    default: return 946684800000 + int(rng, -10, 3155760000) * 1000 + pick(rng, [0, 0, 0.5, 1]);
  }
}

const OTHER_VALUES: unknown[] = [null, true, false, [], {}, ['EUR'], { amount: 1 }, '1', '42.50', undefined];

function anyValue(rng: Rng, field: string): unknown {
  switch (int(rng, 0, 5)) {
    case 0: return pick(rng, OTHER_VALUES);
    case 1: return numberValue(rng);
    case 2: return stringValue(rng);
    case 3: return field in schema.properties ? validValue(rng, field) : 'x';
    default: {
      const property = (schema.properties as Record<string, { enum?: string[] }>)[field];
      return property?.enum ? pick(rng, [...property.enum, 'eur', 'XXX', 'FRA', 'PHONE', '']) : stringValue(rng);
    }
  }
}

function validValue(rng: Rng, field: string): unknown {
  const p = schema.properties;
  switch (field) {
    case 'txnId': case 'cardId': case 'customerId': return text(rng, ID_CHARS, 1, 64);
    case 'merchantId': return text(rng, ODD_CHARS.filter((c) => c !== '\uD800'), 1, 64).replace(/^$/, 'm');
    case 'amount': return int(rng, 1, 100_000_000) / 100;
    case 'currency': return pick(rng, p.currency.enum);
    case 'country': return pick(rng, p.country.enum);
    case 'channel': return pick(rng, p.channel.enum);
    case 'eventTime': return int(rng, p.eventTime.minimum, p.eventTime.maximum);
    default: return 1;
  }
}

/** A transaction, valid or not: a valid one with some fields replaced, removed or added, or not an object at all. */
function candidate(rng: Rng): unknown {
  const roll = int(rng, 0, 99);
  if (roll < 3) return pick(rng, [null, [], [txn()], 'txn', 42, true]);
  const value: Record<string, unknown> = {};
  for (const field of schema.required) value[field] = validValue(rng, field);
  if (roll < 30) return value; // valid
  const changes = int(rng, 1, 3);
  for (let i = 0; i < changes; i += 1) {
    const field = pick(rng, [...schema.required, 'extra', '__proto__', 'constructor']);
    const what = int(rng, 0, 9);
    if (what === 0) delete value[field];
    else if (field === '__proto__') Object.defineProperty(value, field, { value: {}, enumerable: true, configurable: true, writable: true });
    else value[field] = anyValue(rng, field);
  }
  // Through JSON where it can go, as a record's payload does (undefined fields vanish, -0 becomes 0, NaN null).
  return int(rng, 0, 1) === 0 ? value : JSON.parse(JSON.stringify(value) ?? 'null');
}

describe('the validation fast path agrees with schemas/transaction.schema.json (ajv)', () => {
  const rng = prand.xoroshiro128plus(SEED);
  const cases = Array.from({ length: RUNS }, () => candidate(rng));

  it('never accepts an event the schema rejects, and accepts every valid event it can judge', () => {
    let validSeen = 0;
    let fastAccepted = 0;
    for (const value of cases) {
      const fast = isCertainlyTransaction(value);
      const ajv = checkTransactionWithAjv(value).valid;
      if (fast && !ajv) throw new Error(`fast path accepted what the schema rejects: ${JSON.stringify(value)}`);
      const judged = typeof (value as { merchantId?: unknown })?.merchantId !== 'string' || (value as { merchantId: string }).merchantId.length <= 64;
      if (ajv && judged && !fast) throw new Error(`fast path left a valid event to ajv: ${JSON.stringify(value)}`);
      if (ajv) validSeen += 1;
      if (fast) fastAccepted += 1;
    }
    // Both sides of the boundary are really exercised.
    expect(validSeen).toBeGreaterThan(RUNS / 4);
    expect(RUNS - validSeen).toBeGreaterThan(RUNS / 2);
    expect(fastAccepted).toBeGreaterThan(0);
  });

  it('gives the same verdict, reason and errors as ajv alone', () => {
    for (const value of cases) expect(checkTransaction(value)).toEqual(checkTransactionWithAjv(value));
  });

  it('leaves a merchantId longer than 64 units but within 64 code points to ajv, which accepts it', () => {
    const merchantId = '\u{1F4B3}'.repeat(64); // 64 code points, 128 UTF-16 units
    const value = { ...txn(), merchantId };
    expect(isCertainlyTransaction(value)).toBe(false);
    expect(checkTransaction(value)).toEqual({ valid: true, transaction: value });
  });
});

describe('the strict base64 check equals the pattern it replaced', () => {
  const REFERENCE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
  const rng = prand.xoroshiro128plus(SEED + 1);
  const alphabet = [...'ABCxyz019+/', '=', '-', '_', ' ', '\n', '\u00e9'];

  it('agrees on generated strings and decodes the same bytes', () => {
    let strict = 0;
    for (let i = 0; i < RUNS; i += 1) {
      // Mostly canonical or nearly canonical base64, some arbitrary text.
      const value = int(rng, 0, 2) === 0
        ? text(rng, alphabet, 0, 13)
        : Buffer.from(text(rng, ['a', 'b', '\u00ff', '\u0000'], 0, 10), 'latin1').toString('base64').replace(/.$/, (last) => (int(rng, 0, 3) === 0 ? pick(rng, alphabet) : last));
      expect([value, isStrictBase64(value)]).toEqual([value, REFERENCE.test(value)]);
      expect(decodeBase64(value)).toEqual(REFERENCE.test(value) ? Buffer.from(value, 'base64') : undefined);
      if (REFERENCE.test(value)) strict += 1;
    }
    expect(strict).toBeGreaterThan(RUNS / 4);
    expect(RUNS - strict).toBeGreaterThan(RUNS / 10);
  });

  it('accepts non-canonical strict base64 (bits set in the last character) like the pattern', () => {
    expect(Buffer.from('QR==', 'base64').toString('base64')).toBe('QQ==');
    expect(decodeBase64('QR==')).toEqual(Buffer.from('QQ==', 'base64'));
  });
});

describe('the cached hour partition equals formatting the instant each time', () => {
  const format = (ms: number) => {
    const iso = new Date(ms).toISOString();
    return `dt=${iso.slice(0, 10)}/hr=${iso.slice(11, 13)}`;
  };

  it('agrees on runs of nearby instants, fractions and negatives included', () => {
    const rng = prand.xoroshiro128plus(SEED + 2);
    let at = 0;
    for (let i = 0; i < RUNS; i += 1) {
      if (int(rng, 0, 50) === 0) at = int(rng, -2_000_000, 4_200_000) * 1_000_000 + pick(rng, [0, 0.5, -0.5]);
      else at += int(rng, -3_600, 3_600) * 1_000 + pick(rng, [0, 0.25, -0.75]);
      if (hourPartition(at) !== format(at)) throw new Error(`hourPartition(${at}) = ${hourPartition(at)}, not ${format(at)}`);
    }
  });

  it('still refuses an instant no Date holds, even right after the hour it would fall in', () => {
    expect(hourPartition(8.64e15)).toBe(format(8.64e15));
    expect(() => hourPartition(8.64e15 + 1)).toThrow(RangeError);
    expect(() => hourPartition(NaN)).toThrow(RangeError);
  });
});
