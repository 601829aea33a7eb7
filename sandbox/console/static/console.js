// The sandbox console's page: plain JavaScript, no build step. It polls the console server (sandbox/console/server.ts)
// and never stops because one answer is slow or fails: each poll has a timeout, and the next one is scheduled either way.
'use strict';

const POLL_MS = 2000;
const REQUEST_TIMEOUT_MS = 5000;
const MAX_ALERT_ROWS = 200;

const $ = (id) => document.getElementById(id);

/** fetch with a timeout; throws on a network error, a timeout or a non-JSON answer. */
async function getJson(url, options = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(url, { ...options, signal: controller.signal });
    const body = await response.json();
    return { ok: response.ok, status: response.status, body };
  } finally {
    clearTimeout(timer);
  }
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

const fmt = (n) => (n === undefined || n === null ? '?' : Number(n).toLocaleString('en-US'));
const seconds = (ms) => (ms === undefined || ms === null ? '?' : `${(ms / 1000).toFixed(2)} s`);
const clock = (iso) => iso.slice(11, 23);

// ------------------------------------------------------------------ the diagram

/**
 * The diagram's boxes that stand for a part of the sandbox, by their node id in diagrams/<profile>.mmd, and how
 * many lines of live counters each carries. The lines are reserved in the box's label before mermaid lays the
 * diagram out (so the boxes are big enough), then filled in at each poll.
 */
const LIVE_NODES = [
  { id: /^EventLog_EventLog(Stream|Topic)[0-9A-F]{8}$/, key: 'log', lines: 2 },
  { id: /^EventLog_EventLogAlerts(Stream|Topic)[0-9A-F]{8}$/, key: 'alerts-log', lines: 2 },
  { id: /^SpeedLayer_Handler/, key: 'speed-layer', lines: 4 },
  { id: /^Archive_RawArchive$/, key: 'raw-archive', lines: 3 },
  { id: /^StreamProcessing_StreamJob/, key: 'stream-job', lines: 3 },
  { id: /^Alerts_Notifier/, key: 'alert-notifier', lines: 4 },
  { id: /^Alerts_AlertsTopic/, key: 'sns', lines: 2 },
  { id: /^Alerts_Idempotency/, key: 'dynamodb', lines: 1 },
  { id: /^Lake_Lake[0-9A-F]{8}$/, key: 's3proxy', lines: 1 },
  { id: /^Reprocessing_ServingVersion/, key: 'serving-version', lines: 2 },
  { id: /^Serving_WorkGroup$/, key: 'batch', lines: 2 },
];
/** The widest line a box is expected to show; its width is reserved. */
const RESERVED_LINE = 'delivered 00,000 · 0,000.0/s';

/** The diagram's source with counter lines reserved in the live boxes' labels. */
function withLiveLines(source) {
  return source.replace(/^(\s*)(\w+)\["(.*)"\]$/gm, (line, indent, id, label) => {
    const live = LIVE_NODES.find((n) => n.id.test(id));
    // One line more than the counters: the state, above them.
    return live ? `${indent}${id}["${label}${`<br/>${RESERVED_LINE}`.repeat(live.lines + 1)}"]` : line;
  });
}

/** key -> {group, rect, label, title}: the rendered boxes that carry counters. */
const liveBoxes = new Map();

async function renderDiagram() {
  try {
    const response = await fetch('/diagram.mmd');
    if (!response.ok) throw new Error(`no diagram (${response.status}): run \`npm run diagrams\``);
    const source = await response.text();
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'default', flowchart: { htmlLabels: false } });
    const { svg } = await mermaid.render('arch', withLiveLines(source));
    $('diagram').innerHTML = svg;
    for (const group of document.querySelectorAll('#diagram g.node')) {
      const id = /^arch-flowchart-(\w+)-\d+$/.exec(group.id)?.[1];
      const live = id && LIVE_NODES.find((n) => n.id.test(id));
      const label = group.querySelector('.nodeLabel p') ?? group.querySelector('.nodeLabel');
      if (!live || !label) continue;
      // The box's own title: the label's lines before the reserved ones.
      const title = label.innerHTML.split(/<br\s*\/?>/).slice(0, -(live.lines + 1)).join('<br>');
      group.dataset.live = live.key;
      liveBoxes.set(live.key, { group, rect: group.querySelector('rect'), label, title });
    }
    if (lastStatus) renderLiveBoxes(lastStatus);
  } catch (error) {
    $('diagram').textContent = `The diagram could not be rendered: ${error.message ?? error}`;
  }
}

