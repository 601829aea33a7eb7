import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { alertNotifierEnvSchema, loadAlertNotifierEnv } from '../../lambdas/alert-notifier/env';
import { alertsLogTarget, loadSpeedLayerEnv, runtimeRegion, speedLayerEnvSchema, speedRuleParameters } from '../../lambdas/speed-layer/env';
import { alertNotifierEnvironment, speedLayerEnvironment } from '../../lib/speed-layer-environment';
import { cardFraud } from '../../products/card-fraud';
import { VALID_ENV } from './fixtures';

const KAFKA_ENV = {
  ...VALID_ENV,
  ALERTS_LOG_TYPE: 'kafka',
  ALERTS_STREAM_NAME: undefined,
  ALERTS_KAFKA_BROKERS: 'b-1.tributary.a1b2c3.c4.kafka.eu-west-1.amazonaws.com:9098,b-2.tributary.a1b2c3.c4.kafka.eu-west-1.amazonaws.com:9098',
  ALERTS_KAFKA_TOPIC: 'tributary.alerts',
  ALERTS_KAFKA_AUTH: 'iam',
};

describe('speed-layer environment', () => {
  it('declares exactly the variables the stack must set', () => {
    expect(Object.keys(speedLayerEnvSchema.shape).sort()).toEqual([
      'ALERTS_KAFKA_AUTH',
      'ALERTS_KAFKA_BROKERS',
      'ALERTS_KAFKA_TOPIC',
      'ALERTS_LOG_TYPE',
      'ALERTS_STREAM_NAME',
      'DEAD_LETTER_PREFIX',
      'LAKE_BUCKET_NAME',
      'POWERTOOLS_LOG_LEVEL',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
      'RULE_R1_LARGE_ABOVE_CENTS',
      'RULE_R1_WITHIN_MS',
      'RULE_R2_WITHIN_MS',
      'SPEED_PREFIX',
    ]);
  });

  it('parses a complete environment and normalises the log level', () => {
    expect(loadSpeedLayerEnv({ ...VALID_ENV, AWS_REGION: 'eu-west-1' })).toEqual({ ...VALID_ENV, POWERTOOLS_LOG_LEVEL: 'INFO' });
  });

  it('gives the alerts log of each type', () => {
    expect(alertsLogTarget(loadSpeedLayerEnv(VALID_ENV))).toEqual({ type: 'kinesis', streamName: 'tributary-dev-alerts-log' });
    expect(alertsLogTarget(loadSpeedLayerEnv(KAFKA_ENV))).toEqual({
      type: 'kafka',
      brokers: ['b-1.tributary.a1b2c3.c4.kafka.eu-west-1.amazonaws.com:9098', 'b-2.tributary.a1b2c3.c4.kafka.eu-west-1.amazonaws.com:9098'],
      topic: 'tributary.alerts',
      auth: 'iam',
    });
  });

  it('fails fast naming every missing variable, including those the alerts log type needs', () => {
    const { ALERTS_STREAM_NAME: _stream, SPEED_PREFIX: _prefix, ...partial } = VALID_ENV;
    expect(() => loadSpeedLayerEnv(partial)).toThrow('Speed layer environment: SPEED_PREFIX is not set');
    expect(() => loadSpeedLayerEnv({ ...partial, SPEED_PREFIX: 'speed' })).toThrow('Speed layer environment: ALERTS_STREAM_NAME is not set');
    expect(() => loadSpeedLayerEnv({ ...KAFKA_ENV, ALERTS_KAFKA_TOPIC: undefined, ALERTS_KAFKA_AUTH: undefined })).toThrow(
      'Speed layer environment: ALERTS_KAFKA_TOPIC is not set; ALERTS_KAFKA_AUTH is not set',
    );
  });

  it.each([
    ['SPEED_PREFIX', 'speed/', 'must be an S3 key prefix without leading or trailing "/"'],
    ['DEAD_LETTER_PREFIX', '/deadletter', 'must be an S3 key prefix without leading or trailing "/"'],
    ['LAKE_BUCKET_NAME', 'Lake_Bucket', 'must be an S3 bucket name'],
    ['ALERTS_LOG_TYPE', 'sns', 'Invalid option'],
    ['ALERTS_STREAM_NAME', 'alerts log', 'must be a Kinesis stream name'],
    ['POWERTOOLS_LOG_LEVEL', 'verbose', 'Invalid option'],
    ['RULE_R1_LARGE_ABOVE_CENTS', '100.00', 'must be a whole number from 1 to 999999999'],
    ['RULE_R1_WITHIN_MS', '0', 'must be a whole number from 1 to 999999999'],
    ['RULE_R2_WITHIN_MS', '5m', 'must be a whole number from 1 to 999999999'],
  ])('rejects an invalid %s, naming it', (name, value, message) => {
    expect(() => loadSpeedLayerEnv({ ...VALID_ENV, [name]: value })).toThrow(`${name} is invalid: ${message}`);
  });

  it.each([
    ['ALERTS_KAFKA_BROKERS', 'b-1.example.com', 'must be host:port[,host:port...]'],
    ['ALERTS_KAFKA_TOPIC', 'alerts topic', 'must be a Kafka topic name'],
    ['ALERTS_KAFKA_AUTH', 'scram', 'Invalid option'],
  ])('rejects an invalid %s on Kafka, naming it', (name, value, message) => {
    expect(() => loadSpeedLayerEnv({ ...KAFKA_ENV, [name]: value })).toThrow(`${name} is invalid: ${message}`);
  });

  it('reads the region Lambda sets, for the MSK IAM signer', () => {
    expect(runtimeRegion({ AWS_REGION: 'eu-west-1' })).toBe('eu-west-1');
    expect(() => runtimeRegion({})).toThrow('AWS_REGION is not set');
  });

  it('is what lib/speed-layer-environment.ts builds, for either alerts log', () => {
    const kinesis = speedLayerEnvironment({
      bucketName: VALID_ENV.LAKE_BUCKET_NAME,
      alertsLog: { type: 'kinesis', streamName: 'tributary-dev-alerts-log' },
      rules: cardFraud.rules,
    });
    expect(loadSpeedLayerEnv(kinesis)).toEqual(kinesis);
    // The rules round-trip: what the function reads is the product definition's.
    expect(speedRuleParameters(loadSpeedLayerEnv(kinesis))).toEqual({ R1: cardFraud.rules.R1, R2: cardFraud.rules.R2 });
    const kafka = speedLayerEnvironment({
      bucketName: VALID_ENV.LAKE_BUCKET_NAME,
      rules: cardFraud.rules,
      alertsLog: { type: 'kafka', bootstrapBrokers: '127.0.0.1:9092', topic: 'tributary-alerts-log', auth: 'none' },
    });
    expect(alertsLogTarget(loadSpeedLayerEnv(kafka))).toEqual({ type: 'kafka', brokers: ['127.0.0.1:9092'], topic: 'tributary-alerts-log', auth: 'none' });
    expect(Object.keys(kafka)).not.toContain('ALERTS_STREAM_NAME');
  });
});

