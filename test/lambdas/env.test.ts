import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadSpeedLayerEnv, speedLayerEnvSchema } from '../../lambdas/speed-layer/env';
import { VALID_ENV } from './fixtures';


describe('speed-layer environment', () => {
  it('declares exactly the variables the stack must set', () => {
    expect(Object.keys(speedLayerEnvSchema.shape).sort()).toEqual([
      'ALERTS_TOPIC_ARN',
      'DEAD_LETTER_PREFIX',
      'LAKE_BUCKET_NAME',
      'POWERTOOLS_LOG_LEVEL',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_SERVICE_NAME',
      'SPEED_PREFIX',
    ]);
  });

  it('parses a complete environment and normalises the log level', () => {
    expect(loadSpeedLayerEnv({ ...VALID_ENV, AWS_REGION: 'eu-west-1' })).toEqual({ ...VALID_ENV, POWERTOOLS_LOG_LEVEL: 'INFO' });
  });

  it('fails fast naming every missing variable', () => {
    const { ALERTS_TOPIC_ARN: _topic, SPEED_PREFIX: _prefix, ...partial } = VALID_ENV;
    expect(() => loadSpeedLayerEnv(partial)).toThrow(
      'Speed layer environment: SPEED_PREFIX is not set; ALERTS_TOPIC_ARN is not set',
    );
  });

  it.each([
    ['SPEED_PREFIX', 'speed/', 'must be an S3 key prefix without leading or trailing "/"'],
    ['DEAD_LETTER_PREFIX', '/deadletter', 'must be an S3 key prefix without leading or trailing "/"'],
    ['LAKE_BUCKET_NAME', 'Lake_Bucket', 'must be an S3 bucket name'],
    ['ALERTS_TOPIC_ARN', 'tributary-alerts', 'must be an SNS topic ARN'],
    ['POWERTOOLS_LOG_LEVEL', 'verbose', 'Invalid option'],
  ])('rejects an invalid %s, naming it', (name, value, message) => {
    expect(() => loadSpeedLayerEnv({ ...VALID_ENV, [name]: value })).toThrow(`${name} is invalid: ${message}`);
  });

  it('is, with the batch layer\'s env.ts, the only place under lambdas/ that reads process.env', () => {
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
    expect(readers.map((path) => relative(root, path)).sort()).toEqual(['batch-layer/env.ts', 'speed-layer/env.ts']);
  });
});
