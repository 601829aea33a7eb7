import type { SourceRecord } from '../../lambdas/shared/source-record';
import {
  toCents,
  validateTransaction,
  type InvalidReason,
  type SchemaError,
  type Transaction,
} from '../../lambdas/shared/transaction';

/**
 * Every produced record through the project's own validator (lambdas/shared/transaction.ts), the
 * one every TypeScript path uses: which records are Transactions, and why the others are not.
 */

/** What was produced: the data as sent (and the key, if known). `LabelledRecord` fits. */
export interface ProducedInput {
  data: string | Buffer;
  key?: string;
}

export interface ValidDelivery {
  /** Position in the produced sequence. */
  index: number;
  transaction: Transaction;
  cents: number;
  /** True for the first delivery of its txnId in produced order; later ones are duplicates. */
  first: boolean;
}

export interface MalformedDelivery {
  index: number;
  data: string;
  reason: InvalidReason;
  detail: string;
  errors: SchemaError[];
}

export interface Deliveries {
  valid: ValidDelivery[];
  malformed: MalformedDelivery[];
}

function sourceRecord(record: ProducedInput, index: number): SourceRecord {
  const data = typeof record.data === 'string' ? Buffer.from(record.data, 'utf8') : record.data;
  return {
    coordinates: {
      eventSource: 'sandbox:expected',
      stream: 'expected',
      shardId: 'expected',
      sequenceNumber: String(index),
      partitionKey: record.key ?? '',
      arrivalTime: 0,
    },
    data,
    encodedData: data.toString('base64'),
  };
}

export function classifyDeliveries(records: readonly ProducedInput[]): Deliveries {
  const valid: ValidDelivery[] = [];
  const malformed: MalformedDelivery[] = [];
  const seen = new Set<string>();
  records.forEach((record, index) => {
    const result = validateTransaction(sourceRecord(record, index));
    if (result.valid) {
      const txn = result.transaction;
      valid.push({ index, transaction: txn, cents: toCents(txn.amount), first: !seen.has(txn.txnId) });
      seen.add(txn.txnId);
    } else {
      const data = typeof record.data === 'string' ? record.data : record.data.toString('utf8');
      malformed.push({ index, data, reason: result.reason, detail: result.detail, errors: result.errors });
    }
  });
  return { valid, malformed };
}
