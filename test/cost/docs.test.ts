import * as fs from 'node:fs';
import { DEFAULT_WORKLOAD, estimate } from '../../lib/cost/model';
import { PRICES } from '../../lib/cost/prices';
import { loadProfiles } from '../../lib/cost/profiles';
import { DOCS_COMMAND, renderDocs, renderText } from '../../lib/cost/render';
import { COST_DOC, main } from '../../scripts/cost';

describe('docs/cost.md', () => {
  test('is what the cost command generates from the current prices, model and profiles', () => {
    const committed = fs.readFileSync(COST_DOC, 'utf8');
    const fresh = renderDocs(loadProfiles());
    if (fresh !== committed) {
      throw new Error(`docs/cost.md is stale: run \`${DOCS_COMMAND}\` and commit the result`);
    }
  });

  test('every unit price names an AWS pricing page and a read date; the ones not found say where they looked', () => {
    for (const price of Object.values(PRICES)) {
      expect(price.awsPage).toMatch(/^https:\/\/aws\.amazon\.com\/.+\/pricing\//);
      expect(price.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(price.seenAt).toBeTruthy();
    }
    const doc = fs.readFileSync(COST_DOC, 'utf8');
    for (const price of Object.values(PRICES).filter((p) => p.status === 'not-found')) expect(doc).toContain(`${price.service}: ${price.description}`);
  });
});

describe('the cost command', () => {
  test('prints one profile at one rate as text, the same as the model gives', () => {
    const config = loadProfiles().get('dev');
    if (!config) throw new Error('no dev profile');
    expect(main(['--profile', 'dev', '--rate', '1000'])).toBe(renderText(estimate('dev', config, { ...DEFAULT_WORKLOAD, rate: 1000 })));
  });

  test('--event-bytes changes the estimate; --markdown prints a table', () => {
    expect(main(['--profile', 'msk', '--rate', '1000', '--event-bytes', '2048'])).toContain('2,048 B');
    expect(main(['--profile', 'prod', '--rate', '10000', '--markdown'])).toMatch(/^\| Kinesis Data Streams \| events stream \(provisioned, 4 shards\) \| OVER CAPACITY \|/m);
  });

  test('--all is the page, and an unknown profile is an error naming the known ones', () => {
    expect(main(['--all'])).toBe(fs.readFileSync(COST_DOC, 'utf8'));
    expect(() => main(['--profile', 'nope'])).toThrow("unknown profile 'nope'; cdk.json has: dev, prod, msk, msk-serverless");
  });
});
