import { toCents, type Transaction } from '../../lambdas/shared/transaction';
import { cardFraud, type CardFraudRules } from '../../products/card-fraud';
import type { Rule } from '../generator/types';

/**
 * THE TEST ORACLE for the rules: R1-R3 exactly as docs/reference-product.md defines them, written from
 * the spec (not from any path's code, so it can check them). Only its parameters come from the product
 * definition (products/card-fraud/product.json), as every path's do, so that a changed threshold changes
 * the oracle's answer and the paths' alike: per card, in event-time order (eventTime, then txnId in
 * string order), over the transactions a path accepts (each txnId once; for stream processing,
 * none of the late ones). Amounts compared in cents.
 *
 * The alert fields are those every path must agree on; detectedBy/detectedAt are left out.
 * customerId is that of the transaction the Flink job builds the alert from: R1 the first of the
 * three, R2 the later of the two, R3 the spike (one card has one owner, so they agree anyway).
 */


export interface ExpectedAlert {
  alertId: string;
  rule: Rule;
  cardId: string;
  customerId: string;
  windowStart: number;
  txnIds: string[];
}

export function compareEventOrder(a: Transaction, b: Transaction): number {
  return a.eventTime - b.eventTime || (a.txnId < b.txnId ? -1 : a.txnId > b.txnId ? 1 : 0);
}

function alert(rule: Rule, source: Transaction, windowStart: number, txnIds: string[]): ExpectedAlert {
  return { alertId: `${rule}:${source.cardId}:${windowStart}`, rule, cardId: source.cardId, customerId: source.customerId, windowStart, txnIds };
}

/** R1 over one card's transactions in event-time order. */
export function r1(ordered: readonly Transaction[], { R1 }: CardFraudRules = cardFraud.rules): ExpectedAlert[] {
  const large = ordered.filter((t) => toCents(t.amount) > R1.largeAboveCents);
  const alerts: ExpectedAlert[] = [];
  let i = 0;
  while (i + 2 < large.length) {
    if (large[i + 2].eventTime - large[i].eventTime < R1.withinMs) {
      const burst = large.slice(i, i + 3);
      alerts.push(alert('R1', burst[0], burst[0].eventTime, burst.map((t) => t.txnId)));
      i += 3;
    } else {
      i += 1;
    }
  }
  return alerts;
}

/** R2 over one card's transactions in event-time order. */
export function r2(ordered: readonly Transaction[], { R2 }: CardFraudRules = cardFraud.rules): ExpectedAlert[] {
  const alerts: ExpectedAlert[] = [];
  for (let k = 1; k < ordered.length; k += 1) {
    const p = ordered[k - 1];
    const e = ordered[k];
    if (e.country !== p.country && e.eventTime - p.eventTime < R2.withinMs) {
      alerts.push(alert('R2', e, p.eventTime, [p.txnId, e.txnId]));
    }
  }
  return alerts;
}

/** R3 over one card's transactions in event-time order: amount * count > factor * sum, in cents. */
export function r3(ordered: readonly Transaction[], { R3 }: CardFraudRules = cardFraud.rules): ExpectedAlert[] {
  const alerts: ExpectedAlert[] = [];
  let count = 0;
  let sum = 0;
  for (const e of ordered) {
    const cents = toCents(e.amount);
    if (count >= R3.minHistory && cents * count > R3.factor * sum) {
      alerts.push(alert('R3', e, e.eventTime, [e.txnId]));
    }
    count += 1;
    sum += cents;
  }
  return alerts;
}

/**
 * Every alert of R1, R2 and R3 over the accepted transactions (which must hold each txnId once),
 * sorted by (rule, cardId, windowStart).
 */
export function referenceAlerts(accepted: readonly Transaction[], rules: CardFraudRules = cardFraud.rules): ExpectedAlert[] {
  const byCard = new Map<string, Transaction[]>();
  for (const txn of accepted) {
    const list = byCard.get(txn.cardId) ?? [];
    list.push(txn);
    byCard.set(txn.cardId, list);
  }
  const alerts: ExpectedAlert[] = [];
  for (const txns of byCard.values()) {
    const ordered = [...txns].sort(compareEventOrder);
    alerts.push(...r1(ordered, rules), ...r2(ordered, rules), ...r3(ordered, rules));
  }
  return alerts.sort(
    (a, b) =>
      (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0) ||
      (a.cardId < b.cardId ? -1 : a.cardId > b.cardId ? 1 : 0) ||
      a.windowStart - b.windowStart,
  );
}
