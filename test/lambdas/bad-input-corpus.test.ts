import { KinesisClient, PutRecordsCommand, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import type { KinesisStreamRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { KinesisEvent } from '../../lambdas/shared/kinesis';
import type { MskEvent, MskRecord } from '../../lambdas/shared/msk';
import type { Transaction } from '../../lambdas/shared/transaction';
import { kinesisEvent, mskEvent, T0, TOPIC, txn, VALID_ENV, type Payload } from './fixtures';
import { silentSpeedLayerHandler } from './speed-layer-harness';

/**
 * The bad-input corpus (issue 16): every kind of malformed input we know of, each inside a batch of valid
 * records, through the real speed-layer handler on both event sources. For each kind the test asserts the
 * outcome (accepted and counted, or dead-lettered with which reason and which schema path), that Lambda is
 * told to redeliver nothing, and that every valid neighbour is counted exactly once in the views.
 */

type Outcome =
  | { accepted: true; cents: number }
  | { reason: 'undecodable' | 'bad_json' | 'schema_violation'; path?: string; detail?: RegExp };

interface Kind {
  name: string;
  /** The record's payload; envelope kinds keep a valid transaction and change the envelope instead. */
  payload: Payload;
  expect: Outcome;
  kinesisEnvelope?: (record: KinesisStreamRecord) => void;
  mskEnvelope?: (record: MskRecord) => void;
  /** Only for this source (envelope kinds). */
  only?: 'kinesis' | 'msk';
}

const BAD_ID = 'bad-txn';
const valid = (overrides: Partial<Transaction> = {}) => txn({ txnId: BAD_ID, cardId: 'card-bad', customerId: 'cust-bad', amount: 42.5, ...overrides });
/** The valid transaction's JSON with `field` replaced by `value`, or removed when `value` is undefined. */
const withField = (field: string, value: unknown): Payload => {
  const object: Record<string, unknown> = { ...valid() };
  if (value === undefined) delete object[field];
  else object[field] = value;
  return { raw: Buffer.from(JSON.stringify(object)) };
};
const text = (t: string): Payload => ({ raw: Buffer.from(t, 'utf8') });
const bytes = (...b: number[]): Payload => ({ raw: Buffer.from(b) });
const validJson = JSON.stringify(valid());
const accepted = (cents = 4250): Outcome => ({ accepted: true, cents });
const schema = (path: string, detail?: RegExp): Outcome => ({ reason: 'schema_violation', path, detail });
const badJson: Outcome = { reason: 'bad_json' };
const undecodable = (detail?: RegExp): Outcome => ({ reason: 'undecodable', detail });
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

const KINDS: Kind[] = [
  // Encoding
  { name: 'bytes that are not UTF-8 (0xff)', payload: bytes(0x7b, 0xff, 0x7d), expect: undecodable(/UTF-8/) },
  { name: 'overlong UTF-8 (0xc0 0xaf)', payload: bytes(0x22, 0xc0, 0xaf, 0x22), expect: undecodable(/UTF-8/) },
  { name: 'an encoded lone surrogate (0xed 0xa0 0x80)', payload: bytes(0x22, 0xed, 0xa0, 0x80, 0x22), expect: undecodable(/UTF-8/) },
  { name: 'Latin-1 text (0xe9)', payload: { raw: Buffer.from(validJson.replace('FR', 'FR\u00e9'), 'latin1') }, expect: undecodable(/UTF-8/) },
  { name: 'UTF-16LE JSON', payload: { raw: Buffer.from(validJson, 'utf16le') }, expect: badJson },
  { name: 'a UTF-8 byte order mark before valid JSON (stripped, as RFC 8259 allows)', payload: { raw: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(validJson)]) }, expect: accepted() },
  { name: 'data that is not base64', payload: { base64: 'eyJ0eG5JZCI6%%%' }, expect: undecodable(/base64/) },
  { name: 'base64url alphabet (- and _)', payload: { base64: Buffer.from(`${validJson}??>`).toString('base64url') }, expect: undecodable(/base64/) },
  { name: 'base64 with a line break', payload: { base64: `${Buffer.from(validJson).toString('base64').slice(0, 8)}\n${Buffer.from(validJson).toString('base64').slice(8)}` }, expect: undecodable(/base64/) },
  { name: 'base64 without its padding', payload: { base64: Buffer.from(`${validJson} `).toString('base64').replace(/=+$/, '') }, expect: undecodable(/base64/) },
  { name: 'a raw NUL inside a string', payload: text(validJson.replace('merch-0193', 'merch\u00000193')), expect: badJson },
  // JSON shape
  { name: 'empty data', payload: text(''), expect: badJson },
  { name: 'whitespace only', payload: text(' \n\t '), expect: badJson },
  { name: 'truncated JSON', payload: text(validJson.slice(0, -7)), expect: badJson },
  { name: 'a trailing comma', payload: text(`${validJson.slice(0, -1)},}`), expect: badJson },
  { name: 'single quotes', payload: text(validJson.replaceAll('"', "'")), expect: badJson },
  { name: 'a NaN literal', payload: text(validJson.replace('42.5', 'NaN')), expect: badJson },
  { name: 'a comment', payload: text(`/* c */${validJson}`), expect: badJson },
  { name: 'two objects (NDJSON in one record)', payload: text(`${validJson}\n${validJson}`), expect: badJson },
  { name: 'trailing garbage', payload: text(`${validJson}x`), expect: badJson },
  { name: 'JSON null', payload: text('null'), expect: schema('', /must be object/) },
  { name: 'a JSON array of the transaction', payload: text(`[${validJson}]`), expect: schema('', /must be object/) },
  { name: 'a JSON string', payload: text('"hello"'), expect: schema('', /must be object/) },
  { name: 'a JSON number', payload: text('42'), expect: schema('', /must be object/) },
  { name: 'JSON true', payload: text('true'), expect: schema('', /must be object/) },
  { name: 'an empty object', payload: text('{}'), expect: schema('', /must have required property/) },
  { name: 'an unknown field', payload: withField('note', 'x'), expect: schema('', /additional properties: note/) },
  { name: 'a __proto__ field', payload: text(`${validJson.slice(0, -1)},"__proto__":{"amount":1}}`), expect: schema('', /additional properties: __proto__/) },
  { name: 'a constructor field', payload: withField('constructor', {}), expect: schema('', /additional properties: constructor/) },
  { name: 'duplicate key, the later one invalid (JSON.parse keeps the last)', payload: text(`${validJson.slice(0, -1)},"amount":-5}`), expect: schema('/amount') },
  { name: 'duplicate key, the later one valid (the last wins, as in the Flink job\'s Jackson)', payload: text(`{"amount":-5,${validJson.slice(1)}`), expect: accepted() },
  { name: 'nesting 100,000 deep in a field', payload: text(validJson.replace('"POS"', nested(100_000))), expect: schema('/channel') },
  { name: 'nesting 100,000 deep as the whole record', payload: text(nested(100_000)), expect: schema('', /must be object/) },
  // Sizes (a Kinesis record and an MSK message default to at most 1 MB)
  { name: 'a 1 MB txnId', payload: withField('txnId', 'a'.repeat(1_000_000)), expect: schema('/txnId', /64/) },
  { name: 'a 1 MB merchantId', payload: withField('merchantId', 'm'.repeat(1_000_000)), expect: schema('/merchantId', /64/) },
  { name: 'a 1 MB unknown field', payload: withField('pad', 'p'.repeat(1_000_000)), expect: schema('', /additional properties: pad/) },
  { name: '1 MB of whitespace around a valid transaction', payload: text(`${' '.repeat(500_000)}${validJson}${'\n'.repeat(500_000)}`), expect: accepted() },
  // Every field: missing, null, wrong type
  ...(['txnId', 'cardId', 'customerId', 'merchantId', 'amount', 'currency', 'country', 'channel', 'eventTime', 'schemaVersion'] as const).flatMap((field): Kind[] => [
    { name: `${field} missing`, payload: withField(field, undefined), expect: schema('', new RegExp(`required property '${field}'`)) },
    { name: `${field} null`, payload: withField(field, null), expect: schema(`/${field}`) },
    {
      name: `${field} of the wrong type`,
      payload: withField(field, ['amount', 'eventTime', 'schemaVersion'].includes(field) ? String(valid()[field]) : 123),
      expect: schema(`/${field}`, /must be/),
    },
    { name: `${field} an object`, payload: withField(field, { value: valid()[field] }), expect: schema(`/${field}`) },
  ]),
  // Ranges and patterns
  { name: 'txnId empty', payload: withField('txnId', ''), expect: schema('/txnId') },
  { name: 'txnId of 65 characters', payload: withField('txnId', 't'.repeat(65)), expect: schema('/txnId') },
  { name: 'txnId of 64 characters', payload: withField('txnId', 't'.repeat(64)), expect: accepted() },
  { name: 'txnId with a space', payload: withField('txnId', 'a b'), expect: schema('/txnId', /pattern/) },
  { name: 'txnId with a slash (would be a path)', payload: withField('txnId', '../x'), expect: schema('/txnId', /pattern/) },
  { name: 'cardId with a non-ASCII letter', payload: withField('cardId', 'card-\u00fc'), expect: schema('/cardId', /pattern/) },
  { name: 'cardId __proto__', payload: withField('cardId', '__proto__'), expect: accepted() },
  { name: 'customerId with a quote', payload: withField('customerId', 'c"1'), expect: schema('/customerId', /pattern/) },
  { name: 'merchantId with Unicode (no pattern: any text)', payload: withField('merchantId', 'Caf\u00e9 \u{1F600}'), expect: accepted() },
  { name: 'amount 0', payload: withField('amount', 0), expect: schema('/amount') },
  { name: 'amount -0', payload: text(validJson.replace('42.5', '-0')), expect: schema('/amount') },
  { name: 'amount negative', payload: withField('amount', -5), expect: schema('/amount') },
  { name: 'amount over 1,000,000', payload: withField('amount', 1_000_000.01), expect: schema('/amount') },
  { name: 'amount 1e-12 (below a cent)', payload: withField('amount', 1e-12), expect: schema('/amount', /multiple of 0.01/) },
  { name: 'amount 5e-324 (the smallest double)', payload: text(validJson.replace('42.5', '5e-324')), expect: schema('/amount', /multiple of 0.01/) },
  { name: 'amount with three decimals', payload: withField('amount', 10.001), expect: schema('/amount', /multiple of 0.01/) },
  { name: 'amount 1e400 (parses to Infinity)', payload: text(validJson.replace('42.5', '1e400')), expect: schema('/amount') },
  { name: 'amount 0.01 (the smallest)', payload: withField('amount', 0.01), expect: accepted(1) },
  { name: 'amount 1,000,000 (the largest)', payload: withField('amount', 1_000_000), expect: accepted(100_000_000) },
  { name: 'amount written 42.50', payload: text(validJson.replace('42.5', '42.50')), expect: accepted() },
  { name: 'amount written 4.25e1', payload: text(validJson.replace('42.5', '4.25e1')), expect: accepted() },
  { name: 'currency lower case', payload: withField('currency', 'eur'), expect: schema('/currency') },
  { name: 'currency ZZZ (not ISO 4217)', payload: withField('currency', 'ZZZ'), expect: schema('/currency') },
  { name: 'currency XXX (no currency)', payload: withField('currency', 'XXX'), expect: schema('/currency') },
  { name: 'currency of four letters', payload: withField('currency', 'EURO'), expect: schema('/currency') },
  { name: 'country lower case', payload: withField('country', 'fr'), expect: schema('/country') },
  { name: 'country ZZ (not ISO 3166-1)', payload: withField('country', 'ZZ'), expect: schema('/country') },
  { name: 'country UK (GB is the code)', payload: withField('country', 'UK'), expect: schema('/country') },
  { name: 'country alpha-3', payload: withField('country', 'FRA'), expect: schema('/country') },
  { name: 'channel lower case', payload: withField('channel', 'pos'), expect: schema('/channel', /POS, ECOM, ATM, CONTACTLESS/) },
  { name: 'channel unknown', payload: withField('channel', 'WIRE'), expect: schema('/channel') },
  { name: 'eventTime with a fraction', payload: withField('eventTime', T0 + 0.5), expect: schema('/eventTime', /integer/) },
  { name: 'eventTime in seconds (before 2000)', payload: withField('eventTime', Math.floor(T0 / 1000)), expect: schema('/eventTime') },
  { name: 'eventTime after 2100', payload: withField('eventTime', 4_102_444_800_001), expect: schema('/eventTime') },
  { name: 'eventTime 1e20', payload: withField('eventTime', 1e20), expect: schema('/eventTime') },
  { name: 'schemaVersion 2', payload: withField('schemaVersion', 2), expect: schema('/schemaVersion') },
  { name: 'schemaVersion written 1.0 (the number one)', payload: text(validJson.replace('"schemaVersion":1', '"schemaVersion":1.0')), expect: accepted() },
  // Envelopes: Kinesis
  {
    name: 'Kinesis: no approximateArrivalTimestamp, valid data',
    payload: valid(), expect: accepted(), only: 'kinesis',
    kinesisEnvelope: (r) => delete (r.kinesis as Partial<KinesisStreamRecord['kinesis']>).approximateArrivalTimestamp,
  },
  {
    name: 'Kinesis: no approximateArrivalTimestamp, malformed data',
    payload: text('{'), expect: badJson, only: 'kinesis',
    kinesisEnvelope: (r) => delete (r.kinesis as Partial<KinesisStreamRecord['kinesis']>).approximateArrivalTimestamp,
  },
  {
    name: 'Kinesis: approximateArrivalTimestamp as a string, malformed data',
    payload: text('{'), expect: badJson, only: 'kinesis',
    kinesisEnvelope: (r) => ((r.kinesis as unknown as Record<string, unknown>).approximateArrivalTimestamp = '1545084650.987'),
  },
  {
    name: 'Kinesis: approximateArrivalTimestamp negative, malformed data',
    payload: text('{'), expect: badJson, only: 'kinesis',
    kinesisEnvelope: (r) => (r.kinesis.approximateArrivalTimestamp = -1),
  },
  {
    name: 'Kinesis: approximateArrivalTimestamp 1e300, malformed data',
    payload: text('{'), expect: badJson, only: 'kinesis',
    kinesisEnvelope: (r) => (r.kinesis.approximateArrivalTimestamp = 1e300),
  },
  {
    name: 'Kinesis: no partitionKey',
    payload: text('{'), expect: badJson, only: 'kinesis',
    kinesisEnvelope: (r) => delete (r.kinesis as Partial<KinesisStreamRecord['kinesis']>).partitionKey,
  },
  {
    name: 'Kinesis: no data',
    payload: valid(), expect: undecodable(/data is missing/), only: 'kinesis',
    kinesisEnvelope: (r) => delete (r.kinesis as Partial<KinesisStreamRecord['kinesis']>).data,
  },
  {
    name: 'Kinesis: data null',
    payload: valid(), expect: undecodable(/data is missing/), only: 'kinesis',
    kinesisEnvelope: (r) => ((r.kinesis as unknown as Record<string, unknown>).data = null),
  },
  {
    name: 'Kinesis: encryptionType KMS (Lambda delivers the data decrypted)',
    payload: valid(), expect: accepted(), only: 'kinesis',
    kinesisEnvelope: (r) => ((r.kinesis as unknown as Record<string, unknown>).encryptionType = 'KMS'),
  },
  // Envelopes: MSK
  {
    name: 'MSK: no timestamp, valid value', payload: valid(), expect: accepted(), only: 'msk',
    mskEnvelope: (r) => delete (r as Partial<MskRecord>).timestamp,
  },
  {
    name: 'MSK: no timestamp, malformed value', payload: text('{'), expect: badJson, only: 'msk',
    mskEnvelope: (r) => delete (r as Partial<MskRecord>).timestamp,
  },
  {
    name: 'MSK: timestamp as a string, malformed value', payload: text('{'), expect: badJson, only: 'msk',
    mskEnvelope: (r) => ((r as unknown as Record<string, unknown>).timestamp = '1545084650987'),
  },
  { name: 'MSK: LOG_APPEND_TIME', payload: valid(), expect: accepted(), only: 'msk', mskEnvelope: (r) => (r.timestampType = 'LOG_APPEND_TIME') },
  { name: 'MSK: key absent', payload: valid(), expect: accepted(), only: 'msk', mskEnvelope: (r) => delete r.key },
  { name: 'MSK: key null', payload: valid(), expect: accepted(), only: 'msk', mskEnvelope: (r) => (r.key = null) },
  { name: 'MSK: binary key (not UTF-8)', payload: valid(), expect: accepted(), only: 'msk', mskEnvelope: (r) => (r.key = Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('base64')) },
  { name: 'MSK: key not base64', payload: valid(), expect: accepted(), only: 'msk', mskEnvelope: (r) => (r.key = '%%%') },
  { name: 'MSK: no headers', payload: valid(), expect: accepted(), only: 'msk', mskEnvelope: (r) => delete (r as Partial<MskRecord>).headers },
  { name: 'MSK: a header with a binary value', payload: valid(), expect: accepted(), only: 'msk', mskEnvelope: (r) => (r.headers = [{ h: [0xff, 0x00] }]) },
  { name: 'MSK: value null (a tombstone)', payload: valid(), expect: undecodable(/value is missing/), only: 'msk', mskEnvelope: (r) => (r.value = null) },
  { name: 'MSK: value absent', payload: valid(), expect: undecodable(/value is missing/), only: 'msk', mskEnvelope: (r) => delete r.value },
];

