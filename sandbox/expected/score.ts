import { RULES, type Incident, type KnownGroundTruth, type Rule } from '../generator/types';

/**
 * Precision and recall of a path's alerts against the generator's ground truth.
 *
 * Matching: an alert matches an incident when rule, cardId and the SET of txnIds are equal. (The
 * alert id then agrees too, since windowStart is an event time of those transactions; requiring
 * the txnIds as well rejects an alert that has the right window for the wrong reason.) Alerts are
 * first deduplicated by (rule, cardId, txnIds), since sinks are at-least-once and several paths'
 * alerts may be pooled. Each incident matches at most once.
 *
 * precision = matched alerts / distinct alerts (1 when there are no alerts);
 * recall = matched incidents / incidents (1 when there are none). The counts are given as well.
 */

export interface AlertLike {
  alertId?: string;
  rule: string;
  cardId: string;
  txnIds: readonly string[];
}

export interface RuleScore {
  alerts: number;
  incidents: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
}

export interface Score {
  overall: RuleScore;
  perRule: Record<Rule, RuleScore>;
  /** Distinct alerts matching no incident. */
  falsePositives: AlertLike[];
  /** Incidents no alert matched. */
  missed: Incident[];
}

function matchKey(rule: string, cardId: string, txnIds: readonly string[]): string {
  return JSON.stringify([rule, cardId, [...txnIds].sort()]);
}

function ruleScore(alerts: number, incidents: number, truePositives: number): RuleScore {
  const falsePositives = alerts - truePositives;
  const falseNegatives = incidents - truePositives;
  return {
    alerts,
    incidents,
    truePositives,
    falsePositives,
    falseNegatives,
    precision: alerts === 0 ? 1 : truePositives / alerts,
    recall: incidents === 0 ? 1 : truePositives / incidents,
  };
}

/** Score alerts (of any path, any rule) against a known ground truth or a list of incidents. */
export function score(alerts: readonly AlertLike[], groundTruth: KnownGroundTruth | readonly Incident[]): Score {
  const incidents: readonly Incident[] = Array.isArray(groundTruth) ? groundTruth : (groundTruth as KnownGroundTruth).incidents;
  const byKey = new Map<string, Incident>();
  for (const incident of incidents) byKey.set(matchKey(incident.rule, incident.cardId, incident.txnIds), incident);

  const distinct = new Map<string, AlertLike>();
  for (const a of alerts) {
    const key = matchKey(a.rule, a.cardId, a.txnIds);
    if (!distinct.has(key)) distinct.set(key, a);
  }
  const matched = new Set<string>();
  const falsePositives: AlertLike[] = [];
  const perRuleAlerts = new Map<string, number>();
  const perRuleHits = new Map<string, number>();
  for (const [key, a] of distinct) {
    perRuleAlerts.set(a.rule, (perRuleAlerts.get(a.rule) ?? 0) + 1);
    if (byKey.has(key)) {
      matched.add(key);
      perRuleHits.set(a.rule, (perRuleHits.get(a.rule) ?? 0) + 1);
    } else {
      falsePositives.push(a);
    }
  }
  const perRule = Object.fromEntries(
    RULES.map((rule) => [
      rule,
      ruleScore(perRuleAlerts.get(rule) ?? 0, incidents.filter((i) => i.rule === rule).length, perRuleHits.get(rule) ?? 0),
    ]),
  ) as Record<Rule, RuleScore>;
  return {
    overall: ruleScore(distinct.size, incidents.length, matched.size),
    perRule,
    falsePositives,
    missed: incidents.filter((i) => !matched.has(matchKey(i.rule, i.cardId, i.txnIds))),
  };
}
