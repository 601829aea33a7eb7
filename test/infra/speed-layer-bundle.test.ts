import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle, SPEED_LAYER_ENTRY, type Bundle } from '../../bench/handler/bundle';

/**
 * The speed layer's deployment bundle, built with PlatformFunction's bundling options as CDK builds it. The limit
 * holds today's size (bench/README.md): it cannot grow unnoticed. Issue 17's goal is 150 KB; what stands between
 * (zod, kafkajs, the pinned AWS SDK, ajv) is in docs/speed-layer.md, "Bundle and cold start".
 */
const LIMIT_KB = 1_700;

describe('the speed-layer bundle', () => {
  let dir: string;
  let bundle: Bundle;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tributary-bundle-test-'));
    bundle = buildBundle(SPEED_LAYER_ENTRY, dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`stays within ${LIMIT_KB} KB minified`, () => {
    expect(bundle.bytes / 1024).toBeLessThanOrEqual(LIMIT_KB);
  });

  it('holds only what the handler imports: no CDK, build tool or test code', () => {
    const names = bundle.byPackage.map((p) => p.name);
    for (const forbidden of ['aws-cdk-lib', 'constructs', 'esbuild', 'typescript', 'test/lambdas', 'lib/constructs', 'jest']) {
      expect(names).not.toContain(forbidden);
    }
    expect(names).toEqual(expect.arrayContaining(['lambdas/speed-layer', 'lambdas/shared']));
  });
});