const STATE_COLOURS = { up: '#2f855a', stale: '#b7791f', down: '#c53030', off: '#718096' };

/** Fills one box: its state as a word and a border colour, and its counter lines. */
function fillBox(key, state, lines) {
  const box = liveBoxes.get(key);
  if (!box) return;
  const content = [];
  if (state) content.push(el('span', { class: `live-state ${state}` }, state.toUpperCase()));
  content.push(...lines.map((line) => el('span', { class: 'live-line' }, line)));
  // The title is the diagram's own (mermaid-sanitized) markup; the counters are text.
  box.label.innerHTML = box.title;
  for (const node of content) box.label.append(document.createElement('br'), node);
  for (const s of Object.keys(STATE_COLOURS)) box.group.classList.toggle(`live-${s}`, s === state);
  // mermaid styles the rect inline with !important, which only an inline !important overrides.
  if (state && box.rect) {
    box.rect.style.setProperty('stroke', STATE_COLOURS[state], 'important');
    box.rect.style.setProperty('stroke-width', state === 'up' ? '2px' : '4px', 'important');
    box.rect.style.setProperty('stroke-dasharray', state === 'down' ? '6 3' : 'none', 'important');
  }
}

/** Each process the diagram's boxes stand for, by the box's key (the event log's depends on the log in use). */
function processOf(key, status) {
  if (key === 'log' || key === 'alerts-log') return status.log === 'kafka' ? 'kafka' : 'kinesis-local';
  return key;
}

const RANK = { down: 3, stale: 2, up: 1, off: 0 };
const worstOf = (states) => states.reduce((worst, s) => (worst === undefined || RANK[s] > RANK[worst] ? s : worst), undefined);

function stateOf(key, status) {
  if (key === 'serving-version' || key === 'batch') return undefined;
  if (key === 'stream-job') return worstOf(status.components.filter((c) => c.name.startsWith('flink-stream')).map((c) => c.state)) ?? 'off';
  const name = processOf(key, status);
  return status.components.find((c) => c.name === name)?.state ?? 'down';
}

/** Per second, from the last two polls' values of a counter; undefined until there are two. */
const samples = new Map();
function rate(key, value, atIso) {
  if (typeof value !== 'number') return undefined;
  const at = Date.parse(atIso);
  const last = samples.get(key);
  if (!last || at <= last.at) {
    if (!last) samples.set(key, { value, at, rate: undefined });
    return last?.rate;
  }
  const perSecond = value >= last.value ? ((value - last.value) * 1000) / (at - last.at) : undefined;
  samples.set(key, { value, at, rate: perSecond });
  return perSecond;
}
const perSecond = (r) => (r === undefined ? '?/s' : `${r.toLocaleString('en-US', { maximumFractionDigits: r < 10 ? 1 : 0 })}/s`);
const lagOf = (counters) => {
  const units = Object.values(counters?.units ?? {});
  return units.length && units.every((u) => typeof u.lag === 'number') ? units.reduce((sum, u) => sum + u.lag, 0) : undefined;
};