describe('alert-notifier environment', () => {
  const built = alertNotifierEnvironment({
    bucketName: VALID_ENV.LAKE_BUCKET_NAME,
    alertsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:tributary-dev-alerts',
    idempotencyTableName: 'tributary-dev-alert-idempotency',
    idempotencyExpirySeconds: 24 * 3600,
  });

  it('declares exactly the variables the stack must set, and the helper sets them all', () => {
    const names = [
      'ALERTS_TOPIC_ARN',
      'DEAD_LETTER_PREFIX',
      'IDEMPOTENCY_EXPIRY_SECONDS',
      'IDEMPOTENCY_TABLE_NAME',
      'LAKE_BUCKET_NAME',
      'POWERTOOLS_LOG_LEVEL',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
    ];
    expect(Object.keys(alertNotifierEnvSchema.shape).sort()).toEqual(names);
    expect(Object.keys(built).sort()).toEqual(names);
  });

  it('parses what the helper builds: the expiry as seconds, the dead letters under deadletter', () => {
    expect(loadAlertNotifierEnv(built)).toMatchObject({ IDEMPOTENCY_EXPIRY_SECONDS: 86_400, DEAD_LETTER_PREFIX: 'deadletter', POWERTOOLS_LOG_LEVEL: 'INFO' });
  });

  it.each([
    ['ALERTS_TOPIC_ARN', 'tributary-alerts', 'must be an SNS topic ARN'],
    ['IDEMPOTENCY_TABLE_NAME', 'a', 'must be a DynamoDB table name'],
    ['IDEMPOTENCY_EXPIRY_SECONDS', '1.5', 'must be a whole number of seconds'],
    ['IDEMPOTENCY_EXPIRY_SECONDS', '30', 'must be at least 60 seconds'],
    ['DEAD_LETTER_PREFIX', 'deadletter/', 'must be an S3 key prefix without leading or trailing "/"'],
  ])('rejects an invalid %s, naming it', (name, value, message) => {
    expect(() => loadAlertNotifierEnv({ ...built, [name]: value })).toThrow(`Alert notifier environment: ${name} is invalid: ${message}`);
  });

  it('fails fast naming a missing variable', () => {
    const { IDEMPOTENCY_TABLE_NAME: _table, ...partial } = built;
    expect(() => loadAlertNotifierEnv(partial)).toThrow('Alert notifier environment: IDEMPOTENCY_TABLE_NAME is not set');
  });
});

describe('process.env', () => {
  it('is read under lambdas/ only by the env.ts of each function', () => {
    const root = join(__dirname, '../../lambdas');
    const sources: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) sources.push(path);
      }
    };
    walk(root);
    const readers = sources.filter((path) => readFileSync(path, 'utf8').includes('process.env'));
    expect(sources.length).toBeGreaterThan(5);
    expect(readers.map((path) => relative(root, path)).sort()).toEqual(['alert-notifier/env.ts', 'batch-layer/env.ts', 'speed-layer/env.ts']);
  });
});
