import { BATCH_VIEWS } from '../batch/batch-views';
import type { PlatformConfig } from '../config/schema';
import { VIEW_NAMES } from '../schemas';
import { ASSUMPTIONS, type CostLine, DEFAULT_WORKLOAD, type Estimate, estimate, HOURS_PER_MONTH, type Workload } from './model';
import { type PriceKey, PRICE_REGION, PRICES, PRICES_READ, type UnitPrice } from './prices';

/** Text and Markdown renderings of estimates, and the whole of docs/cost.md. */

export const DOC_RATES = [1000, 10000, 100000] as const;
export const DOCS_COMMAND = 'npm run cost -- --write-docs';

const money = (usd: number): string => `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const count = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 3 });

function header(e: Estimate): string {
  return `Tributary, profile '${e.profile}': ${count(e.workload.rate)} events/s of ${count(e.workload.eventBytes)} B, ${PRICE_REGION}, USD a month (${HOURS_PER_MONTH} h), list prices, no free tier`;
}

const cell = (line: CostLine): string => (line.usd === null ? (line.status === 'over-capacity' ? 'OVER CAPACITY' : 'no price') : money(line.usd));

function totalText(e: Estimate): string {
  return e.overCapacity > 0 ? `${money(e.totalUsd)} + ${e.overCapacity} line(s) over capacity, not priced` : money(e.totalUsd);
}

/** A plain-text table for the terminal. */
export function renderText(e: Estimate): string {
  const rows = e.lines.map((l) => [l.service, l.item, cell(l), l.quantity]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), ['service', 'item', 'USD/month'][i].length));
  const line = (r: string[]): string => `${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padStart(widths[2])}  ${r[3]}`.trimEnd();
  const out = [header(e), '', line(['service', 'item', 'USD/month', 'what is counted']), ...rows.map(line), '', `total: ${totalText(e)}`];
  const notes = e.lines.filter((l) => l.note);
  if (notes.length) out.push('', ...notes.map((l) => `${l.status === 'over-capacity' ? '!' : '-'} ${l.service}, ${l.item}: ${l.note}`));
  out.push('', 'Unit prices, their sources and every assumption: docs/cost.md (lib/cost/prices.ts, lib/cost/model.ts).');
  return `${out.join('\n')}\n`;
}

const md = (text: string): string => text.replace(/\|/g, '\\|');

/** A Markdown table of one estimate. */
export function renderMarkdown(e: Estimate): string {
  const out = [`${header(e)}.`, '', '| service | item | USD/month | what is counted |', '|---|---|--:|---|'];
  for (const l of e.lines) out.push(`| ${md(l.service)} | ${md(l.item)} | ${cell(l)} | ${md(l.quantity)} |`);
  out.push(`| **total** | | **${totalText(e)}** | |`);
  const notes = e.lines.filter((l) => l.note);
  if (notes.length) out.push('', ...notes.map((l) => `- ${l.service}, ${l.item}: ${md(l.note ?? '')}`));
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------- docs/cost.md

function describeProfile(config: PlatformConfig): string {
  const log = config.eventLog;
  const logText = log.type === 'kinesis'
    ? `Kinesis ${log.kinesis.capacityMode}${log.kinesis.capacityMode === 'provisioned' ? ` (${log.kinesis.shardCount} shards)` : ''}, ${log.kinesis.retentionHours} h retention${log.kinesis.enhancedFanOut ? ', enhanced fan-out' : ''}`
    : log.msk.serverless
      ? `MSK Serverless, ${log.msk.partitions} partitions, ${log.msk.retentionHours} h retention`
      : `MSK, ${log.msk.brokerNodes} x ${log.msk.instanceType} with ${log.msk.storageGiB} GiB each, ${log.msk.partitions} partitions, ${log.msk.retentionHours} h retention`;
  const flink = config.architecture === 'lambda'
    ? 'no Flink'
    : `Flink parallelism ${config.streamProcessing.parallelism} / ${config.streamProcessing.parallelismPerKpu} per KPU${config.streamProcessing.autoScaling ? ', autoscaling' : ''}`;
  return `architecture \`${config.architecture}\`; ${logText}; ${flink}; speed layer batches of ${config.speedLayer.batchSize} at ${config.speedLayer.memoryMiB} MB`;
}

