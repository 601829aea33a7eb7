import { alertNotifierEnvironment } from '../../lib/speed-layer-environment';
import { VALID_ENV } from './fixtures';

/** The entry points the CDK stacks bundle: each must refuse to start without its environment. */
const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

function load(module: string): unknown {
  let loaded: unknown;
  jest.isolateModules(() => {
    loaded = require(module);
  });
  return loaded;
}

describe('lambdas/speed-layer/index.ts', () => {
  const speedLayer = () => load('../../lambdas/speed-layer/index');

  it('fails at init naming the missing variable', () => {
    process.env = { ...saved, ...VALID_ENV };
    delete process.env.LAKE_BUCKET_NAME;
    expect(speedLayer).toThrow('Speed layer environment: LAKE_BUCKET_NAME is not set');
  });

  it('exports the handler when the environment is complete, on either alerts log', () => {
    process.env = { ...saved, ...VALID_ENV, AWS_REGION: 'eu-west-1' };
    expect(typeof (speedLayer() as { handler: unknown }).handler).toBe('function');
    // Kafka: the producer connects on the first append, not at init (nothing listens on this port).
    process.env = { ...saved, ...VALID_ENV, AWS_REGION: 'eu-west-1', ALERTS_LOG_TYPE: 'kafka', ALERTS_KAFKA_BROKERS: '127.0.0.1:1', ALERTS_KAFKA_TOPIC: 'alerts', ALERTS_KAFKA_AUTH: 'iam' };
    delete process.env.ALERTS_STREAM_NAME;
    expect(typeof (speedLayer() as { handler: unknown }).handler).toBe('function');
  });
});

describe('lambdas/alert-notifier/index.ts', () => {
  const notifier = () => load('../../lambdas/alert-notifier/index');
  const env = alertNotifierEnvironment({
    bucketName: VALID_ENV.LAKE_BUCKET_NAME,
    alertsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:tributary-dev-alerts',
    idempotencyTableName: 'tributary-dev-alert-idempotency',
    idempotencyExpirySeconds: 86_400,
  });

  it('fails at init naming the missing variable', () => {
    process.env = { ...saved, ...env, AWS_REGION: 'eu-west-1' };
    delete process.env.IDEMPOTENCY_TABLE_NAME;
    expect(notifier).toThrow('Alert notifier environment: IDEMPOTENCY_TABLE_NAME is not set');
  });

  it('exports the handler when the environment is complete', () => {
    process.env = { ...saved, ...env, AWS_REGION: 'eu-west-1' };
    expect(typeof (notifier() as { handler: unknown }).handler).toBe('function');
  });
});
