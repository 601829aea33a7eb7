import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ConfigError, defaultConfig, loadConfig, parseConfig, platformConfigSchema } from '../../lib/config';
import { cdkJsonContext, profileNames, REPO_ROOT } from '../helpers/synth';

function load(context: Record<string, unknown>) {
  return loadConfig(new App({ context: { ...cdkJsonContext(), ...context } }).node);
}

function errorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError, got none');
}

describe('configuration', () => {
  test('the defaults are a valid configuration', () => {
    expect(platformConfigSchema.safeParse(defaultConfig).success).toBe(true);
  });

  test.each(profileNames())('profile %s in cdk.json is valid', (profile) => {
    expect(() => load({ profile })).not.toThrow();
  });

  test('dev: Kinesis on-demand, Kappa, destroyable, no alarms', () => {
    const { config } = load({ profile: 'dev' });
    expect(config.eventLog.kinesis.capacityMode).toBe('on-demand');
    expect(config.architecture).toBe('kappa');
    expect(config.dataRemoval).toBe('destroy');
    expect(config.observability.alarmsEnabled).toBe(false);
  });

  test('prod: Kinesis provisioned, both architectures, data retained, alarms on', () => {
    const { config } = load({ profile: 'prod' });
    expect(config.eventLog.kinesis.capacityMode).toBe('provisioned');
    expect(config.architecture).toBe('both');
    expect(config.dataRemoval).toBe('retain');
    expect(config.observability.alarmsEnabled).toBe(true);
  });

  test('without -c profile the cdk.json default profile is used', () => {
    expect(loadConfig(new App({ context: cdkJsonContext() }).node).profile).toBe('dev');
  });

  test('-c section.key=value overrides one key, reading numbers and booleans', () => {
    const { config } = load({ profile: 'dev', 'speedLayer.batchSize': '250', 'eventLog.kinesis.enhancedFanOut': 'true' });
    expect(config.speedLayer.batchSize).toBe(250);
    expect(config.eventLog.kinesis.enhancedFanOut).toBe(true);
    // The rest of the profile is untouched.
    expect(config.speedLayer.maxBatchingWindowSeconds).toBe(defaultConfig.speedLayer.maxBatchingWindowSeconds);
  });

  test('a value out of range names the key, the value and what is allowed', () => {
    const message = errorOf(() => load({ profile: 'dev', 'speedLayer.batchSize': '20000' }));
    expect(message).toContain("profile 'dev'");
    expect(message).toContain('speedLayer.batchSize = 20000');
    expect(message).toContain('must be <= 10000');
    expect(message).toContain('context.profiles.dev');
  });

  test('a value outside an enum lists the allowed values', () => {
    const message = errorOf(() => load({ profile: 'dev', 'eventLog.kinesis.capacityMode': 'elastic' }));
    expect(message).toContain('eventLog.kinesis.capacityMode = "elastic"');
    expect(message).toContain('allowed: "on-demand", "provisioned"');
  });

  test('a misspelt key in a profile is rejected, not ignored', () => {
    const message = errorOf(() => parseConfig('dev', { ...defaultConfig, speedLayer: { ...defaultConfig.speedLayer, batchSzie: 10 } }));
    expect(message).toContain("speedLayer: unknown key(s) 'batchSzie'");
  });

  test('an override of an unknown section is rejected with the known sections', () => {
    const message = errorOf(() => load({ profile: 'dev', 'speedlayer.batchSize': '10' }));
    expect(message).toContain("Unknown configuration key 'speedlayer.batchSize'");
    expect(message).toContain('speedLayer');
  });

  test('an unknown profile lists the available ones', () => {
    const message = errorOf(() => load({ profile: 'staging' }));
    expect(message).toContain("Unknown profile 'staging'");
    expect(message).toContain('Available: dev, msk, msk-serverless, prod.');
  });

  test('a cross-field rule of S3 is explained, not silently clamped', () => {
    const message = errorOf(() => load({ profile: 'dev', 'lake.rawInfrequentAccessAfterDays': '10' }));
    expect(message).toContain('lake.rawInfrequentAccessAfterDays = 10: S3 moves objects to Infrequent Access after 30 days at the earliest');
  });

  test('docs/configuration.md documents every key, and only keys that exist', () => {
    const documented = [...fs.readFileSync(path.join(REPO_ROOT, 'docs', 'configuration.md'), 'utf8').matchAll(/^\| `([\w.]+)` \|/gm)].map((m) => m[1]);
    const leaves = (shape: Record<string, any>, prefix = ''): string[] =>
      Object.entries(shape).flatMap(([key, schema]) => {
        const inner = schema.unwrap?.() ?? schema;
        return inner.shape ? leaves(inner.shape, `${prefix}${key}.`) : [`${prefix}${key}`];
      });
    expect(documented.sort()).toEqual(leaves(platformConfigSchema.shape).sort());
  });

  test('the alerts log: 24 h at least on Kinesis (the stream\'s minimum), less allowed on MSK; the notifier\'s record age within that retention', () => {
    expect(errorOf(() => load({ profile: 'dev', 'alerts.retentionHours': '12' }))).toContain('alerts.retentionHours = 12');
    expect(load({ profile: 'msk', 'alerts.retentionHours': '12', 'alerts.notifier.maxRecordAgeSeconds': '600' }).config.alerts.retentionHours).toBe(12);
    const message = errorOf(() => load({ profile: 'dev', 'alerts.notifier.maxRecordAgeSeconds': String(25 * 3600) }));
    expect(message).toContain(`alerts.notifier.maxRecordAgeSeconds = ${25 * 3600}: must be at most the alerts log's retention`);
    expect(load({ profile: 'dev', 'alerts.notifier.batchSize': '7' }).config.alerts.notifier.batchSize).toBe(7);
  });

  test('every profile lets the speed path answer within about a second: no batching window on the speed layer or the notifier', () => {
    for (const profile of profileNames()) {
      const { config } = load({ profile });
      expect([profile, config.speedLayer.maxBatchingWindowSeconds, config.alerts.notifier.maxBatchingWindowSeconds]).toEqual([profile, 0, 0]);
    }
  });

  test('every problem is reported at once, one line each', () => {
    const message = errorOf(() => load({ profile: 'dev', 'speedLayer.batchSize': '0', 'archive.bufferingSizeMiB': '32' }));
    expect(message).toContain('speedLayer.batchSize = 0: must be >= 1');
    expect(message).toContain('archive.bufferingSizeMiB = 32: must be >= 64');
  });

  test('cdk synth with a bad value fails with the key named and no stack trace', () => {
    const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '-c', 'profile=prod', '-c', 'eventLog.kinesis.retentionHours=9000'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('eventLog.kinesis.retentionHours = 9000: must be <= 8760');
    expect(result.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/);
  });
});
