import { z } from 'zod';
import { durationMs, parseProduct, productBaseSchema, sessionWindow, slidingWindow, tumblingWindow } from '../product';
import definition from './product.json';

/**
 * The card fraud product's definition (product.json), typed and validated. Every path reads its
 * values from here or from a channel filled from here: see docs/products.md.
 */

const cents = z.int().min(1).max(99_999_999);
const centsRange = z.strictObject({ min: cents, max: cents }).refine((r) => r.min <= r.max, 'min must not exceed max');

export const cardFraudRulesSchema = z.strictObject({
  /** R1: three transactions over `largeAboveCents` on one card, the third less than `withinMs` after the first. */
  R1: z.strictObject({ largeAboveCents: cents, withinMs: durationMs }),
  /** R2: one card in two countries, the second transaction less than `withinMs` after the first. */
  R2: z.strictObject({ withinMs: durationMs }),
  /** R3: a transaction over `factor` times the card's mean, once the card has `minHistory` earlier ones. */
  R3: z.strictObject({ minHistory: z.int().min(1).max(1_000), factor: z.int().min(2).max(1_000) }),
});
export type CardFraudRules = z.infer<typeof cardFraudRulesSchema>;

/** An aggregate view: its key column and its window (the platform's code for each view is of one window kind). */
const aggregate = <K extends string, W extends z.ZodType>(key: K, window: W) => z.strictObject({ key: z.literal(key), window });

/**
 * The views' windows and threshold that the speed layer (lambdas/speed-layer/views.ts) and the Flink job
 * (TributaryStreamJob, SpendWindowFunctions) still hold in their code. The batch SQL reads them from the
 * definition; until the other paths do too, the definition may not change them, or the paths would
 * disagree silently (docs/products.md, "Not yet read from the definition").
 */
const VIEWS_IN_CODE = {
  spend_per_card_minute: { kind: 'tumbling', sizeMs: 60_000 },
  spend_per_customer_hour: { kind: 'tumbling', sizeMs: 3_600_000 },
  card_velocity: { kind: 'sliding', sizeMs: 600_000, slideMs: 60_000 },
  customer_sessions: { kind: 'session', gapMs: 1_800_000 },
} as const;
const CUSTOMER_HOUR_TOTAL_ABOVE_IN_CODE = 1000;

export const cardFraudSchema = productBaseSchema
  .extend({
    rules: cardFraudRulesSchema,
    views: z.strictObject({
      spend_per_card_minute: aggregate('card_id', tumblingWindow),
      /** Only hours whose total is over `totalAbove` (the ksqlDB example's HAVING). */
      spend_per_customer_hour: aggregate('customer_id', tumblingWindow).extend({ totalAbove: z.number().positive() }),
      card_velocity: aggregate('card_id', slidingWindow),
      customer_sessions: aggregate('customer_id', sessionWindow),
    }),
    /** The sandbox generator's workload: background traffic never trips a rule, incidents always do. */
    generator: z.strictObject({ backgroundCents: centsRange, burstCents: centsRange, burstStepMaxMs: durationMs }),
  })
  .superRefine((p, ctx) => {
    const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (p.generator.backgroundCents.max > p.rules.R1.largeAboveCents) {
      issue(['generator', 'backgroundCents', 'max'], 'background amounts must not exceed rules.R1.largeAboveCents, or background traffic would raise R1');
    }
    if (p.generator.burstCents.min <= p.rules.R1.largeAboveCents) {
      issue(['generator', 'burstCents', 'min'], 'burst amounts must be over rules.R1.largeAboveCents, or an R1 incident would not raise R1');
    }
    if (p.generator.burstCents.max >= p.rules.R3.factor * p.generator.backgroundCents.min) {
      issue(['generator', 'burstCents', 'max'], 'burst amounts must be under rules.R3.factor x backgroundCents.min, or an R1 incident could raise R3');
    }
    if (2 * p.generator.burstStepMaxMs >= p.rules.R1.withinMs) {
      issue(['generator', 'burstStepMaxMs'], 'an R1 burst (two steps) must fit within rules.R1.withinMs');
    }
    for (const [view, window] of Object.entries(VIEWS_IN_CODE)) {
      if (JSON.stringify(p.views[view as keyof typeof VIEWS_IN_CODE].window) !== JSON.stringify(window)) {
        issue(['views', view, 'window'], `must be ${JSON.stringify(window)}: the speed layer and the Flink job do not read it from the definition yet`);
      }
    }
    if (p.views.spend_per_customer_hour.totalAbove !== CUSTOMER_HOUR_TOTAL_ABOVE_IN_CODE) {
      issue(['views', 'spend_per_customer_hour', 'totalAbove'], `must be ${CUSTOMER_HOUR_TOTAL_ABOVE_IN_CODE}: the Flink job does not read it from the definition yet`);
    }
    if (p.generator.burstStepMaxMs >= p.rules.R2.withinMs) {
      issue(['generator', 'burstStepMaxMs'], 'an R2 hop (one step) must fit within rules.R2.withinMs');
    }
  });
export type CardFraudProduct = z.infer<typeof cardFraudSchema>;

/** Validate a card fraud definition (product.json, or a test's changed copy of it). */
export const parseCardFraud = (raw: unknown, source = 'products/card-fraud/product.json'): CardFraudProduct =>
  parseProduct(cardFraudSchema, raw, source);

export const cardFraud: CardFraudProduct = parseCardFraud(definition);