const s3Mock = mockClient(S3Client);
const kinesisMock = mockClient(KinesisClient);

const handler = () => silentSpeedLayerHandler({ now: T0 + 300_000 });

beforeEach(() => {
  s3Mock.reset().on(PutObjectCommand).resolves({});
  kinesisMock.reset().on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => ({
    FailedRecordCount: 0,
    Records: input.Records!.map(() => ({ ShardId: 'shardId-000000000000', SequenceNumber: '1' })),
  }));
});

/** Valid neighbours around the bad record: two before, two after, each its own card. */
const NEIGHBOURS = [1, 2, 3, 4].map((i) => txn({ txnId: `ok-${i}`, cardId: `card-ok-${i}`, amount: i * 10, eventTime: T0 + i * 1_000 }));
const batch = (bad: Payload): Payload[] => [NEIGHBOURS[0], NEIGHBOURS[1], bad, NEIGHBOURS[2], NEIGHBOURS[3]];

function eventFor(source: 'kinesis' | 'msk', kind: Kind): KinesisEvent | MskEvent {
  if (source === 'kinesis') {
    const event = kinesisEvent(0, batch(kind.payload));
    kind.kinesisEnvelope?.(event.Records[2]);
    return event;
  }
  const event = mskEvent([{ partition: 0, payloads: batch(kind.payload) }]);
  kind.mskEnvelope?.(event.records[`${TOPIC}-0`][2]);
  return event;
}

