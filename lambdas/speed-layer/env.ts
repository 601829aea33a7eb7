import { z } from 'zod';

/**
 * The speed layer's environment: the ONLY place the handler reads `process.env`.
 *
 * The schema is the contract with the CDK stack: the stack's tests check that
 * it sets every variable declared here and nothing else.
 */

// An S3 key prefix without leading or trailing slash ("speed", "deadletter/speed").
const keyPrefix = z
  .string()
  .regex(/^[A-Za-z0-9!_.*'()=-]+(\/[A-Za-z0-9!_.*'()=-]+)*$/, 'must be an S3 key prefix without leading or trailing "/"');

const powertoolsLogLevel = z
  .string()
  .transform((level) => level.toUpperCase())
  .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT']));

export const speedLayerEnvSchema = z.object({
  /** The data lake bucket the speed views, alerts and dead letters are written to. */
  LAKE_BUCKET_NAME: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  /** Key prefix of the speed views and alerts, e.g. `speed`. */
  SPEED_PREFIX: keyPrefix,
  /** Key prefix of the dead-lettered records, e.g. `deadletter/speed`. */
  DEAD_LETTER_PREFIX: keyPrefix,
  /** SNS topic every alert is published to. */
  ALERTS_TOPIC_ARN: z.string().regex(/^arn:[a-z-]+:sns:[a-z0-9-]*:\d*:[A-Za-z0-9_-]+(\.fifo)?$/, 'must be an SNS topic ARN'),
  /** Powertools: the `service` of every log line and metric. */
  POWERTOOLS_SERVICE_NAME: z.string().min(1),
  /** Powertools: the CloudWatch namespace of the EMF metrics. */
  POWERTOOLS_METRICS_NAMESPACE: z.string().min(1),
  /** Powertools: TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL or SILENT (any case). */
  POWERTOOLS_LOG_LEVEL: powertoolsLogLevel,
});

export type SpeedLayerEnv = z.infer<typeof speedLayerEnvSchema>;

/** Parse the environment or fail with a message naming every missing or invalid variable. */
export function loadSpeedLayerEnv(source: Record<string, string | undefined> = process.env): SpeedLayerEnv {
  const result = speedLayerEnvSchema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    return source[name] === undefined ? `${name} is not set` : `${name} is invalid: ${issue.message}`;
  });
  throw new Error(`Speed layer environment: ${problems.join('; ')}`);
}
