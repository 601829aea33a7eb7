import { z } from 'zod';
import type { SpeedRuleParameters } from './rules';
import { bucketName, keyPrefix, parseEnvironment, powertoolsLogLevel } from '../shared/env';

/**
 * The speed layer's environment: the ONLY place the handler reads `process.env`.
 *
 * The schema is the contract with the CDK stack and the sandbox (both build it with
 * lib/speed-layer-environment.ts): the stack's tests check that it sets every variable
 * declared here and nothing else.
 */

/** A rule parameter: a whole number from 1 to 999999999 (cents or milliseconds). */
const RULE_PARAMETER = z.string().regex(/^[1-9]\d{0,8}$/, 'must be a whole number from 1 to 999999999');

const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
// host:port, comma-separated, as MSK's GetBootstrapBrokers and Kafka clients write them.
const BROKER_LIST = /^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/;

export const speedLayerEnvSchema = z
  .object({
    /** The data lake bucket the speed views, alerts and dead letters are written to. */
    LAKE_BUCKET_NAME: bucketName,
    /** Key prefix of the speed views and alerts, e.g. `speed`. */
    SPEED_PREFIX: keyPrefix,
    /** Key prefix of the dead-lettered records, e.g. `deadletter/speed`. */
    DEAD_LETTER_PREFIX: keyPrefix,
    /** The alerts log's kind, the same as the event log's: `kinesis` or `kafka`. */
    ALERTS_LOG_TYPE: z.enum(['kinesis', 'kafka']),
    /** kinesis: the alerts stream's name (PutRecords' StreamName). */
    ALERTS_STREAM_NAME: z.string().regex(/^[a-zA-Z0-9_.-]{1,128}$/, 'must be a Kinesis stream name').optional(),
    /** kafka: the bootstrap brokers, `host:port[,host:port...]`. */
    ALERTS_KAFKA_BROKERS: z.string().regex(BROKER_LIST, 'must be host:port[,host:port...]').optional(),
    /** kafka: the alerts topic. */
    ALERTS_KAFKA_TOPIC: z.string().regex(KAFKA_TOPIC, 'must be a Kafka topic name').optional(),
    /** kafka: `iam` (MSK: TLS + SASL OAUTHBEARER with a signed IAM token) or `none` (the sandbox's plaintext broker). */
    ALERTS_KAFKA_AUTH: z.enum(['iam', 'none']).optional(),
    /** R1: amounts over this many cents count as large (the product definition's rules.R1.largeAboveCents). */
    RULE_R1_LARGE_ABOVE_CENTS: RULE_PARAMETER,
    /** R1: the third large transaction must come less than this many ms after the first (rules.R1.withinMs). */
    RULE_R1_WITHIN_MS: RULE_PARAMETER,
    /** R2: the change of country must come less than this many ms after the previous transaction (rules.R2.withinMs). */
    RULE_R2_WITHIN_MS: RULE_PARAMETER,
    /** Powertools: the `service` of every log line and metric. */
    POWERTOOLS_SERVICE_NAME: z.string().min(1),
    /** Powertools: the CloudWatch namespace of the EMF metrics. */
    POWERTOOLS_METRICS_NAMESPACE: z.string().min(1),
    /** Powertools: TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL or SILENT (any case). */
    POWERTOOLS_LOG_LEVEL: powertoolsLogLevel,
  })
  .superRefine((env, ctx) => {
    const needed = env.ALERTS_LOG_TYPE === 'kinesis' ? (['ALERTS_STREAM_NAME'] as const) : (['ALERTS_KAFKA_BROKERS', 'ALERTS_KAFKA_TOPIC', 'ALERTS_KAFKA_AUTH'] as const);
    for (const name of needed) {
      if (env[name] === undefined) ctx.addIssue({ code: 'custom', path: [name], message: `required when ALERTS_LOG_TYPE is ${env.ALERTS_LOG_TYPE}` });
    }
  });

export type SpeedLayerEnv = z.infer<typeof speedLayerEnvSchema>;

/** Where the speed layer writes its alerts, as the writer takes it. */
export type AlertsLogTarget =
  | { type: 'kinesis'; streamName: string }
  | { type: 'kafka'; brokers: string[]; topic: string; auth: 'iam' | 'none' };

/** Parse the environment or fail with a message naming every missing or invalid variable. */
export function loadSpeedLayerEnv(source: Record<string, string | undefined> = process.env): SpeedLayerEnv {
  return parseEnvironment('Speed layer', speedLayerEnvSchema, source);
}

/** The alerts log of a parsed environment (the schema has made sure the variables of its type are there). */
export function alertsLogTarget(env: SpeedLayerEnv): AlertsLogTarget {
  if (env.ALERTS_LOG_TYPE === 'kinesis') return { type: 'kinesis', streamName: env.ALERTS_STREAM_NAME! };
  return { type: 'kafka', brokers: env.ALERTS_KAFKA_BROKERS!.split(','), topic: env.ALERTS_KAFKA_TOPIC!, auth: env.ALERTS_KAFKA_AUTH! };
}

/** The rule parameters of a parsed environment. */
export function speedRuleParameters(env: SpeedLayerEnv): SpeedRuleParameters {
  return {
    R1: { largeAboveCents: Number(env.RULE_R1_LARGE_ABOVE_CENTS), withinMs: Number(env.RULE_R1_WITHIN_MS) },
    R2: { withinMs: Number(env.RULE_R2_WITHIN_MS) },
  };
}

/**
 * The function's region, which Lambda's runtime sets as AWS_REGION (not part of the stack's contract).
 * The MSK IAM signer needs it explicitly; the SDK clients find it themselves.
 */
export function runtimeRegion(source: Record<string, string | undefined> = process.env): string {
  const region = source.AWS_REGION;
  if (!region) throw new Error('Speed layer environment: AWS_REGION is not set (Lambda sets it; set it when running the handler elsewhere)');
  return region;
}
