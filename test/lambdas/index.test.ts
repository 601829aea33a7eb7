import { VALID_ENV } from './fixtures';

/** The entry point the CDK stack bundles: it must refuse to start without its environment. */
describe('lambdas/speed-layer/index.ts', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  function load(): unknown {
    let loaded: unknown;
    jest.isolateModules(() => {
      loaded = require('../../lambdas/speed-layer/index');
    });
    return loaded;
  }

  it('fails at init naming the missing variable', () => {
    process.env = { ...saved, ...VALID_ENV };
    delete process.env.LAKE_BUCKET_NAME;
    expect(load).toThrow('Speed layer environment: LAKE_BUCKET_NAME is not set');
  });

  it('exports the handler when the environment is complete', () => {
    process.env = { ...saved, ...VALID_ENV, AWS_REGION: 'eu-west-1' };
    expect(typeof (load() as { handler: unknown }).handler).toBe('function');
  });
});
