import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { MAX_ROWS, startConsole, type ConsoleStatus, type QueryAnswer, type RunningConsole } from '../../sandbox/console/server';
import { defaultSettings } from '../../sandbox/settings';
import type { GeneratedWorkload } from '../../sandbox/generator';
import { sandboxPlatformConfig } from '../../sandbox/platform-config';
import { makeWorkload, runWorkload, type RunResult } from '../../sandbox/run';
import { startSandbox, type Sandbox } from '../../sandbox/session';
import { freePorts, REPO, testSettings } from '../helpers/sandbox';

/**
 * The web console on a sandbox of its own, in headless Chromium while a short workload runs: the diagram
 * renders, the counters move, an injected incident's alert shows up in the alerts panel with its latency,
 * and a query returns rows in the table (an invalid one, a clear error). A screenshot is kept in
 * test-output/console.png to look at.
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
    workload = makeWorkload({ seed: 23, rate: 100, durationSeconds: 60, rates: { r1: 5, r2: 5, r3: 5 } }, config);
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

  const counter = (name: string) => page.locator(`[data-counter="${name}"]`).first().textContent({ timeout: 10_000 }).then((text) => text ?? '');
  const count = (text: string) => (/^[\d,]+$/.test(text) ? Number(text.replace(/,/g, '')) : undefined);

  it('renders the architecture diagram and shows each component up', async () => {
    await page.locator('#diagram svg g.cluster').first().waitFor({ timeout: 30_000 });
    await page.locator('.component[data-component="speed-layer"] .badge.up').waitFor({ timeout: 15_000 });
    // The speed layer's cluster in the diagram takes its stand-in's state.
    await page.locator('#diagram g.cluster.state-up[id$="-SpeedLayer"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#connection').textContent()).toMatch(/^live/);
  });

  it('moves the counters while producing', async () => {
    const first = await until(() => counter('speed-layer/records read'), (t) => (count(t) ?? 0) > 0, 60_000, 'speed layer records read');
    await sleep(3000);
    const second = await counter('speed-layer/records read');
    expect(count(second)).toBeGreaterThan(count(first)!);
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

  it('shows a component that stopped as down, in its panel and in the diagram', async () => {
    await run;
    await sandbox.supervisor.stop('raw-archive');
    await page.locator('.component[data-component="raw-archive"] .badge.down').waitFor({ timeout: 15_000 });
    await page.locator('#diagram g.cluster.state-down[id$="-Archive"]').waitFor({ timeout: 5_000 });
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-archive-down.png'), fullPage: true });
  }, 120_000);

  it('keeps the page up when the console stops answering, and comes back when it answers again', async () => {
    const port = web.port;
    await web.close();
    await page.locator('#connection.badge.down').waitFor({ timeout: 20_000 });
    expect(await page.locator('#connection').textContent()).toMatch(/^no answer .*counters \d+ s old/);
    // The last counters stay on the page, marked stale.
    expect(await page.locator('.component[data-component="speed-layer"]').getAttribute('class')).toMatch(/stale/);
    const flink = sandbox.flink;
    web = await startConsole({ settings: sandbox.settings, config, profile: 'dev', flink: () => flink, log: sandbox.log, port });
    await page.locator('#connection.badge.up').waitFor({ timeout: 20_000 });
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
    for (const [file, type] of [['', 'text/html'], ['console.js', 'text/javascript'], ['vendor/mermaid.min.js', 'text/javascript'], ['diagram.mmd', 'text/plain']]) {
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
