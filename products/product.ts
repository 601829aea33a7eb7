import { z } from 'zod';

/**
 * What every product definition has, whatever its events and rules: the platform's side of the
 * product/platform seam (docs/products.md). A product adds its own rules, views and workload by
 * extending `productBaseSchema`; the platform reads only what it knows about through each path's
 * channel (the speed layer's environment, the Flink job's runtime properties, the batch SQL).
 *
 * Free of CDK and of Node APIs other than what zod needs: the CDK app, the sandbox and the tests
 * import it, and the Lambda bundles only its types.
 */

/** A duration in whole milliseconds, at most a day (every window and rule horizon of a streaming product). */
export const durationMs = z.int().min(1).max(86_400_000);

/** A view's window, by kind: Flink's window assigners and the batch SQL's recomputation of them. */
export const tumblingWindow = z.strictObject({ kind: z.literal('tumbling'), sizeMs: durationMs });
export const slidingWindow = z
  .strictObject({ kind: z.literal('sliding'), sizeMs: durationMs, slideMs: durationMs })
  .refine((w) => w.sizeMs % w.slideMs === 0, 'sizeMs must be a whole number of slides');
export const sessionWindow = z.strictObject({ kind: z.literal('session'), gapMs: durationMs });

export const productBaseSchema = z.strictObject({
  $comment: z.string().optional(),
  /** Lower-case, dash-separated: it becomes part of names (`npm run new-product` will check it too). */
  name: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, 'must be lower-case letters, digits and dashes'),
  description: z.string().min(1),
  /** The event's JSON Schema, relative to the repository root. */
  eventSchema: z.string().min(1),
  /** The result views' columns (schemas/views.json's shape), relative to the repository root. */
  viewSchemas: z.string().min(1),
});

/** Parse a product definition, or fail naming the product and every bad field. */
export function parseProduct<S extends z.ZodType>(schema: S, raw: unknown, source: string): z.infer<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw new Error(`Product definition ${source} is invalid:\n${z.prettifyError(result.error)}`);
  return result.data;
}
