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

async function renderDiagram() {
  try {
    const response = await fetch('/diagram.mmd');
    if (!response.ok) throw new Error(`no diagram (${response.status}): run \`npm run diagrams\``);
    const source = await response.text();
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'default', flowchart: { htmlLabels: false } });
    const { svg } = await mermaid.render('arch', source);
    $('diagram').innerHTML = svg;
  } catch (error) {
    $('diagram').textContent = `The diagram could not be rendered: ${error.message ?? error}`;
  }
}

const RANK = { down: 3, stale: 2, up: 1, off: 0 };

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
    $('diagram-note').textContent = `profile ${body.profile}, from the synthesized CDK app; here the event log is ${body.log}. A cluster's border shows the state of its sandbox stand-in.`;
    renderComponents(body);
    setConnection(true, `live · ${clock(body.now)}`);
  } catch (error) {
    // Keep the last counters on screen, say how old they are.
    const age = lastOk ? `${Math.round((Date.now() - lastOk) / 1000)} s old` : 'none yet';
    setConnection(false, `no answer (${error.name === 'AbortError' ? 'timeout' : 'failed'}); counters ${age}`);
    for (const c of document.querySelectorAll('.component')) c.classList.add('stale');
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
