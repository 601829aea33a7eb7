import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { runBatch } from '../../sandbox/batch';
import { explain, type CompareAnswer } from '../../sandbox/console/compare';
import { MAX_ROWS, startConsole, type ConsoleStatus, type QueryAnswer, type RunningConsole } from '../../sandbox/console/server';
import { switchServingVersion } from '../../sandbox/serving/version';
import { defaultSettings, sandboxDirs } from '../../sandbox/settings';
import type { GeneratedWorkload } from '../../sandbox/generator';
import { sandboxPlatformConfig } from '../../sandbox/platform-config';
import { makeWorkload, runWorkload, type RunResult } from '../../sandbox/run';
import { startSandbox, type Sandbox } from '../../sandbox/session';
import { freePorts, REPO, testSettings } from '../helpers/sandbox';

/**
 * The web console on a sandbox of its own, in headless Chromium while a short workload runs: the diagram
 * renders with live counters in its boxes, the counters move, an injected incident's alert shows up in the
 * alerts panel with its latency, a query returns rows in the table (an invalid one, a clear error), the
 * Lambda-vs-Kappa chart shows the three paths' spend, and a batch run shows as it serves. What is asserted
 * is the text a person sees on the page. Screenshots are kept in test-output/console*.png to look at.
 *
 * The workload is 60 s of event time at 100 records/s produced at 200/s (30 s): makeWorkload keeps the last
 * 45 s of event time free of fraud for the stream job, so the incidents are in the first 15 s.
 */

const { config } = sandboxPlatformConfig(REPO);
const SCREENSHOT = path.join(REPO, 'test-output', 'console.png');
const JSON_TYPE = { 'content-type': 'application/json' };

