import { z } from 'zod';
import { bucketName, keyPrefix, parseEnvironment, powertoolsLogLevel, snsTopicArn } from '../shared/env';

/**
 * The alert notifier's environment: the ONLY place it reads `process.env`. The schema is the contract with
 * the CDK stack and the sandbox (both build it with lib/speed-layer-environment.ts, alertNotifierEnvironment).
 * Local endpoints come only from the SDK's own settings (AWS_ENDPOINT_URL_DYNAMODB, _SNS, _S3).
 */
export const alertNotifierEnvSchema = z.object({
  /** The SNS topic every alert is delivered to. */
  ALERTS_TOPIC_ARN: snsTopicArn,
  /** The Powertools idempotency table: partition key `id` (string), TTL attribute `expiration`. */
  IDEMPOTENCY_TABLE_NAME: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be a DynamoDB table name'),
  /** How long an alert's idempotency record lasts: the longer of the alerts log's and the event log's retention, so every redelivery a producer can make is caught (AlertsStack). */
  IDEMPOTENCY_EXPIRY_SECONDS: z
    .string()
    .regex(/^\d{1,10}$/, 'must be a whole number of seconds')
    .transform(Number)
    .pipe(z.number().min(60, 'must be at least 60 seconds')),
  /** The lake bucket the dead letters go to. */
  LAKE_BUCKET_NAME: bucketName,
  /** The lake's dead-letter prefix, e.g. `deadletter`: malformed alert records go under `<prefix>/alerts/`. */
  DEAD_LETTER_PREFIX: keyPrefix,
  /** Powertools: the `service` of every log line and metric. */
  POWERTOOLS_SERVICE_NAME: z.string().min(1),
  /** Powertools: the CloudWatch namespace of the EMF metrics. */
  POWERTOOLS_METRICS_NAMESPACE: z.string().min(1),
  /** Powertools: TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL or SILENT (any case). */
  POWERTOOLS_LOG_LEVEL: powertoolsLogLevel,
});

/** The variables as set (strings), what the stack and the sandbox build. */
export type AlertNotifierEnvironment = z.input<typeof alertNotifierEnvSchema>;
/** The variables as parsed. */
export type AlertNotifierEnv = z.output<typeof alertNotifierEnvSchema>;

export function loadAlertNotifierEnv(source: Record<string, string | undefined> = process.env): AlertNotifierEnv {
  return parseEnvironment('Alert notifier', alertNotifierEnvSchema, source);
}