/** Per card: [transactions, cents] summed over every spend_per_card_minute object written. */
function cardTotals(puts: PutObjectCommandInput[]): Map<string, [number, number]> {
  const totals = new Map<string, [number, number]>();
  for (const put of puts.filter((p) => p.Key!.startsWith('speed/spend_per_card_minute/'))) {
    for (const line of String(put.Body).trim().split('\n')) {
      const row = JSON.parse(line) as { card_id: string; txn_count: number; total_amount: number };
      const [count, cents] = totals.get(row.card_id) ?? [0, 0];
      totals.set(row.card_id, [count + row.txn_count, cents + Math.round(row.total_amount * 100)]);
    }
  }
  return totals;
}

const cases = KINDS.flatMap((kind) => (['kinesis', 'msk'] as const).filter((s) => !kind.only || kind.only === s).map((source) => ({ source, kind })));

describe('the bad-input corpus', () => {
  it('has at least 60 kinds, each named once', () => {
    expect(KINDS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(KINDS.map((k) => k.name)).size).toBe(KINDS.length);
  });

  it.each(cases.map((c) => [c.source, c.kind.name, c] as const))('%s: %s', async (_source, _name, { source, kind }) => {
    const response = await handler()(eventFor(source, kind) as KinesisEvent);
    expect(response.batchItemFailures).toEqual([]);

    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    const deadLetters = puts.filter((p) => p.Key!.startsWith(`${VALID_ENV.DEAD_LETTER_PREFIX}/`));
    const totals = cardTotals(puts);
    // Every neighbour counted exactly once, whatever happened to the bad record.
    for (const n of NEIGHBOURS) expect(totals.get(n.cardId)).toEqual([1, n.amount * 100]);

    if ('accepted' in kind.expect) {
      expect(deadLetters).toEqual([]);
      const badCard = [...totals.keys()].filter((card) => !NEIGHBOURS.some((n) => n.cardId === card));
      expect(badCard).toHaveLength(1);
      expect(totals.get(badCard[0])).toEqual([1, kind.expect.cents]);
    } else {
      expect(totals.size).toBe(NEIGHBOURS.length);
      expect(deadLetters).toHaveLength(1);
      expect(deadLetters[0].Key).toMatch(/^deadletter\/speed\/dt=\d{4}-\d\d-\d\d\/hr=\d\d\/[\w.-]+-\d+\.json$/);
      const body = JSON.parse(String(deadLetters[0].Body));
      expect(body.reason).toBe(kind.expect.reason);
      if (kind.expect.path !== undefined) expect(body.errors.map((e: { path: string }) => e.path)).toContain(kind.expect.path);
      if (kind.expect.detail) expect(body.detail).toMatch(kind.expect.detail);
    }
  });
});