/** A request with headers fetch would not send as given (Host), answered with its status code. */
function statusOf(url: string, options: { method?: string; headers: Record<string, string>; body?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method ?? 'GET', headers: options.headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

/** Polls `read` until `done` holds of its value, or fails after `timeoutMs` with the last value. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs / 1000} s`);
    await sleep(500);
    value = await read();
  }
  return value;
}

describe('the sandbox web console', () => {
  let sandbox: Sandbox;
  let workload: GeneratedWorkload;
  let web: RunningConsole;
  let browser: BrowserContext | undefined;
  let page: Page;
  let run: Promise<RunResult | undefined>;
  let userDataDir: string | undefined;

  beforeAll(async () => {
    const settings = await testSettings('tributary-console');
    // Event time from 50 s into a minute: the stream job emits a window once its watermark (the newest event
    // time less 5 s out-of-orderness) passes the window's end plus 30 s allowed lateness, so with 60 s of events
    // the first minute closes (and can be compared) and the second stays open.
    const startTime = Math.floor(Date.now() / 60_000) * 60_000 - 10_000;
    workload = makeWorkload({ seed: 23, rate: 100, durationSeconds: 60, startTime, rates: { r1: 5, r2: 5, r3: 5 } }, config);
    sandbox = await startSandbox(settings, { cards: workload.groundTruth.cards, flinkCheckpointIntervalMs: 5000 });
    const flink = sandbox.flink;
    web = await startConsole({ settings, config, profile: 'dev', flink: () => flink, log: sandbox.log, port: (await freePorts(1))[0] });
    // A fresh Chromium profile, removed after.
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-console-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1600, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    await page.goto(web.url);
    // Produced in the background while the tests look at the page; awaited (briefly drained) in afterAll.
    run = runWorkload(sandbox, { rate: 200, durationSeconds: 30, seed: 23, workload, drainTimeoutSeconds: 20, out: () => undefined })
      .catch(() => undefined);
  }, 240_000);

  afterAll(async () => {
    await run?.catch(() => undefined);
    await browser?.close().catch(() => undefined);
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    await web?.close();
    await sandbox?.log.close();
    await sandbox?.supervisor.stopAll();
    if (sandbox) fs.rmSync(sandbox.settings.home, { recursive: true, force: true });
  }, 120_000);

  /** The text of the diagram's box that stands for `key` (its title, state and counter lines). */
  const box = (key: string) => page.locator(`#diagram g.node[data-live="${key}"] .nodeLabel`).first().innerText({ timeout: 10_000 });
  const counter = (name: string) => page.locator(`[data-counter="${name}"]`).first().textContent({ timeout: 10_000 }).then((text) => text ?? '');
  const count = (text: string) => (/^[\d,]+$/.test(text) ? Number(text.replace(/,/g, '')) : undefined);

  it('renders the architecture diagram and shows each component up', async () => {
    await page.locator('#diagram svg g.cluster').first().waitFor({ timeout: 30_000 });
    await page.locator('.component[data-component="speed-layer"] .badge.up').waitFor({ timeout: 15_000 });
    // The speed layer's cluster in the diagram takes its stand-in's state, and its box says so in words.
    await page.locator('#diagram g.cluster.state-up[id$="-SpeedLayer"]').waitFor({ timeout: 10_000 });
    expect(await box('speed-layer')).toMatch(/^Lambda\s+Handler\s+UP\s+read [\d,]+ · /);
    expect(await box('serving-version')).toMatch(/serving v=1/);
    expect(await page.locator('#connection').textContent()).toMatch(/^live/);
  });

  it('moves the counters while producing', async () => {
    const first = await until(() => counter('speed-layer/records read'), (t) => (count(t) ?? 0) > 0, 60_000, 'speed layer records read');
    await sleep(3000);
    const second = await counter('speed-layer/records read');
    expect(count(second)).toBeGreaterThan(count(first)!);
    // On the diagram: the box's records read and its throughput, which is above 0 while producing.
    const read = (text: string) => /read ([\d,]+) · ([\d,.]+)\/s/.exec(text);
    const inBox = await until(() => box('speed-layer'), (t) => Number(read(t)?.[2].replace(/,/g, '') ?? 0) > 0, 20_000, 'the speed layer box\'s throughput');
    expect(count(read(inBox)![1])).toBeGreaterThan(0);
    expect(await box('log')).toMatch(/UP\s+[\d,]+ records\s+in [\d,.]+\/s/);
    expect(await box('raw-archive')).toMatch(/archived [\d,]+ · [\d,.?]+\/s\s+lag [\d,]+/);
    expect(await box('stream-job')).toMatch(/UP\s+v=1 \(serving\) lag [\d,]+/);
  }, 90_000);

  it('shows an injected incident\'s alert as it is delivered, with its latency', async () => {
    const incidents = new Set(workload.groundTruth.incidents.map((i) => i.alertId));
    expect(incidents.size).toBeGreaterThan(0);
    const shown = await until(
      () => page.locator('#alerts tr[data-alert-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-alert-id') ?? '')),
      (ids) => ids.some((id) => incidents.has(id)),
      90_000,
      'alert ids in the alerts panel',
    );
    const id = shown.find((i) => incidents.has(i))!;
    const cells = await page.locator(`#alerts tr[data-alert-id="${id}"]`).first().locator('td').allTextContents();
    expect(cells[1]).toBe(id.split(':')[0]);
    expect(cells[3]).toMatch(/^\d+\.\d\d s$/);
  }, 120_000);

  it('runs a query over the serving views and shows its rows, times readable; an invalid one, its error', async () => {
    await page.fill('#sql', 'SELECT rule, count(*) AS n, max(detected_at) AS last_detected_at FROM speed_alerts GROUP BY rule ORDER BY rule');
    await page.click('#run');
    await page.locator('#result-table tbody tr').first().waitFor({ timeout: 60_000 });
    const rows = await page.locator('#result-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.length).toBeGreaterThan(0);
    for (const [rule, n, last] of rows) {
      expect(rule).toMatch(/^R[123]$/);
      expect(Number(n)).toBeGreaterThan(0);
      expect(last).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    expect(await page.locator('#query-meta').textContent()).toMatch(/rows? in \d+ ms/);

    await page.fill('#sql', 'SELECT * FROM no_such_view');
    await page.click('#run');
    await page.locator('#query-error:not([hidden])').waitFor({ timeout: 30_000 });
    expect(await page.locator('#query-error').textContent()).toMatch(/no_such_view/);
  }, 120_000);

  it('bounds the rows a query returns', async () => {
    const response = await fetch(`${web.url}api/query`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ sql: 'SELECT * FROM range(100000)' }) });
    const answer = (await response.json()) as { rowCount: number; truncated: boolean };
    expect(answer).toMatchObject({ rowCount: MAX_ROWS, truncated: true });
  });

  it('saves a screenshot of the page with a result on it', async () => {
    await page.fill('#sql', 'SELECT rule, count(*) AS n, max(detected_at) AS last_detected_at FROM speed_alerts GROUP BY rule ORDER BY rule');
    await page.click('#run');
    // Done when the Run button is back (the result of this run, not the previous one, is on the page).
    await page.locator('#run:not([disabled])').waitFor({ timeout: 30_000 });
    expect(await page.locator('#query-error').isHidden()).toBe(true);
    await page.locator('#result-table tbody tr').first().waitFor({ timeout: 5_000 });
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  }, 60_000);

  it('shows a worker whose counters stopped coming as stale', async () => {
    const pid = sandbox.supervisor.recorded().find((r) => r.name === 'speed-layer')!.pid;
    process.kill(pid, 'SIGSTOP');
    try {
      await page.locator('.component[data-component="speed-layer"] .badge.stale').waitFor({ timeout: 30_000 });
      expect(await page.locator('.component[data-component="speed-layer"] .detail').textContent()).toMatch(/no counters for \d+ s/);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await page.locator('.component[data-component="speed-layer"] .badge.up').waitFor({ timeout: 15_000 });
  }, 60_000);

  it('shows the speed layer, the stream job and the batch layer side by side, and a batch run as it serves', async () => {
    await run;
    // The raw archive delivers its buffer 60 s after its first record (Firehose's shortest interval): batch reads what it delivered.
    await until(async () => [await counter('raw-archive/buffered'), await counter('raw-archive/rows archived')], ([buffered, rows]) => buffered === '0' && (count(rows) ?? 0) > 0,
      90_000, 'the archive\'s buffered and archived rows');
    const totals = (path: string) => page.locator(`#compare-totals .total[data-path="${path}"]`).innerText();
    const txns = (text: string) => Number(/: ([\d,]+) txns/.exec(text)?.[1].replace(/,/g, '') ?? 0);
    await until(() => totals('stream'), (t) => txns(t) > 0, 60_000, 'the stream job\'s total');
    expect(txns(await totals('speed'))).toBeGreaterThan(0);
    expect(await totals('batch')).toBe('batch layer: 0 txns, 0.00');
    expect(await page.locator('#batch-served').innerText()).toMatch(/^no batch run yet/);

    // A batch run over everything produced: it appears in the versions panel as the one serving, and in the chart.
    const record = await runBatch(sandbox.settings, config, { watermarkMs: Math.ceil(Date.now() / 60_000) * 60_000 });
    const row = page.locator(`#batch-runs tr[data-run="${record.run}"]`);
    await row.locator('.badge.up').waitFor({ timeout: 15_000 });
    expect(await row.innerText()).toMatch(new RegExp(`^${record.run}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+[\\d,]+\\s+\\d+\\.\\d s\\s+SERVING$`, 'i'));
    expect(await page.locator('#version-history').innerText()).toContain(`the lambda_ views now read batch run ${record.run}`);
    expect(await box('batch')).toContain(`batch run ${record.run}`);
    const batchTotal = await until(() => totals('batch'), (t) => txns(t) > 0, 30_000, 'the batch layer\'s total');
    // The run's alerts in the batch column of the alerts panel, an injected incident among them, with their latency.
    const incidents = new Set(workload.groundTruth.incidents.map((i) => i.alertId));
    const batchIds = await until(() => page.locator('#alerts-batch tr[data-alert-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-alert-id') ?? '')),
      (ids) => ids.some((id) => incidents.has(id)), 15_000, 'alert ids in the batch column');
    expect(count(await page.locator('#count-batch').innerText())).toBe(batchIds.length);
    expect(await page.locator('#batch-alerts-note').innerText()).toBe(`run ${record.run}`);
    const cells = await page.locator(`#alerts-batch tr[data-alert-id="${batchIds.find((id) => incidents.has(id))}"] td`).allInnerTexts();
    expect(cells[3]).toMatch(/^\d+\.\d\d s$/);
    expect(await page.locator('#compare-chart .u-legend').innerText()).toContain(`batch layer (run ${record.run})`);

    // A minute the stream job closed is there beside the batch's; where any path differs, the page says why.
    const answer = (await (await fetch(`${web.url}api/compare`)).json()) as CompareAnswer;
    expect(answer.minutes.filter((m) => m.stream && m.batch).length).toBeGreaterThan(0);
    const whys = await page.locator('#compare-diff td.why').allInnerTexts();
    expect(whys.length).toBe(answer.minutes.filter((m) => m.why.length).length);
    for (const why of whys) expect(why).toMatch(/late event|duplicate|watermark|window is still open|not explained/);
    expect(txns(batchTotal)).toBeLessThanOrEqual(txns(await totals('speed')));
    await page.locator('#compare').screenshot({ path: SCREENSHOT.replace(/\.png$/, '-lambda-kappa.png') });
  }, 120_000);

  it('shows a component that stopped as down, in its panel and in the diagram', async () => {
    await run;
    await sandbox.supervisor.stop('raw-archive');
    await page.locator('.component[data-component="raw-archive"] .badge.down').waitFor({ timeout: 15_000 });
    await page.locator('#diagram g.cluster.state-down[id$="-Archive"]').waitFor({ timeout: 5_000 });
    // The Firehose box says it in words, not only in colour.
    expect(await box('raw-archive')).toMatch(/^Firehose\s+RawArchive\s+DOWN\s/);
    expect(await page.locator('.component[data-component="raw-archive"]').innerText()).toMatch(/DOWN[\s\S]*exited; its log: .*raw-archive\.log/i);
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-archive-down.png'), fullPage: true });
  }, 120_000);

  it('keeps the page up when the console stops answering, and comes back when it answers again', async () => {
    const port = web.port;
    await web.close();
    await page.locator('#connection.badge.down').waitFor({ timeout: 20_000 });
    expect(await page.locator('#connection').textContent()).toMatch(/^no answer .*counters \d+ s old/);
    // The last counters stay on the page, marked stale; the chart says it has no answer, and how old it is.
    expect(await page.locator('.component[data-component="speed-layer"]').getAttribute('class')).toMatch(/stale/);
    await until(() => page.locator('#compare-state').innerText(), (t) => /^NO ANSWER .*chart \d+ s old$/i.test(t), 15_000, 'the chart\'s state');
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-console-down.png'), fullPage: true });
    const flink = sandbox.flink;
    web = await startConsole({ settings: sandbox.settings, config, profile: 'dev', flink: () => flink, log: sandbox.log, port });
    await page.locator('#connection.badge.up').waitFor({ timeout: 20_000 });
    await page.locator('#compare-state.badge.up').waitFor({ timeout: 20_000 });
  }, 60_000);
});

