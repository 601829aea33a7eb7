import { parseCardFraud } from '../../products/card-fraud';
import definition from '../../products/card-fraud/product.json';

/** A changed copy of the card fraud definition: product.json as written, `change` applied to a deep copy, validated. */
export function changedCardFraud(change: (copy: any) => void) {
  const copy = structuredClone(definition);
  change(copy);
  return parseCardFraud(copy, 'a changed copy of products/card-fraud/product.json');
}

/**
 * The copy every path's contract test runs: R1 over 150.00 (not 100.00), R2 within 2 min (not 5), R3 over
 * 5x (not 10x); the generator's amounts moved with them, as the definition's validation requires.
 * ProductRulesContractTest (flink-apps) runs the Flink job with the same rules.
 */
export const CHANGED = changedCardFraud((p) => {
  p.rules.R1.largeAboveCents = 15_000;
  p.rules.R2.withinMs = 120_000;
  p.rules.R3.factor = 5;
  p.generator.backgroundCents = { min: 4_000, max: 9_500 };
  p.generator.burstCents = { min: 15_001, max: 19_999 };
});