function profileSection(name: string, config: PlatformConfig, base: Omit<Workload, 'rate'>): string[] {
  const estimates = DOC_RATES.map((rate) => estimate(name, config, { ...base, rate }));
  const rates = DOC_RATES.map((r) => `${count(r)}/s`);
  const out = [`## ${name}`, '', describeProfile(config) + '.', '', `| service | item | ${rates.join(' | ')} |`, `|---|---|${rates.map(() => '--:').join('|')}|`];
  const notes: string[] = [];
  estimates[0].lines.forEach((first, i) => {
    const cells = estimates.map((e, j) => {
      const line = e.lines[i];
      if (!line.note) return cell(line);
      notes.push(`${rates[j]}, ${line.service}, ${line.item}: ${md(line.note)}`);
      return `${cell(line)} [${notes.length}]`;
    });
    out.push(`| ${md(first.service)} | ${md(first.item)} | ${cells.join(' | ')} |`);
  });
  out.push(`| **total** | | ${estimates.map((e) => `**${money(e.totalUsd)}**${e.overCapacity ? ` + ${e.overCapacity} over capacity` : ''}`).join(' | ')} |`);
  if (notes.length) out.push('', ...notes.map((n, i) => `${i + 1}. ${n}`));
  out.push('', '<details><summary>What each line counts</summary>', '', `| item | ${rates.join(' | ')} |`, `|---|${rates.map(() => '---').join('|')}|`);
  estimates[0].lines.forEach((first, i) => out.push(`| ${md(first.service)}: ${md(first.item)} | ${estimates.map((e) => md(e.lines[i].quantity)).join(' | ')} |`));
  out.push('', '</details>', '');
  return out;
}

const STATUS: Record<UnitPrice['status'], string> = {
  aws: 'seen, AWS-published',
  'third-party': 'seen, third party quoting AWS',
  'not-found': '**not found: assumption, verify**',
};

function priceTable(): string[] {
  const out = ['| service | what | USD | per | status | AWS pricing page | where the number was read |', '|---|---|--:|---|---|---|---|'];
  for (const key of Object.keys(PRICES) as PriceKey[]) {
    const p: UnitPrice = PRICES[key];
    const note = p.note ? ` Note: ${p.note}.` : '';
    out.push(`| ${p.service} | ${md(p.description)} | ${p.usd} | ${md(p.unit)} | ${STATUS[p.status]} | ${p.awsPage} | ${md(p.seenAt ?? '')}${md(note)} |`);
  }
  return out;
}