/** The counter lines of each box. */
function boxLines(key, status) {
  const p = status.progress ?? {};
  const at = status.now;
  const counters = (name) => status.components.find((c) => c.name === name)?.counters ?? {};
  const v = status.versions ?? { stream: { versions: [], served: {} }, batch: { runs: [], running: [] } };
  switch (key) {
    case 'log': {
      // What the speed layer has read plus what it has still to read: the records on the log.
      const total = typeof p.speedRead === 'number' && typeof p.speedLag === 'number' ? p.speedRead + p.speedLag : undefined;
      return [`${fmt(total)} records`, `in ${perSecond(rate('log', total, at))}`];
    }
    case 'alerts-log': {
      const notifier = counters('alert-notifier');
      return [`${fmt(notifier.recordsRead)} alerts read`, `notifier lag ${fmt(lagOf(notifier))}`];
    }
    case 'speed-layer':
      return [`read ${fmt(p.speedRead)} · ${perSecond(rate('speed', p.speedRead, at))}`, `lag ${fmt(p.speedLag)} records`,
        `alerts ${fmt(p.alerts)}`, `dead letters ${fmt(p.deadLettered)}`];
    case 'raw-archive':
      return [`archived ${fmt(p.archiveRows)} · ${perSecond(rate('archive', p.archiveRows, at))}`, `lag ${fmt(p.archiveLag)}`, `buffered ${fmt(p.archiveBuffered)}`];
    case 'stream-job': {
      const jobs = v.stream.versions.filter((x) => x.job !== 'none');
      if (!jobs.length) return [status.flink?.reason ?? 'not running'];
      return jobs.slice(-3).map((x) => `v=${x.version}${x.serving ? ' (serving)' : ''} lag ${fmt(x.lag)}${x.lag !== undefined && p.flinkLagUnit === 'ms' ? ' ms' : ''}`);
    }
    case 'alert-notifier': {
      const d = status.alertsDelivered ?? {};
      const total = (d.speed ?? 0) + (d.stream ?? 0);
      return [`delivered ${fmt(total)} · ${perSecond(rate('notifier', total, at))}`, `from speed ${fmt(d.speed)}`, `from stream ${fmt(d.stream)}`, `lag ${fmt(lagOf(counters('alert-notifier')))}`];
    }
    case 'sns': {
      const d = status.alertsDelivered ?? {};
      return [`${fmt((d.speed ?? 0) + (d.stream ?? 0))} messages`, ''];
    }
    case 'serving-version':
      return [`serving v=${v.stream.served.version ?? status.servedVersion}`, v.stream.served.switchedAt ? `since ${clock(v.stream.served.switchedAt)}` : 'never switched'];
    case 'batch':
      if (v.batch.running.length) return [`batch run ${v.batch.running.at(-1)}`, 'writing…'];
      return v.batch.served ? [`batch run ${v.batch.served.run}`, `up to ${clock(new Date(v.batch.served.watermarkMs).toISOString()).slice(0, 5)}`] : ['no batch run yet', ''];
    default:
      return [];
  }
}

function renderLiveBoxes(status) {
  for (const { key } of LIVE_NODES) fillBox(key, stateOf(key, status), boxLines(key, status));
}

function colourClusters(components) {
  const worst = {};
  for (const c of components) {
    const cluster = clusterOf(c.name);
    if (cluster && (worst[cluster] === undefined || RANK[c.state] > RANK[worst[cluster]])) worst[cluster] = c.state;
  }
  for (const node of document.querySelectorAll('#diagram g.cluster')) {
    const cluster = Object.keys(worst).find((k) => node.id.endsWith(`-${k}`));
    node.classList.remove('state-up', 'state-down', 'state-stale', 'state-off');
    if (cluster) node.classList.add(`state-${worst[cluster]}`);
  }
}

/** Which cluster (subgraph of diagrams/<profile>.mmd) each sandbox process stands in for. */
function clusterOf(name) {
  if (name === 'kafka' || name === 'kinesis-local') return 'EventLog';
  if (name === 's3proxy') return 'Lake';
  if (name === 'raw-archive') return 'Archive';
  if (name === 'speed-layer') return 'SpeedLayer';
  if (name === 'alert-notifier' || name === 'sns' || name === 'dynamodb') return 'Alerts';
  if (name.startsWith('flink-stream')) return 'StreamProcessing';
  return undefined;
}

// ------------------------------------------------------------------ counters

/** The counters shown for each component, from /api/status. */
function countersOf(c, status) {
  const p = status.progress ?? {};
  const k = c.counters ?? {};
  if (c.name === 'speed-layer') {
    return [['records read', p.speedRead], ['lag (records)', p.speedLag], ['alerts written', p.alerts], ['dead letters', p.deadLettered], ['function errors', k.functionErrors]];
  }
  if (c.name === 'raw-archive') return [['rows archived', p.archiveRows], ['buffered', p.archiveBuffered], ['lag (records)', p.archiveLag]];
  if (c.name.startsWith('flink-stream')) return [[`lag (${p.flinkLagUnit ?? 'records'})`, p.flinkLag]];
  if (c.name === 'alert-notifier') {
    return [['delivered: speed', status.alertsDelivered?.speed], ['delivered: stream', status.alertsDelivered?.stream], ['records read', k.recordsRead]];
  }
  return [];
}

