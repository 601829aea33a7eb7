/**
 * `npm run cost -- --profile <name> --rate <events/s>`: the monthly cost of a profile at a steady rate, per
 * service, in us-east-1 (docs/cost.md says from which prices and assumptions).
 *
 *   --event-bytes <B>       size of one event (default 1024)
 *   --lake-days <d>         days raw/ and views/ are kept (default 365)
 *   --alert-share <x>       alerts per event and detecting path (default 0.001)
 *   --queries-per-day <n>   ad-hoc Athena queries a day (default 100)
 *   --markdown              a Markdown table instead of text
 *   --all                   every profile at 1k, 10k and 100k events/s (docs/cost.md's content, as Markdown)
 *   --write-docs            regenerate docs/cost.md (defaults only)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_WORKLOAD, estimate, type Workload } from '../lib/cost/model';
import { loadProfiles } from '../lib/cost/profiles';
import { renderDocs, renderMarkdown, renderText } from '../lib/cost/render';

export const COST_DOC = path.resolve(__dirname, '..', 'docs', 'cost.md');

function positive(name: string): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got '${raw}'`);
    return value;
  };
}

export function main(argv: string[]): string {
  const program = new Command('cost')
    .description('Monthly cost estimate of a Tributary profile at a steady event rate, per service (us-east-1, list prices)')
    .option('--profile <name>', 'a profile in cdk.json', 'dev')
    .option('--rate <events/s>', 'events per second, steady', positive('--rate'), 1000)
    .option('--event-bytes <bytes>', 'size of one event as JSON', positive('--event-bytes'), DEFAULT_WORKLOAD.eventBytes)
    .option('--lake-days <days>', 'days raw/ and views/ are kept in the lake', positive('--lake-days'), DEFAULT_WORKLOAD.lakeDays)
    .option('--alert-share <share>', 'alerts per event and detecting path', positive('--alert-share'), DEFAULT_WORKLOAD.alertShare)
    .option('--queries-per-day <n>', 'ad-hoc Athena queries a day', positive('--queries-per-day'), DEFAULT_WORKLOAD.athenaQueriesPerDay)
    .option('--markdown', 'print Markdown instead of text')
    .option('--all', 'every profile at 1k, 10k and 100k events/s, as docs/cost.md shows them')
    .option('--write-docs', 'regenerate docs/cost.md (with the default assumptions)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  program.parse(argv, { from: 'user' });
  const o = program.opts<{
    profile: string; rate: number; eventBytes: number; lakeDays: number; alertShare: number; queriesPerDay: number;
    markdown?: boolean; all?: boolean; writeDocs?: boolean;
  }>();
  const profiles = loadProfiles();
  const base: Omit<Workload, 'rate'> = {
    ...DEFAULT_WORKLOAD, eventBytes: o.eventBytes, lakeDays: o.lakeDays, alertShare: o.alertShare, athenaQueriesPerDay: o.queriesPerDay,
  };
  if (o.writeDocs) {
    const changed = (['eventBytes', 'lakeDays', 'alertShare', 'athenaQueriesPerDay'] as const).filter((k) => base[k] !== DEFAULT_WORKLOAD[k]);
    if (changed.length) throw new Error(`docs/cost.md is generated with the default assumptions; drop ${changed.join(', ')}`);
    fs.writeFileSync(COST_DOC, renderDocs(profiles));
    return `wrote ${path.relative(process.cwd(), COST_DOC)} (${profiles.size} profiles)\n`;
  }
  if (o.all) return renderDocs(profiles, base);
  const config = profiles.get(o.profile);
  if (!config) throw new Error(`unknown profile '${o.profile}'; cdk.json has: ${[...profiles.keys()].join(', ')}`);
  const result = estimate(o.profile, config, { ...base, rate: o.rate });
  return o.markdown ? renderMarkdown(result) : renderText(result);
}

if (require.main === module) {
  try {
    process.stdout.write(main(process.argv.slice(2)));
  } catch (error) {
    const e = error as { code?: string; message?: string; exitCode?: number };
    if (e.code?.startsWith('commander.')) process.exit(e.exitCode ?? 1);
    console.error(`cost: ${e.message ?? String(error)}`);
    process.exit(1);
  }
}