/** docs/cost.md: every profile at 1k, 10k and 100k events/s, the prices and the assumptions. */
export function renderDocs(profiles: Map<string, PlatformConfig>, base: Omit<Workload, 'rate'> = DEFAULT_WORKLOAD): string {
  const a = ASSUMPTIONS;
  const notFound = (Object.keys(PRICES) as PriceKey[]).filter((k) => PRICES[k].status === 'not-found').map((k) => `${PRICES[k].service}: ${PRICES[k].description} (${PRICES[k].usd} USD per ${PRICES[k].unit})`);
  const totals = [...profiles].map(([name, config]) => {
    const cells = DOC_RATES.map((rate) => {
      const e = estimate(name, config, { ...base, rate });
      return `${money(e.totalUsd)}${e.overCapacity ? ` + ${e.overCapacity} over capacity` : ''}`;
    });
    return `| ${name} | ${cells.join(' | ')} |`;
  });
  const out = [
    '# What it costs',
    '',
    `<!-- Generated by \`${DOCS_COMMAND}\` from lib/cost/ and the profiles in cdk.json. Do not edit by hand: test/cost/docs.test.ts fails when this file is stale. -->`,
    '',
    `A monthly estimate per service for each profile in \`cdk.json\`, at a steady ${count(DOC_RATES[0])}, ${count(DOC_RATES[1])} and ${count(DOC_RATES[2])} events a second of ${count(base.eventBytes)} B, all month (${HOURS_PER_MONTH} h).`,
    `One region: **${PRICE_REGION}**. List prices in USD as read on ${PRICES_READ}, on-demand, first volume tier, no free tier, no Savings Plans, no taxes.`,
    'It is an estimate for comparing profiles and rates, built from the assumptions below; it is not a quote. Where a profile cannot carry a rate and does not scale by itself, the line says **OVER CAPACITY** and is left out of the total instead of pricing a setup that would not work; what autoscales (Kinesis on-demand, Flink with autoscaling, Lambda concurrency up to its lanes) is scaled.',
    '',
    'Your own numbers: `npm run cost -- --profile <name> --rate <events/s> [--event-bytes <B>] [--lake-days <d>] [--alert-share <x>] [--queries-per-day <n>] [--markdown]`; every profile at once: `npm run cost -- --all`. This page: `' + DOCS_COMMAND + '`.',
    '',
    '## Totals',
    '',
    `| profile | ${DOC_RATES.map((r) => `${count(r)}/s`).join(' | ')} |`,
    `|---|${DOC_RATES.map(() => '--:').join('|')}|`,
    ...totals,
    '',
    'Read the totals with the flags: a profile with lines over capacity costs more than its total once it is resized to carry the rate.',
    '',
    'What stands out, whatever the profile:',
    '',
    `- **Firehose meters Kinesis-sourced records and Parquet conversion in 5 KB steps**, so ${count(base.eventBytes)} B events pay for 5 KB each, and the two lines are among the largest at every rate on the Kinesis profiles. Larger records (events batched by the producer) would cut them; an MSK source is not rounded for ingestion, but conversion still is.`,
    '- **The lake grows**: raw/ and views/ are never expired by the stacks, so S3 storage below is the month after one year (`--lake-days`) and keeps growing; views/ holds `enriched_transactions`, a second copy of every event.',
    '- **The speed layer\'s S3 PUTs cost more than its Lambda time**: every invocation writes its speed-view objects, and with no batching window the event source invokes about once a second per shard or partition.',
    '- **The batch layer recomputes every view from all of raw/ on every run** (docs/batch-layer.md), so its Athena scans grow with the lake; with the assumed Parquet sizes a 100-day INSERT chunk soon exceeds `serving.bytesScannedCutoffPerQueryMiB` and the run fails.',
    '',
    ...[...profiles].flatMap(([name, config]) => profileSection(name, config, base)),
    '## Unit prices',
    '',
    `Read on ${PRICES_READ} through the project's search tool, which holds stored copies of public pages. The stored copies of AWS's pricing pages stop before their price tables (they render from placeholders), so most numbers were read on a page quoting them; the AWS page stays the authority. The stored pages did show how the meters count: Kinesis on-demand rounds each record up to 1 KB (https://aws.amazon.com/kinesis/data-streams/pricing/); Firehose rounds Kinesis-sourced records up to 5 KB for ingestion and for format conversion, and does not round MSK-sourced ones (https://aws.amazon.com/de/kinesis/data-firehose/pricing/, https://uat.atplus.hk/jp/kinesis/data-firehose/pricing); a KPU is 1 vCPU and 4 GB with 50 GB of running storage, plus one orchestration KPU per application (https://docs.aws.amazon.com/managed-flink/latest/java/how-pricing.html, https://docs.aws.amazon.com/managed-flink/latest/java/how-resources.html); Athena bills at least 10 MB a query. **Status "not found" means no page showing the number was found: the value is the author's recollection of the AWS page, an assumption to check before relying on it.** Prices live in \`lib/cost/prices.ts\`.`,
    '',
    ...priceTable(),
    '',
    '## Assumptions',
    '',
    `- **Traffic**: a steady rate all month (no peaks: peaks need more capacity than the average), events of ${count(base.eventBytes)} B as JSON on the log, every event valid. Alerts are a small share: ${base.alertShare * 100} % of events raise an alert in each path that detects (the speed layer; the Flink job too where there is one), each alert ${count(base.alertBytes)} B. Data volumes are in GiB (2^30 bytes).`,
    `- **Kinesis**: on-demand starts at ${a.kinesisOnDemandMinShards} MB/s of write capacity and keeps about ${a.kinesisOnDemandHeadroom}x the peak, so the speed layer sees about max(${a.kinesisOnDemandMinShards}, ${a.kinesisOnDemandHeadroom} x MiB/s) shards. A provisioned shard takes 1 MB/s or 1,000 records/s in and gives 2 MB/s out shared by its shared-throughput readers (Firehose always; the speed layer and Flink unless on enhanced fan-out). Retention beyond 24 h is billed on the data held; records are billed rounded up to 1 KB (on-demand) or per 25 KB PUT payload unit (provisioned). The alerts log is its own provisioned stream (\`alerts.shardCount\`).`,
    `- **MSK provisioned**: topics are replicated min(3, brokers) times (msk-event-log.ts); a broker writes at most ${a.mskBrokerWriteMiBps} MiB/s (the default EBS throughput) and needs ingress x retention x RF + ${Math.round((a.mskStorageHeadroom - 1) * 100)} % of disk, both from AWS's own MSK sizing guide (aws/agent-toolkit-for-aws, managing-amazon-msk/references/size-and-choose-cluster.md). Storage is billed as provisioned. No broker CPU or network check: no sourced per-broker figure for kafka.m7g.large was found. **MSK Serverless**: ${a.mskServerlessPartitionIngressMiBps} MiB/s in per partition and ${a.mskServerlessClusterIngressMiBps} MiB/s per cluster, from memory of the MSK quota page (not found in a stored copy). The ${a.mskVpcEndpoints} interface endpoints of the network stack are billed per AZ-hour; their data processing is not counted.`,
    `- **Lambda** (arm64, as PlatformFunction deploys it): each shard x parallelization factor, or each partition, is one lane that hands over what it gathered at each poll (about every ${a.pollIntervalSeconds} s, or the batching window), at most a batch. A speed-layer invocation takes ${a.speedFixedMs} ms of I/O plus ${a.speedMicrosPerRecord} µs per record (bench/results/handler.json: 95,920 records/s on one x64 core), slower below ${a.lambdaFullVcpuMiB} MB where Lambda gives less than one vCPU, and writes ${a.speedPutsPerInvocation} S3 objects. A notifier invocation takes ${a.notifierFixedMs} ms plus ${a.notifierMsPerAlert} ms per alert. A function whose lanes would be busy more than 100 % of the time cannot keep up and is flagged.`,
    `- **Managed Flink**: KPUs = parallelism / parallelismPerKpu, plus 1 orchestration KPU per application. One KPU carries about ${count(a.flinkEventsPerKpuSecond)} events/s: half of what bench/results/flink.json measured per core for the full job on a local MiniCluster, leaving room for network I/O and checkpoints. With autoscaling the job is priced at the KPUs it needs (up to the default quota of ${a.flinkMaxKpus}); without, a job short of KPUs is flagged. State stays within the 50 GB of running storage each KPU includes; snapshots are not counted.`,
    `- **Firehose**: ingestion, Parquet conversion and dynamic partitioning (dt/hr) as the archive stack configures them; objects = one per buffer flush (interval or size, whichever first); ${a.firehoseJqHoursPerMonth} JQ processing hours a month (one engine all month: no rule for how Firehose counts them was found).`,
    `- **S3**: raw/ Parquet is ${a.parquetShareOfJson * 100} % of the JSON, views/ ${a.viewsShareOfJson * 100} %, speed/ NDJSON ${a.speedShareOfJson * 100} % (assumed, not measured). raw/ and views/ are kept ${base.lakeDays} days (the month after a year), raw/ in Standard-IA after \`lake.rawInfrequentAccessAfterDays\`; speed/ expires after \`lake.speedExpirationDays\`. PUTs: the speed layer's, one per Firehose object, and one per Flink view, subtask and checkpoint (${VIEW_NAMES.length} views). GETs, LISTs, lifecycle transitions and the small buckets (query results, access logs, the jar) are not counted.`,
    `- **Athena**: ${base.athenaQueriesPerDay} ad-hoc queries a day, each scanning one day of one view (at least 10 MB). The batch layer (architecture \`lambda\` or \`both\`) recomputes its ${BATCH_VIEWS.length} views from all of raw/ every \`batch.scheduleHours\`, reading ${a.batchColumnShare * 100} % of the Parquet bytes (column pruning), in INSERTs of at most 100 days each; a run whose chunk would scan more than \`serving.bytesScannedCutoffPerQueryMiB\` fails, and is flagged.`,
    '- **DynamoDB**: the notifier\'s Powertools idempotency writes twice per alert and path (a conditional PutItem, then an UpdateItem), each under 1 KB; reads only happen on repeats and are not counted, nor is storage (items expire) or point-in-time recovery.',
    '- **SNS**: one publish per alert and path; deliveries to subscribers (e-mail, HTTP, SMS) depend on who subscribes and are not counted.',
    `- **KMS**: the customer managed keys the stacks create for the profile (counted by hand from lib/stacks and lib/constructs), and ~${a.kmsRequestsPerKeyHour} requests per key an hour: services cache data keys (Kinesis asks KMS about every 5 minutes per credential, the lake bucket uses an S3 bucket key).`,
    '',
    '## Not counted',
    '',
    '- CloudWatch (logs of every function and the Flink job, metrics, the dashboard, alarms), X-Ray traces (the functions trace actively), VPC flow logs.',
    '- Other pricing options: Kinesis On-demand Advantage (a newer on-demand mode, mentioned by https://raw.githubusercontent.com/api-evangelist/kinesis/refs/heads/main/finops/kinesis-finops.yml; its prices were not found), Savings Plans, reserved capacity.',
    '- The Kappa replay (a second Flink application while it runs) and the batch layer\'s Step Functions and Lambda; SQS failed-batch queues (empty when healthy); Glue Data Catalog requests; data transfer (all traffic stays in the region); MSK multi-VPC private connectivity for Firehose.',
    '',
    '## What could not be found',
    '',
    'These prices were not found on any stored page and are assumptions (see the table):',
    '',
    ...notFound.map((n) => `- ${n}`),
    '',
    'Also not found: MSK multi-VPC private connectivity pricing (the provisioned cluster turns it on for Firehose; not counted), a sourced per-broker throughput for kafka.m7g.large beyond the EBS limit, the MSK Serverless per-partition and per-cluster quotas, and how Firehose counts JQ processing hours.',
    '',
  ];
  return out.join('\n');
}
