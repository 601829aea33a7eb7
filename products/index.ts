import { cardFraud, type CardFraudProduct } from './card-fraud';

/**
 * The registry of products: one folder per product under products/, each with its definition.
 * The platform is built for one product at a time (a later `product` config key will choose it).
 */
export const PRODUCTS = { 'card-fraud': cardFraud } as const satisfies Record<string, { name: string }>;
export type ProductName = keyof typeof PRODUCTS;

/** A product by name, or an error listing the products there are. */
export function productDefinition(name: string): CardFraudProduct {
  if (!Object.hasOwn(PRODUCTS, name)) throw new Error(`Unknown product '${name}'; the products are: ${Object.keys(PRODUCTS).join(', ')}`);
  return PRODUCTS[name as ProductName];
}
