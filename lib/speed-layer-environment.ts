import type { AlertNotifierEnvironment } from '../lambdas/alert-notifier/env';
import { alertsDeadLetterPrefix } from '../lambdas/alert-notifier/layout';
import type { SpeedLayerEnv } from '../lambdas/speed-layer/env';
import type { SpeedRuleParameters } from '../lambdas/speed-layer/rules';
import { LakePrefix, SPEED_DEAD_LETTER_PREFIX } from './lake-layout';

/** The speed layer's metric namespace and service name (Powertools), for the function and the dashboard. */
export const SPEED_LAYER_METRICS = { namespace: 'Tributary', service: 'speed-layer' } as const;

/** The alert notifier's metric namespace and service name (Powertools). */
export const ALERT_NOTIFIER_METRICS = { namespace: 'Tributary', service: 'alert-notifier' } as const;

/** Where the alert notifier dead-letters malformed alert records: `deadletter/alerts` (grant PutObject under it). */
export const ALERT_NOTIFIER_DEAD_LETTER_PREFIX = alertsDeadLetterPrefix(LakePrefix.deadLetter);

/** The alerts log the speed layer writes to: of the same kind as the event log. */
export type AlertsLogEnvironment =
  | { type: 'kinesis'; streamName: string }
  /** `bootstrapBrokers`: `host:port[,host:port...]` (MSK: the IAM bootstrap brokers; sandbox: the plaintext broker). */
  | { type: 'kafka'; bootstrapBrokers: string; topic: string; auth: 'iam' | 'none' };

/**
 * The speed-layer function's environment: one definition for the deployed function
 * (SpeedLayerStack) and the sandbox's stand-in, so both run the handler alike.
 */
export function speedLayerEnvironment(target: {
  bucketName: string;
  alertsLog: AlertsLogEnvironment;
  /** The product's R1/R2 parameters (its definition's `rules`). */
  rules: SpeedRuleParameters;
}): SpeedLayerEnv {
  const log = target.alertsLog;
  return {
    LAKE_BUCKET_NAME: target.bucketName,
    SPEED_PREFIX: LakePrefix.speed,
    DEAD_LETTER_PREFIX: SPEED_DEAD_LETTER_PREFIX,
    ...(log.type === 'kinesis'
      ? { ALERTS_LOG_TYPE: 'kinesis' as const, ALERTS_STREAM_NAME: log.streamName }
      : { ALERTS_LOG_TYPE: 'kafka' as const, ALERTS_KAFKA_BROKERS: log.bootstrapBrokers, ALERTS_KAFKA_TOPIC: log.topic, ALERTS_KAFKA_AUTH: log.auth }),
    ...speedRuleEnvironment(target.rules),
    POWERTOOLS_SERVICE_NAME: SPEED_LAYER_METRICS.service,
    POWERTOOLS_METRICS_NAMESPACE: SPEED_LAYER_METRICS.namespace,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
}

/** The product's R1/R2 parameters as the function's environment, so the deployed function shows them. */
export function speedRuleEnvironment(rules: SpeedRuleParameters): Pick<SpeedLayerEnv, 'RULE_R1_LARGE_ABOVE_CENTS' | 'RULE_R1_WITHIN_MS' | 'RULE_R2_WITHIN_MS'> {
  return {
    RULE_R1_LARGE_ABOVE_CENTS: String(rules.R1.largeAboveCents),
    RULE_R1_WITHIN_MS: String(rules.R1.withinMs),
    RULE_R2_WITHIN_MS: String(rules.R2.withinMs),
  };
}

/**
 * The alert notifier's environment, for the deployed function and the sandbox alike. `idempotencyExpirySeconds`
 * is the alerts log's retention: any redelivery the log can still make finds its idempotency record.
 */
export function alertNotifierEnvironment(target: {
  bucketName: string;
  alertsTopicArn: string;
  idempotencyTableName: string;
  idempotencyExpirySeconds: number;
}): AlertNotifierEnvironment {
  return {
    ALERTS_TOPIC_ARN: target.alertsTopicArn,
    IDEMPOTENCY_TABLE_NAME: target.idempotencyTableName,
    IDEMPOTENCY_EXPIRY_SECONDS: String(target.idempotencyExpirySeconds),
    LAKE_BUCKET_NAME: target.bucketName,
    DEAD_LETTER_PREFIX: LakePrefix.deadLetter,
    POWERTOOLS_SERVICE_NAME: ALERT_NOTIFIER_METRICS.service,
    POWERTOOLS_METRICS_NAMESPACE: ALERT_NOTIFIER_METRICS.namespace,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
}