const LABELS = {
  'speed-layer': 'Speed layer (Lambda + event source mapping)',
  'raw-archive': 'Raw archive (Firehose)',
  'alert-notifier': 'Alert notifier (Lambda → SNS)',
  kafka: 'Event log: Kafka',
  'kinesis-local': 'Event log: kinesis-local',
  s3proxy: 'Lake: S3Proxy',
  sns: 'SNS topic',
  dynamodb: 'DynamoDB (dynalite)',
};
const ORDER = ['kafka', 'kinesis-local', 'speed-layer', 'flink-stream', 'raw-archive', 'alert-notifier', 's3proxy', 'sns', 'dynamodb'];
const orderOf = (name) => { const i = ORDER.findIndex((o) => name.startsWith(o)); return i < 0 ? ORDER.length : i; };

const previous = new Map();

function renderComponents(status) {
  const list = [...status.components].sort((a, b) => orderOf(a.name) - orderOf(b.name));
  const root = $('components');
  root.replaceChildren(...list.map((c) => {
    const label = c.name.startsWith('flink-stream') ? `Stream job: Flink (${c.name})` : (LABELS[c.name] ?? c.name);
    const box = el('div', { class: `component ${c.state}`, 'data-component': c.name },
      el('div', { class: 'title' }, el('span', {}, label), el('span', { class: `badge ${c.state}` }, c.state)));
    if (c.detail) box.append(el('div', { class: 'detail' }, c.detail));
    const counters = countersOf(c, status);
    if (counters.length) {
      const dl = el('dl');
      for (const [name, value] of counters) {
        const key = `${c.name}/${name}`;
        const dd = el('dd', { 'data-counter': key }, fmt(value));
        if (previous.has(key) && previous.get(key) !== value) dd.classList.add('changed');
        previous.set(key, value);
        dl.append(el('dt', {}, name), dd);
      }
      box.append(dl);
    }
    return box;
  }));
  colourClusters(status.components);
}

// ------------------------------------------------------------------ polling

let lastOk = 0;
let lastStatus;

function setConnection(ok, text) {
  const badge = $('connection');
  badge.className = `badge ${ok ? 'up' : 'down'}`;
  badge.textContent = text;
}

async function pollStatus() {
  try {
    const { ok, body } = await getJson('/api/status');
    if (!ok) throw new Error(body.error ?? 'error');
    lastOk = Date.now();
    $('context').textContent = `${body.home} · log: ${body.log} · profile: ${body.profile} · serving v=${body.servedVersion}`;
    $('diagram-note').textContent = `profile ${body.profile}, from the synthesized CDK app; here the event log is ${body.log}. Each box a sandbox process stands in for shows its state and live counters; a cluster's border, the worst state in it.`;
    lastStatus = body;
    renderComponents(body);
    renderLiveBoxes(body);
    renderVersions(body.versions);
    $('diagram').classList.remove('stale');
    setConnection(true, `live · ${clock(body.now)}`);
  } catch (error) {
    // Keep the last counters on screen, say how old they are.
    const age = lastOk ? `${Math.round((Date.now() - lastOk) / 1000)} s old` : 'none yet';
    setConnection(false, `no answer (${error.name === 'AbortError' ? 'timeout' : 'failed'}); counters ${age}`);
    for (const c of document.querySelectorAll('.component')) c.classList.add('stale');
    $('diagram').classList.add('stale');
  } finally {
    setTimeout(pollStatus, POLL_MS);
  }
}

let alertsSince = 0;
const counts = { speed: 0, stream: 0 };

