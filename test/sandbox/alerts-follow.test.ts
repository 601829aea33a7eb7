import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { alertJson, type AlertRecord } from '../../lambdas/shared/alert';
import { PRODUCED_AT_FILE, printAlerts } from '../../sandbox/alerts';
import { defaultSettings, sandboxDirs } from '../../sandbox/settings';
import { REPO } from '../helpers/sandbox';

/**
 * `sandbox alerts --follow` reads what the SNS stand-in and the producer append, as they append it: each
 * delivered alert is printed once, with its latency from the produce of its last transaction.
 */
describe('sandbox alerts --follow', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'alerts-follow-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  const alert = (card: string, detectedBy: 'speed' | 'stream'): AlertRecord => ({
    alertId: `R2:${card}:1000`, rule: 'R2', cardId: card, customerId: 'cust-1', windowStart: 1000, txnIds: [`t-${card}-1`, `t-${card}-2`], detectedBy, detectedAt: 5000,
  });

  test('prints each alert delivered after it started, once, with its latency; stops on abort', async () => {
    const settings = defaultSettings(REPO, { home });
    const dirs = sandboxDirs(settings);
    const topic = path.join(dirs.sns, `${settings.alertsTopicName}.ndjson`);
    const runDir = path.join(dirs.runs, 'run-1');
    fs.mkdirSync(dirs.sns, { recursive: true });
    fs.mkdirSync(runDir, { recursive: true });
    const publish = (a: AlertRecord, publishedAt: number) =>
      fs.appendFileSync(topic, `${JSON.stringify({ messageId: `m-${a.cardId}-${a.detectedBy}`, message: alertJson(a), publishedAt: new Date(publishedAt).toISOString(), attributes: {} })}\n`);
    const produced = (txnId: string, acceptedAt: number) => fs.appendFileSync(path.join(runDir, PRODUCED_AT_FILE), `${JSON.stringify({ txnId, acceptedAt })}\n`);

    produced('t-a-1', 1_000);
    produced('t-a-2', 2_000);
    publish(alert('a', 'speed'), 2_500);

    const lines: string[] = [];
    const abort = new AbortController();
    const following = printAlerts(settings, { follow: true, fromStart: false, out: (l) => lines.push(l), signal: abort.signal, pollMs: 20 });
    await sleep(100);
    produced('t-b-1', 10_000);
    produced('t-b-2', 11_000);
    publish(alert('b', 'stream'), 11_750);
    await sleep(150);
    publish(alert('b', 'speed'), 12_000);
    await sleep(150);
    abort.abort();
    const printed = await following;

    expect(printed).toBe(2);
    const body = lines.slice(1);
    expect(body).toHaveLength(2);
    expect(body[0]).toMatch(/stream.*R2.*\bb\b.*0\.75 s/);
    expect(body[1]).toMatch(/speed.*R2.*\bb\b.*1\.00 s/);
    expect(lines.join('\n')).not.toMatch(/\ba\b.*R2:a:/);
  });
});
