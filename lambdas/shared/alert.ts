import { z } from 'zod';
import { parseJsonRecord, type SourceRecord } from './source-record';

/**
 * The alert record (docs/reference-product.md, "The alert record") as it travels on the alerts log: the value
 * of each record, JSON in UTF-8, written by the speed layer and the Flink job and read by the alert notifier.
 */

const epochMillis = z.number().int().nonnegative();

export const alertRecordSchema = z
  .object({
    /** `<rule>:<cardId>:<windowStart>`. */
    alertId: z.string().min(1),
    rule: z.enum(['R1', 'R2', 'R3']),
    cardId: z.string().min(1),
    customerId: z.string().min(1),
    windowStart: epochMillis,
    txnIds: z.array(z.string().min(1)).min(1),
    /** Only the speed layer and the stream job write to the alerts log; the batch layer's alerts are a lake view only. */
    detectedBy: z.enum(['speed', 'stream']),
    detectedAt: epochMillis,
  })
  .refine((a) => a.alertId === `${a.rule}:${a.cardId}:${a.windowStart}`, {
    path: ['alertId'],
    message: 'must be <rule>:<cardId>:<windowStart>',
  });

export type AlertRecord = z.output<typeof alertRecordSchema>;

/** The alert's JSON, fields in the record's documented order: the alerts log's value and the SNS message body. */
export function alertJson(alert: AlertRecord): string {
  const { alertId, rule, cardId, customerId, windowStart, txnIds, detectedBy, detectedAt } = alert;
  return JSON.stringify({ alertId, rule, cardId, customerId, windowStart, txnIds, detectedBy, detectedAt });
}

export type AlertValidation =
  | { valid: true; alert: AlertRecord }
  | { valid: false; reason: 'undecodable' | 'bad_json' | 'schema_violation'; detail: string; errors: Array<{ path: string; message: string }> };

/** Decode, parse and validate one alerts-log record, saying precisely why when it is not an alert. Unknown fields are dropped. */
export function validateAlertRecord(record: SourceRecord): AlertValidation {
  const json = parseJsonRecord(record);
  if (!json.ok) return { valid: false, reason: json.reason, detail: json.detail, errors: [] };
  const result = alertRecordSchema.safeParse(json.parsed);
  if (result.success) return { valid: true, alert: result.data };
  // JSON Pointers, as the transactions' dead letters have them.
  const errors = result.error.issues.map((issue) => ({ path: issue.path.map((p) => `/${String(p)}`).join(''), message: issue.message }));
  return { valid: false, reason: 'schema_violation', detail: errors.map((e) => `${e.path || '/'} ${e.message}`).join('; '), errors };
}