async function pollAlerts() {
  try {
    const { ok, body } = await getJson(`/api/alerts?since=${alertsSince}`);
    if (!ok) throw new Error(body.error ?? 'error');
    for (const a of body.alerts) {
      const tbody = $(`alerts-${a.path}`);
      if (!tbody) continue;
      counts[a.path] += 1;
      const row = el('tr', { class: alertsSince ? 'new' : '', 'data-alert-id': a.alertId, title: `${a.alertId} · detected → delivered ${seconds(a.notifyMs)}` },
        el('td', {}, clock(a.deliveredAt)), el('td', {}, a.rule), el('td', {}, a.cardId), el('td', { class: 'num' }, seconds(a.latencyMs)));
      tbody.prepend(row);
      while (tbody.children.length > MAX_ALERT_ROWS) tbody.lastChild.remove();
    }
    for (const path of Object.keys(counts)) $(`count-${path}`).textContent = fmt(counts[path]);
    alertsSince = body.next;
  } catch {
    // The next poll asks again from the same index.
  } finally {
    setTimeout(pollAlerts, POLL_MS);
  }
}

// ------------------------------------------------------------------ replays and batch runs

const history = [];
let previousServing;

/** Notes a change of what serves (a replay's switch, a batch run's) in the history list, with its time. */
function noteChange(now, text) {
  history.unshift(el('li', {}, el('span', { class: 'when' }, clock(now)), ' ', text));
  $('version-history').replaceChildren(...history.slice(0, 20));
}

const servingBadge = () => el('span', { class: 'badge up' }, 'serving');

function renderVersions(v) {
  if (!v) return;
  const now = new Date().toISOString();
  const serving = { stream: v.stream.served.version, batch: v.batch.served?.run };
  if (previousServing && previousServing.stream !== serving.stream) noteChange(now, `the serving_ views switched from v=${previousServing.stream} to v=${serving.stream}${v.stream.served.reason ? ` (${v.stream.served.reason})` : ''}`);
  if (serving.batch !== batchAlertsOf && !loadingBatchAlerts) void loadBatchAlerts();
  if (previousServing && previousServing.batch !== serving.batch) noteChange(now, `the lambda_ views now read batch run ${serving.batch}${previousServing.batch ? ` (was ${previousServing.batch})` : ''}`);
  if (previousServing && v.batch.running.some((r) => !previousServing.running.includes(r))) noteChange(now, `batch run ${v.batch.running.at(-1)} started`);
  previousServing = { ...serving, running: v.batch.running };

  $('stream-versions').replaceChildren(...v.stream.versions.map((x) => el('tr', { 'data-version': x.version },
    el('td', {}, `v=${x.version}`),
    el('td', {}, x.job === 'none' ? 'no job' : el('span', { class: `badge ${x.job}` }, x.job)),
    el('td', { class: 'num' }, x.lag === undefined ? '' : fmt(x.lag)),
    el('td', {}, x.serving ? servingBadge() : ''))));
  $('stream-served').textContent = v.stream.served.switchedAt
    ? `switched to v=${v.stream.served.version} at ${v.stream.served.switchedAt.replace('T', ' ').slice(0, 19)}${v.stream.served.previous !== undefined ? `, v=${v.stream.served.previous} kept for rollback` : ''}`
    : `v=${v.stream.served.version} since the start (no replay yet)`;

  const served = v.batch.served;
  const runs = [...new Set([...v.batch.runs, ...(served ? [served.run] : []), ...v.batch.running])].sort();
  $('batch-runs').replaceChildren(...runs.map((run) => {
    const isServed = served?.run === run;
    const writing = v.batch.running.includes(run) && !v.batch.runs.includes(run);
    return el('tr', { 'data-run': run },
      el('td', {}, run),
      el('td', {}, isServed ? new Date(served.watermarkMs).toISOString().slice(0, 16).replace('T', ' ') : ''),
      el('td', { class: 'num' }, isServed ? fmt(served.rows?.spend_per_card_minute) : ''),
      el('td', { class: 'num' }, isServed ? `${served.seconds.toFixed(1)} s` : ''),
      el('td', {}, writing ? el('span', { class: 'badge stale' }, 'writing') : isServed ? servingBadge() : ''));
  }));
  $('batch-served').textContent = served
    ? `the lambda_ views read run ${served.run}: batch up to ${new Date(served.watermarkMs).toISOString().slice(11, 16)} UTC, the speed layer after it`
    : 'no batch run yet: the lambda_ views read the speed layer only (npm run sandbox -- batch)';
}

