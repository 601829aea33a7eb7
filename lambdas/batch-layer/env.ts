import { z } from 'zod';
import { bucketName, parseEnvironment, powertoolsLogLevel } from '../shared/env';

/**
 * The batch-layer function's environment: the ONLY place it reads `process.env`.
 * The schema is the contract with BatchLayerStack, whose test checks that the
 * function gets every variable declared here and nothing else.
 */

export const batchLayerEnvSchema = z.object({
  /** The lake bucket whose raw/ the plan lists. */
  LAKE_BUCKET_NAME: bucketName,
  /** Key prefix of the master dataset, e.g. `raw`, partitioned `dt=yyyy-MM-dd/`. */
  RAW_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'must be an S3 key prefix without leading or trailing "/"'),
  /** The Glue database of the lake, as the statements name it. */
  DATABASE_NAME: z.string().regex(/^[a-z0-9_]{1,255}$/, 'must be a Glue database name (lowercase letters, digits, underscores)'),
  /** A run takes raw/ as complete up to this many minutes before it started (config batch.settleMinutes). */
  SETTLE_MINUTES: z.coerce.number().int('must be a whole number of minutes').min(1).max(1440),
  /** Powertools: the `service` of every log line. */
  POWERTOOLS_SERVICE_NAME: z.string().min(1),
  /** Powertools: TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL or SILENT (any case). */
  POWERTOOLS_LOG_LEVEL: powertoolsLogLevel,
});

export type BatchLayerEnv = z.infer<typeof batchLayerEnvSchema>;

/** Parse the environment or fail with a message naming every missing or invalid variable. */
export function loadBatchLayerEnv(source: Record<string, string | undefined> = process.env): BatchLayerEnv {
  return parseEnvironment('Batch layer', batchLayerEnvSchema, source);
}