describe('the console server on a home where nothing runs', () => {
  let web: RunningConsole;
  let home: string | undefined;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-console-empty-'));
    web = await startConsole({ settings: defaultSettings(REPO, { home }), config, profile: 'dev', flink: () => ({ running: false, reason: 'not started' }), port: 0 });
  });
  afterAll(async () => {
    await web?.close();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  const post = (body: string) => fetch(`${web.url}api/query`, { method: 'POST', headers: JSON_TYPE, body }).then(async (r) => [r.status, (await r.json()) as QueryAnswer & { error?: string }] as const);

  it('listens on 127.0.0.1 only and serves the page, mermaid and the diagram', async () => {
    expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    for (const [file, type] of [['', 'text/html'], ['console.js', 'text/javascript'], ['vendor/mermaid.min.js', 'text/javascript'], ['vendor/uPlot.iife.min.js', 'text/javascript'],
      ['vendor/uPlot.min.css', 'text/css'], ['diagram.mmd', 'text/plain']]) {
      const response = await fetch(`${web.url}${file}`);
      expect([file, response.status, response.headers.get('content-type')?.split(';')[0]]).toEqual([file, 200, type]);
    }
    expect((await fetch(`${web.url}nothing-here`)).status).toBe(404);
  });

  it('answers the status with Flink off and no alerts, and no alerts from any index', async () => {
    const status = (await (await fetch(`${web.url}api/status`)).json()) as ConsoleStatus;
    expect(status.components).toEqual([{ name: 'flink-stream', state: 'off', detail: 'not started' }]);
    expect(status.alertsDelivered).toEqual({ speed: 0, stream: 0 });
    expect(await (await fetch(`${web.url}api/alerts?since=abc`)).json()).toEqual({ next: 0, alerts: [] });
    expect(status.versions).toEqual({
      stream: { served: { version: config.streamProcessing.outputVersion }, versions: [{ version: config.streamProcessing.outputVersion, serving: true, job: 'none' }] },
      batch: { runs: [], running: [] },
    });
  });

  it('lists each stream output version with data and says which one serves after a replay\'s switch', async () => {
    const settings = defaultSettings(REPO, { home: home! });
    fs.mkdirSync(path.join(sandboxDirs(settings).lake, 'views', 'spend_per_card_minute', 'v=2'), { recursive: true });
    switchServingVersion(settings, { version: 2, previous: 1, switchedAt: '2026-12-05T12:00:00.000Z', reason: 'test' });
    try {
      const status = (await (await fetch(`${web.url}api/status`)).json()) as ConsoleStatus;
      expect(status.versions.stream).toEqual({
        served: { version: 2, previous: 1, switchedAt: '2026-12-05T12:00:00.000Z', reason: 'test' },
        versions: [{ version: 2, serving: true, job: 'none' }],
      });
      expect(status.servedVersion).toBe(2);
    } finally {
      fs.rmSync(path.join(home!, 'serving'), { recursive: true, force: true });
      fs.rmSync(sandboxDirs(settings).lake, { recursive: true, force: true });
    }
  });

  it('answers the comparison with no minutes before any path wrote one, and no batch alerts before a run', async () => {
    expect(await (await fetch(`${web.url}api/batch-alerts`)).json()).toEqual({ count: 0, alerts: [] });
    const answer = (await (await fetch(`${web.url}api/compare`)).json()) as CompareAnswer;
    expect(answer).toMatchObject({ minutes: [], servedVersion: config.streamProcessing.outputVersion });
    expect(answer.batchRun).toBeUndefined();
  });

  it('answers only its own page: not another Host (DNS rebinding), another Origin, or a query that is not JSON', async () => {
    const port = web.port;
    const body = JSON.stringify({ sql: 'SELECT 1' });
    expect(await statusOf(`${web.url}api/status`, { headers: { host: `evil.example:${port}` } })).toBe(403);
    expect(await statusOf(`${web.url}api/query`, { method: 'POST', headers: { ...JSON_TYPE, origin: 'http://evil.example' }, body })).toBe(403);
    expect(await statusOf(`${web.url}api/query`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body })).toBe(415);
    expect(await statusOf(`${web.url}api/query`, { method: 'POST', headers: { ...JSON_TYPE, origin: `http://127.0.0.1:${port}` }, body })).toBe(200);
    expect(await statusOf(`${web.url}api/status`, { headers: { host: `localhost:${port}` } })).toBe(200);
  });

  it('refuses a query it cannot read, and reports DuckDB\'s error', async () => {
    expect(await post('not json')).toEqual([400, { error: expect.stringMatching(/^expected a JSON body/) }]);
    expect(await post(JSON.stringify({ sql: '  ' }))).toEqual([400, { error: 'no SQL given' }]);
    expect(await post(JSON.stringify({ sql: 'SELEC 1' }))).toEqual([400, { error: expect.stringMatching(/Parser Error/) }]);
    const [status, answer] = await post(JSON.stringify({ sql: 'SELECT count(*) AS n, 1764918000000::BIGINT AS detected_at FROM speed_alerts' }));
    expect([status, answer.rows]).toEqual([200, [['0', '2025-12-05T07:00:00.000Z']]]);
  });
});