/** The served batch run's alerts, loaded when the run that serves changes (a run's alerts do not change); on a failure, at the next poll. */
let batchAlertsOf;
let loadingBatchAlerts = false;
async function loadBatchAlerts() {
  loadingBatchAlerts = true;
  try {
    const { ok, body } = await getJson('/api/batch-alerts', { timeoutMs: 20_000 });
    if (!ok) throw new Error(body.error ?? 'error');
    $('alerts-batch').replaceChildren(...body.alerts.map((a) => el('tr', { 'data-alert-id': a.alertId, title: a.alertId },
      el('td', {}, clock(a.detectedAt)), el('td', {}, a.rule), el('td', {}, a.cardId), el('td', { class: 'num' }, seconds(a.latencyMs)))));
    $('count-batch').textContent = fmt(body.count);
    $('batch-alerts-note').textContent = body.run ? `run ${body.run}${body.count > body.alerts.length ? `, the newest ${body.alerts.length}` : ''}` : 'no batch run yet';
    batchAlertsOf = body.run;
  } catch (error) {
    $('batch-alerts-note').textContent = `not loaded (${error.name === 'AbortError' ? 'timeout' : error.message}); trying again`;
  } finally {
    loadingBatchAlerts = false;
  }
}

// ------------------------------------------------------------------ Lambda vs Kappa

