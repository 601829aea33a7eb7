import schema from '../../schemas/transaction.schema.json';
import { kinesisDecoder } from '../../lambdas/shared/kinesis';
import { formatCents, toCents, validateTransaction, type Transaction } from '../../lambdas/shared/transaction';
import { kinesisEvent, POISON, txn, type Payload } from './fixtures';

function validate(payload: Payload) {
  const [record] = kinesisDecoder.decode(kinesisEvent(0, [payload]));
  return validateTransaction(record);
}

function withoutField(field: string): Payload {
  const copy: Record<string, unknown> = { ...txn() };
  delete copy[field];
  return copy as unknown as Payload;
}

describe('Transaction validation agrees with schemas/transaction.schema.json', () => {
  it('accepts a valid transaction and returns it typed', () => {
    const result = validate(txn({ amount: 19.99 }));
    expect(result).toEqual({ valid: true, transaction: txn({ amount: 19.99 }) });
  });

  it('declares in the Transaction type exactly the fields of the schema', () => {
    const typeFields: Record<keyof Transaction, true> = {
      txnId: true, cardId: true, customerId: true, merchantId: true, amount: true,
      currency: true, country: true, channel: true, eventTime: true, schemaVersion: true,
    };
    expect(Object.keys(typeFields).sort()).toEqual(Object.keys(schema.properties).sort());
    expect([...schema.required].sort()).toEqual(Object.keys(schema.properties).sort());
  });

  it.each(schema.required)('rejects a transaction without the required field %s, naming it', (field) => {
    const result = validate(withoutField(field));
    expect(result).toMatchObject({ valid: false, reason: 'schema_violation' });
    if (result.valid) throw new Error('unreachable');
    expect(result.errors).toContainEqual({ path: '', message: `must have required property '${field}'` });
  });

  it.each(schema.properties.channel.enum)('accepts the channel %s', (channel) => {
    expect(validate(txn({ channel: channel as Transaction['channel'] })).valid).toBe(true);
  });

  it('rejects a channel outside the enum and lists the allowed values', () => {
    const result = validate({ ...txn(), channel: 'PHONE' } as unknown as Payload);
    if (result.valid) throw new Error('expected a schema violation');
    expect(result.errors).toEqual([
      { path: '/channel', message: 'must be equal to one of the allowed values: POS, ECOM, ATM, CONTACTLESS' },
    ]);
  });

  it.each([
    ['amount with three decimals', { amount: 10.005 }, '/amount'],
    ['zero amount', { amount: 0 }, '/amount'],
    ['amount above the maximum', { amount: 1000000.01 }, '/amount'],
    ['lower-case currency', { currency: 'eur' }, '/currency'],
    ['three-letter country', { country: 'FRA' }, '/country'],
    ['fractional eventTime', { eventTime: 1763762400000.5 }, '/eventTime'],
    ['eventTime before 2000', { eventTime: 0 }, '/eventTime'],
    ['schemaVersion 2', { schemaVersion: 2 }, '/schemaVersion'],
    ['txnId with a colon', { txnId: 't:1' }, '/txnId'],
    ['empty merchantId', { merchantId: '' }, '/merchantId'],
  ])('rejects %s at its instance path', (_name, override, path) => {
    const result = validate({ ...txn(), ...override } as unknown as Payload);
    if (result.valid) throw new Error('expected a schema violation');
    expect(result.reason).toBe('schema_violation');
    expect(result.errors.map((e) => e.path)).toEqual([path]);
  });

  it.each([0.01, 0.29, 19.99, 1234.56, 1000000])('accepts the two-decimal amount %d despite binary floating point', (amount) => {
    expect(validate(txn({ amount })).valid).toBe(true);
  });

  it('rejects a property the schema does not declare, naming it', () => {
    const result = validate({ ...txn(), pin: '1234' } as unknown as Payload);
    if (result.valid) throw new Error('expected a schema violation');
    expect(result.detail).toBe("/ must NOT have additional properties: pin");
  });

  it('reports bad JSON, invalid UTF-8 and invalid base64 with their own reasons', () => {
    expect(validate(POISON.badJson(1))).toMatchObject({ valid: false, reason: 'bad_json' });
    expect(validate(POISON.notUtf8())).toMatchObject({ valid: false, reason: 'undecodable', detail: 'data is not valid UTF-8' });
    expect(validate(POISON.notBase64())).toMatchObject({ valid: false, reason: 'undecodable', detail: 'data is not valid base64' });
    expect(validate({ raw: Buffer.from('[1,2]') })).toMatchObject({ valid: false, reason: 'schema_violation', detail: '/ must be object' });
  });
});

describe('money', () => {
  it('converts to exact cents and formats decimal(18,2) with two decimals', () => {
    expect(toCents(0.1) + toCents(0.2)).toBe(30);
    expect(toCents(19.99)).toBe(1999);
    expect(formatCents(1250)).toBe('12.50');
    expect(formatCents(7)).toBe('0.07');
    expect(formatCents(100000000000)).toBe('1000000000.00');
  });
});
