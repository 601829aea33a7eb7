import { alertJson } from '../shared/alert';
import { hourPartition, type LakeLayout } from './layout';
import type { Alert } from './rules';
import type { LakeObject } from './views';

/**
 * The two forms of an alert. In the lake it is one JSON line with the columns
 * of the `alerts` view in schemas/views.json (the Glue contract); on the alerts log
 * it is the spec's alert record as is (docs/reference-product.md).
 */

/**
 * `R1:card-1:1763762400000` is stored as `R1_card-1_1763762400000.json` (`:` is awkward in S3 keys and URLs).
 * Still one name per alertId: the rule has no `_` and the window start is digits.
 */
export function alertObjectKey(layout: LakeLayout, alert: Alert): string {
  return `${layout.speedPrefix}/alerts/${hourPartition(alert.windowStart)}/${alert.alertId.replaceAll(':', '_')}.json`;
}

export function alertObject(layout: LakeLayout, alert: Alert): LakeObject {
  const row = {
    alert_id: alert.alertId,
    rule: alert.rule,
    card_id: alert.cardId,
    customer_id: alert.customerId,
    window_start: alert.windowStart,
    txn_ids: alert.txnIds,
    detected_by: alert.detectedBy,
    detected_at: alert.detectedAt,
  };
  return { key: alertObjectKey(layout, alert), body: `${JSON.stringify(row)}\n` };
}

/** The alerts log's record value: the alert record's JSON (lambdas/shared/alert.ts), as the Flink job writes it too. */
export function alertMessage(alert: Alert): string {
  return alertJson(alert);
}
