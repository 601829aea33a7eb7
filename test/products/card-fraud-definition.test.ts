import { PRODUCTS, productDefinition } from '../../products';
import { cardFraud } from '../../products/card-fraud';
import { changedCardFraud } from './changed-definition';

describe('the card fraud product definition', () => {
  test('product.json is valid and is what the registry serves', () => {
    expect(cardFraud.name).toBe('card-fraud');
    expect(productDefinition('card-fraud')).toBe(cardFraud);
    for (const [name, product] of Object.entries(PRODUCTS)) expect(product.name).toBe(name);
    expect(() => productDefinition('iot')).toThrow("Unknown product 'iot'; the products are: card-fraud");
  });

  test('a bad value is refused naming the file and the field', () => {
    expect(() => changedCardFraud((p) => (p.rules.R1.withinMs = 0))).toThrow(
      /Product definition a changed copy of products\/card-fraud\/product.json is invalid:[\s\S]*rules\.R1\.withinMs/,
    );
    expect(() => changedCardFraud((p) => (p.rules.R4 = {}))).toThrow(/Unrecognized key: "R4"/);
    expect(() => changedCardFraud((p) => (p.views.card_velocity.window = { kind: 'tumbling', sizeMs: 60_000 }))).toThrow(/views\.card_velocity\.window/);
  });

  test('the views\' windows and threshold cannot change until the speed layer and the Flink job read them', () => {
    expect(() => changedCardFraud((p) => (p.views.card_velocity.window.sizeMs = 300_000))).toThrow(
      /the speed layer and the Flink job do not read it from the definition yet[\s\S]*→ at views\.card_velocity\.window/,
    );
    expect(() => changedCardFraud((p) => (p.views.spend_per_customer_hour.totalAbove = 500))).toThrow(/the Flink job does not read it/);
  });

  test('the generator workload must stay on the right side of the rules, or its ground truth would be wrong', () => {
    expect(() => changedCardFraud((p) => (p.rules.R1.largeAboveCents = 9_000))).toThrow(
      /background amounts must not exceed rules\.R1\.largeAboveCents[\s\S]*→ at generator\.backgroundCents\.max/,
    );
    expect(() => changedCardFraud((p) => (p.rules.R1.largeAboveCents = 15_000))).toThrow(
      /burst amounts must be over rules\.R1\.largeAboveCents/,
    );
    expect(() => changedCardFraud((p) => (p.rules.R3.factor = 5))).toThrow(/an R1 incident could raise R3/);
  });
});