const COMPARE_POLL_MS = 5000;
const PATH_STYLE = {
  speed: { label: 'speed layer', stroke: '#dd6b20' },
  stream: { label: 'stream job', stroke: '#2b6cb0' },
  batch: { label: 'batch layer', stroke: '#2f855a' },
};
const money = (n) => (n === undefined || n === null ? '–' : Number(n).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
const cell = (m) => (m ? `${fmt(m.txns)} / ${money(m.amount)}` : '–');
let chart;
let lastCompareOk = 0;

function drawChart(answer) {
  const x = answer.minutes.map((m) => m.minute / 1000);
  const data = [x, ...['speed', 'stream', 'batch'].map((p) => answer.minutes.map((m) => (m[p] ? m[p].amount : null)))];
  const width = Math.max(300, $('compare-chart').clientWidth);
  if (!chart) {
    chart = new uPlot({
      width,
      height: 240,
      // Times in UTC, as everywhere on the page.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: { x: { time: true } },
      series: [
        { label: 'minute (UTC)' },
        // Points of decreasing size, so that where the paths agree all three still show, one inside the other.
        ...['speed', 'stream', 'batch'].map((p, i) => ({
          label: PATH_STYLE[p].label, stroke: PATH_STYLE[p].stroke, width: 2, points: { show: true, size: 12 - 3 * i }, value: (u, v) => money(v),
        })),
      ],
      // One tick per minute or more, as HH:MM UTC.
      axes: [{ incrs: [60, 120, 300, 600, 900, 1800, 3600, 7200], values: (u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(11, 16)) },
        { label: 'spend per minute', size: 70, values: (u, ticks) => ticks.map((t) => t.toLocaleString('en-US')) }],
      legend: { live: false },
    }, data, $('compare-chart'));
  } else {
    chart.setSize({ width, height: 240 });
    chart.setData(data);
  }
  chart.series[2].label = `stream job (v=${answer.servedVersion})`;
  chart.series[3].label = answer.batchRun ? `batch layer (run ${answer.batchRun.run})` : 'batch layer (no run yet)';
  // uPlot draws the legend once; the run and version in it change.
  // (the x series has no entry in a legend that is not live: the last three are the paths').
  const legends = [...chart.root.querySelectorAll('.u-series .u-label')].slice(-3);
  legends.forEach((legend, i) => { legend.textContent = chart.series[i + 1].label; });
}

function renderCompare(answer) {
  drawChart(answer);
  const total = (p) => answer.minutes.reduce((sum, m) => ({ txns: sum.txns + (m[p]?.txns ?? 0), amount: sum.amount + (m[p]?.amount ?? 0) }), { txns: 0, amount: 0 });
  $('compare-totals').replaceChildren(...['speed', 'stream', 'batch'].map((p) => {
    const t = total(p);
    return el('span', { class: 'total', 'data-path': p, style: `border-color: ${PATH_STYLE[p].stroke}` }, `${PATH_STYLE[p].label}: ${fmt(t.txns)} txns, ${money(t.amount)}`);
  }));
  const differing = answer.minutes.filter((m) => m.why.length);
  $('compare-diff').replaceChildren(...differing.slice().reverse().map((m) => el('tr', { 'data-minute': m.minute },
    el('td', {}, new Date(m.minute).toISOString().slice(11, 16)),
    el('td', { class: 'num' }, cell(m.speed)), el('td', { class: 'num' }, cell(m.stream)), el('td', { class: 'num' }, cell(m.batch)),
    el('td', { class: 'why' }, m.why.join('; ')))));
  $('compare-note').textContent = answer.minutes.length
    ? `${answer.minutes.length} minutes of event time; ${differing.length} where the paths differ (txns / spend)`
    : 'no spend per card-minute in any path yet';
}

async function pollCompare() {
  try {
    const { ok, body } = await getJson('/api/compare', { timeoutMs: 20_000 });
    if (!ok) throw new Error(body.error ?? 'error');
    lastCompareOk = Date.now();
    renderCompare(body);
    $('compare-state').className = 'badge up';
    $('compare-state').textContent = `updated ${clock(new Date().toISOString())} · ${body.elapsedMs} ms`;
  } catch (error) {
    const age = lastCompareOk ? `${Math.round((Date.now() - lastCompareOk) / 1000)} s old` : 'none yet';
    $('compare-state').className = 'badge down';
    $('compare-state').textContent = `no answer (${error.name === 'AbortError' ? 'timeout' : error.message}); chart ${age}`;
  } finally {
    setTimeout(pollCompare, COMPARE_POLL_MS);
  }
}

window.addEventListener('resize', () => chart?.setSize({ width: Math.max(300, $('compare-chart').clientWidth), height: 240 }));

// ------------------------------------------------------------------ queries

async function runQuery(sql) {
  $('run').disabled = true;
  $('query-meta').textContent = 'running…';
  $('query-error').hidden = true;
  try {
    const { ok, body } = await getJson('/api/query', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql }), timeoutMs: 60_000,
    });
    if (!ok) throw new Error(body.error ?? 'the query failed');
    const head = el('tr', {}, ...body.columns.map((c) => el('th', { class: c.numeric ? 'num' : '', title: c.type }, c.name)));
    const rows = body.rows.map((row) => el('tr', {}, ...row.map((v, i) => el('td', { class: body.columns[i].numeric ? 'num' : '' }, v))));
    $('query-result').replaceChildren(el('table', { id: 'result-table' }, el('thead', {}, head), el('tbody', {}, ...rows)));
    $('query-meta').textContent = `${body.rowCount} ${body.rowCount === 1 ? 'row' : 'rows'}${body.truncated ? ` (the first ${body.rowCount}; there are more)` : ''} in ${body.elapsedMs} ms`;
  } catch (error) {
    $('query-error').textContent = error.name === 'AbortError' ? 'The query took too long to answer.' : error.message;
    $('query-error').hidden = false;
    $('query-meta').textContent = '';
  } finally {
    $('run').disabled = false;
  }
}

$('query-form').addEventListener('submit', (event) => { event.preventDefault(); void runQuery($('sql').value); });
$('sql').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); void runQuery($('sql').value); }
});
for (const link of document.querySelectorAll('.examples a')) {
  link.addEventListener('click', (event) => { event.preventDefault(); $('sql').value = link.dataset.sql; void runQuery(link.dataset.sql); });
}

$('zoom').addEventListener('click', () => {
  const full = $('diagram').classList.toggle('full');
  // mermaid sizes the SVG to its container (width 100%) up to its natural width (the inline max-width).
  const svg = $('diagram').querySelector('svg');
  if (svg) svg.style.width = full ? svg.style.maxWidth : '';
  $('zoom').textContent = full ? 'fit' : 'full size';
});

void renderDiagram();
void pollStatus();
void pollAlerts();
void pollCompare();