describe('why the paths differ in a minute', () => {
  const run = { run: '20261205T120000Z', watermarkMs: Date.UTC(2026, 11, 5, 12, 0) };
  const minute = (at: string, paths: Partial<Record<'speed' | 'stream' | 'batch', number>>, late = 0, duplicates = 0) => ({
    minute: Date.parse(at), late, duplicates,
    ...Object.fromEntries(Object.entries(paths).map(([p, txns]) => [p, { txns, amount: txns * 10 }])),
  });

  it('says nothing where all three agree, and names each measured cause where they do not', () => {
    expect(explain(minute('2026-12-05T11:58:00Z', { speed: 5, stream: 5, batch: 5 }), run, Date.parse('2026-12-05T11:59:00Z'))).toEqual([]);
    expect(explain(minute('2026-12-05T12:00:00Z', { speed: 5 }), run, Date.parse('2026-12-05T11:59:00Z'))).toEqual([
      'after the batch watermark (12:00): not in run 20261205T120000Z yet; the lambda_ view takes the speed layer\'s here',
      'the stream job\'s window is still open (its watermark trails the newest event)',
    ]);
    expect(explain(minute('2026-12-05T11:57:00Z', { speed: 7, stream: 4, batch: 6 }, 2, 1), run, Date.parse('2026-12-05T11:59:00Z'))).toEqual([
      expect.stringMatching(/^2 late events: beyond the stream job's allowed lateness/),
      expect.stringMatching(/^1 duplicate on the log: the stream job and batch drop them by txnId/),
    ]);
    expect(explain(minute('2026-12-05T11:57:00Z', { speed: 5, stream: 5 }), undefined, Date.parse('2026-12-05T11:59:00Z'))).toEqual(['no batch run yet']);
    // A difference none of the measured causes is there for is said to be unexplained, not put down to one.
    expect(explain(minute('2026-12-05T11:57:00Z', { speed: 5, stream: 4, batch: 5 }), run, Date.parse('2026-12-05T11:59:00Z'))).toEqual([
      'not explained by late events, duplicates, the batch watermark or an open window',
    ]);
  });
});
