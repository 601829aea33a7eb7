/**
 * `npm run diagrams`: the architecture diagram of every profile in cdk.json,
 * derived from the synthesized CDK app, written to diagrams/<profile>.mmd
 * (Mermaid) and rendered to diagrams/<profile>.svg with the `mermaid` package
 * in headless Chromium.
 *
 * Nothing here is drawn by hand. For each profile the app is built as
 * `cdk synth -c profile=NAME` builds it (without bundling assets: the
 * templates are all the diagram reads), and then:
 * - each stack is a box, titled with its stack name (the event log's box
 *   with the log's type, read from the resource types it holds);
 * - the resources of the types in NODE_TYPES are the nodes, named by their
 *   construct path; the helpers of custom resources (anything a `Custom::`
 *   resource's ServiceToken leads to) are left out, and many resources of one
 *   type in a stack (Glue tables, alarms, ...) are one node with a count;
 * - an arrow is data flow, read from the templates: a Lambda event source
 *   mapping (source -> function), and every IAM grant of a node's role on
 *   another node: writes (Put*, Send*, Publish, ...) point from the role's
 *   owner to the resource, reads (Get*, ...) from the resource to the owner.
 *   References across stacks (Fn::GetStackOutput, Fn::ImportValue) are
 *   followed to the resource they name, and names written as literals
 *   (a bucket ARN built from its name) are matched to the resource's name;
 * - a stack dependency with no arrow between the two stacks is a dotted
 *   arrow between the boxes (e.g. the dashboard reading every layer's metrics).
 * Everything is sorted, so the output only changes when the app does.
 *
 * `npm run diagrams -- dev` does one profile; `--screenshot=<file.png>` also saves a PNG of the first
 * one rendered, to look at. CHROMIUM=<path> overrides /usr/bin/chromium (Debian's `chromium`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../lib/config';
import { buildPlatform, platformStacks } from '../lib/platform';

export const REPO_ROOT = path.resolve(__dirname, '..');
export const DIAGRAMS_DIR = path.join(REPO_ROOT, 'diagrams');

/** The resource types drawn, with the short name a node shows. */
const NODE_TYPES: Record<string, string> = {
  'AWS::Kinesis::Stream': 'Kinesis stream',
  'AWS::MSK::Cluster': 'MSK cluster',
  'AWS::MSK::ServerlessCluster': 'MSK Serverless cluster',
  'AWS::MSK::Topic': 'Kafka topic',
  // The topics of an MSK Serverless cluster, made over Kafka's admin protocol (the MSK topic API is provisioned-only).
  'Custom::MskTopic': 'Kafka topic',
  'AWS::KinesisFirehose::DeliveryStream': 'Firehose',
  'AWS::Lambda::Function': 'Lambda',
  'AWS::KinesisAnalyticsV2::Application': 'Managed Flink',
  'AWS::S3::Bucket': 'S3 bucket',
  'AWS::Glue::Database': 'Glue database',
  'AWS::Glue::Table': 'Glue tables',
  'AWS::Athena::WorkGroup': 'Athena workgroup',
  'AWS::Athena::NamedQuery': 'Athena named queries',
  'AWS::StepFunctions::StateMachine': 'Step Functions',
  'AWS::Scheduler::Schedule': 'schedule',
  'AWS::Events::Rule': 'EventBridge rule',
  'AWS::SNS::Topic': 'SNS topic',
  'AWS::SQS::Queue': 'SQS queue',
  'AWS::DynamoDB::Table': 'DynamoDB table',
  'AWS::SSM::Parameter': 'SSM parameter',
  'AWS::CloudWatch::Dashboard': 'CloudWatch dashboard',
  'AWS::CloudWatch::Alarm': 'CloudWatch alarms',
  'AWS::EC2::VPC': 'VPC',
  'AWS::EC2::VPCEndpoint': 'VPC endpoints',
};

/** The colour class of a node, by what its resource does. */
const NODE_CLASSES: Record<string, RegExp> = {
  log: /^(AWS::Kinesis::Stream|AWS::MSK::\w+|Custom::MskTopic)$/,
  compute: /^AWS::(Lambda::Function|KinesisAnalyticsV2::Application|KinesisFirehose::DeliveryStream|StepFunctions::StateMachine|Scheduler::Schedule|Events::Rule)$/,
  data: /^AWS::(S3::Bucket|Glue::\w+|DynamoDB::Table|SSM::Parameter|Athena::\w+)$/,
  delivery: /^AWS::(SNS::Topic|SQS::Queue)$/,
};
const CLASS_STYLES: Record<string, string> = {
  log: 'fill:#fde7c8,stroke:#c77700,color:#000',
  compute: 'fill:#dbeafe,stroke:#2b6cb0,color:#000',
  data: 'fill:#def7e2,stroke:#2f855a,color:#000',
  delivery: 'fill:#f3e1f7,stroke:#805ad5,color:#000',
};

/** Types drawn as one node per stack when a stack has more than one. */
const GROUPED_TYPES = new Set(['AWS::Glue::Table', 'AWS::Athena::NamedQuery', 'AWS::CloudWatch::Alarm', 'AWS::EC2::VPCEndpoint']);

/** The event log's type, by the resource that holds it. */
const LOG_TYPES: [string, string][] = [
  ['AWS::MSK::ServerlessCluster', 'Amazon MSK Serverless'],
  ['AWS::MSK::Cluster', 'Amazon MSK'],
  ['AWS::Kinesis::Stream', 'Kinesis Data Streams'],
];

/** A Kafka topic: TopicName and the ClusterArn of its cluster. */
const TOPIC_TYPES = new Set(['AWS::MSK::Topic', 'Custom::MskTopic']);

/** What a custom resource's provider is made of: its functions and its waiter state machine. */
const HELPER_TYPES = new Set(['AWS::Lambda::Function', 'AWS::StepFunctions::StateMachine']);

const WRITE = /^[a-z0-9-]+:(Put|Send|Publish|Write|Create|Update|Delete|Start|Stop|Abort|Restore|Batch(Write|Put)|StartExecution|Invoke)/i;
const READ = /^[a-z0-9-]+:(Get|List|Describe|Subscribe|Read|Receive|Consume|Select|Query|Scan)/i;

/** One synthesized stack, as the diagram needs it. */
export interface StackTemplate {
  /** The construct id, e.g. `EventLog`. */
  readonly id: string;
  readonly stackName: string;
  /** Construct ids of the stacks this one depends on. */
  readonly dependencies: string[];
  readonly template: { Resources?: Record<string, CfnResource>; Outputs?: Record<string, { Value: unknown }> };
}

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** Synthesizes a profile into a temporary folder, removed before returning, and returns its stacks' templates. */
export function synthesizeProfile(profile: string): StackTemplate[] {
  const context = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')).context;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `tributary-diagram-${profile}-`));
  try {
    const app = new App({
      outdir,
      context: { ...context, profile, 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true },
    });
    const { config } = loadConfig(app.node);
    const platform = buildPlatform(app, profile, config);
    const assembly = app.synth();
    return platformStacks(platform).map((stack) => ({
      id: stack.node.id,
      stackName: stack.stackName,
      dependencies: stack.dependencies.map((d) => d.node.id).sort(),
      template: assembly.getStackByName(stack.stackName).template,
    }));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The profiles in cdk.json, sorted. */
export function profileNames(): string[] {
  return Object.keys(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')).context.profiles).sort();
}

/** A reference to a resource: the stack's construct id and the logical id. */
type ResourceKey = string;
const key = (stack: string, logicalId: string): ResourceKey => `${stack}/${logicalId}`;

/** A template value written as one string, intrinsics as `${...}`, so literal names can be matched. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flatten).join(',');
  if (value && typeof value === 'object') {
    const [[fn, arg]] = Object.entries(value as Record<string, unknown>);
    if (fn === 'Fn::Join' && Array.isArray(arg)) return (arg[1] as unknown[]).map(flatten).join(flatten(arg[0]));
    if (fn === 'Ref') return `\${${arg}}`;
    if (fn === 'Fn::Sub' && typeof arg === 'string') return arg;
    return `\${${fn}:${JSON.stringify(arg)}}`;
  }
  return String(value);
}

class Graph {
  private readonly byKey = new Map<ResourceKey, { stack: StackTemplate; logicalId: string; resource: CfnResource }>();
  private readonly stackByName = new Map<string, StackTemplate>();
  /** Resource -> the node that stands for it (itself, or its stack's group node of that type). */
  readonly nodeOf = new Map<ResourceKey, string>();
  /** Literal names (bucket, stream, topic names) -> the resource. */
  private readonly names: [string, ResourceKey][] = [];

  constructor(readonly stacks: StackTemplate[]) {
    for (const stack of stacks) {
      this.stackByName.set(stack.stackName, stack);
      for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
        this.byKey.set(key(stack.id, logicalId), { stack, logicalId, resource });
      }
    }
  }

  resource(k: ResourceKey) {
    return this.byKey.get(k);
  }

  entries() {
    return [...this.byKey.entries()];
  }

  /** The resources a value refers to: Ref, Fn::GetAtt, and cross-stack outputs followed to their resource. */
  refs(stack: StackTemplate, value: unknown, found = new Set<ResourceKey>()): Set<ResourceKey> {
    if (Array.isArray(value)) {
      for (const v of value) this.refs(stack, v, found);
    } else if (value && typeof value === 'object') {
      for (const [fn, arg] of Object.entries(value as Record<string, unknown>)) {
        if (fn === 'Ref' && typeof arg === 'string' && this.byKey.has(key(stack.id, arg))) found.add(key(stack.id, arg));
        else if (fn === 'Fn::GetAtt' && Array.isArray(arg) && this.byKey.has(key(stack.id, String(arg[0])))) found.add(key(stack.id, String(arg[0])));
        else if (fn === 'Fn::GetStackOutput' && arg && typeof arg === 'object') {
          const { StackName, OutputName } = arg as { StackName: unknown; OutputName: unknown };
          const producer = typeof StackName === 'string' ? this.stackByName.get(StackName) : undefined;
          const output = producer?.template.Outputs?.[String(OutputName)];
          if (producer && output) this.refs(producer, output.Value, found);
        } else if (fn === 'Fn::ImportValue') {
          const name = flatten(arg);
          for (const producer of this.stacks) {
            for (const output of Object.values(producer.template.Outputs ?? {}) as { Value: unknown; Export?: { Name: unknown } }[]) {
              if (output.Export && flatten(output.Export.Name) === name) this.refs(producer, output.Value, found);
            }
          }
        } else {
          this.refs(stack, arg, found);
        }
      }
    }
    if (value !== null && typeof value === 'object' || typeof value === 'string') {
      const text = flatten(value);
      for (const [name, k] of this.names) {
        for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + 1)) {
          if (!/[A-Za-z0-9_-]/.test(text.charAt(at + name.length))) { found.add(k); break; }
        }
      }
    }
    return found;
  }

  /** Registers the literal names of the drawn resources (only names long enough not to match by chance). */
  indexNames(keys: ResourceKey[]) {
    const nameProps = ['BucketName', 'Name', 'StreamName', 'TopicName', 'QueueName', 'TableName', 'ApplicationName', 'DeliveryStreamName', 'StateMachineName'];
    for (const k of keys) {
      const { resource } = this.byKey.get(k)!;
      for (const prop of nameProps) {
        const value = resource.Properties?.[prop];
        if (value === undefined) continue;
        const name = flatten(value);
        if (name.length >= 12) this.names.push([`:${name}`, k], [`/${name}`, k]);
      }
      // A Kafka topic's ARN names its cluster: arn:aws:kafka:<region>:<account>:topic/<cluster name>/<cluster uuid>/<topic>.
      if (TOPIC_TYPES.has(resource.Type)) {
        const stack = this.byKey.get(k)!.stack;
        for (const cluster of this.refs(stack, resource.Properties?.ClusterArn)) {
          const clusterName = this.byKey.get(cluster)?.resource.Properties?.ClusterName;
          if (clusterName !== undefined) this.names.push([`topic/${flatten(clusterName)}/*/${flatten(resource.Properties?.TopicName)}`, k]);
        }
      }
    }
  }
}

/** The construct path of a resource without its stack and a trailing `/Resource`, e.g. `EventLog/AlertsStream`. */
function constructPath(logicalId: string, resource: CfnResource): string {
  const full = resource.Metadata?.['aws:cdk:path'];
  if (typeof full !== 'string') return logicalId;
  return full.split('/').slice(1).filter((part, i, parts) => !(i === parts.length - 1 && (part === 'Resource' || part === 'Default'))).join('/');
}

/** Mermaid-safe label text. */
const label = (text: string) => text.replace(/"/g, '#quot;');
const nodeId = (stack: string, name: string) => `${stack}_${name.replace(/[^A-Za-z0-9]/g, '_')}`;

/** The Mermaid flowchart of one profile's synthesized stacks. */
export function mermaidFor(profile: string, stacks: StackTemplate[]): string {
  const graph = new Graph(stacks);

  // Helpers of custom resources: whatever a Custom:: resource's ServiceToken leads to, transitively.
  const helpers = new Set<ResourceKey>();
  const queue: ResourceKey[] = [];
  for (const [, { stack, resource }] of graph.entries()) {
    if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource') {
      for (const ref of graph.refs(stack, resource.Properties?.ServiceToken)) queue.push(ref);
    }
  }
  while (queue.length) {
    const k = queue.pop()!;
    const { stack, resource } = graph.resource(k)!;
    if (helpers.has(k) || !HELPER_TYPES.has(resource.Type)) continue;
    helpers.add(k);
    // A provider's functions and its waiter reach each other through their roles' policies and environment.
    const rolePolicies = graph.entries().filter(([, r]) => r.stack === stack && r.resource.Type === 'AWS::IAM::Policy');
    const roles = graph.refs(stack, resource.Properties?.Role ?? resource.Properties?.RoleArn);
    for (const ref of graph.refs(stack, resource.Properties?.Environment)) queue.push(ref);
    for (const [, policy] of rolePolicies) {
      if ([...graph.refs(stack, policy.resource.Properties?.Roles)].some((r) => roles.has(r))) {
        for (const ref of graph.refs(stack, policy.resource.Properties?.PolicyDocument)) queue.push(ref);
      }
    }
  }

  // Nodes.
  interface Node { id: string; stack: string; type: string; text: string; keys: ResourceKey[] }
  const nodes = new Map<string, Node>();
  const drawn: ResourceKey[] = [];
  for (const stack of stacks) {
    const resources = Object.entries(stack.template.Resources ?? {})
      .filter(([logicalId, r]) => NODE_TYPES[r.Type] && !helpers.has(key(stack.id, logicalId)))
      .sort(([a], [b]) => a.localeCompare(b));
    const countOf = (type: string) => resources.filter(([, r]) => r.Type === type).length;
    for (const [logicalId, resource] of resources) {
      const k = key(stack.id, logicalId);
      const grouped = GROUPED_TYPES.has(resource.Type) && countOf(resource.Type) > 1;
      const id = grouped ? nodeId(stack.id, NODE_TYPES[resource.Type]) : nodeId(stack.id, logicalId);
      const text = grouped
        ? `${countOf(resource.Type)} ${NODE_TYPES[resource.Type]}`
        : `${NODE_TYPES[resource.Type]}<br/>${constructPath(logicalId, resource)}`;
      const node = nodes.get(id) ?? { id, stack: stack.id, type: resource.Type, text, keys: [] };
      node.keys.push(k);
      nodes.set(id, node);
      graph.nodeOf.set(k, id);
      drawn.push(k);
    }
  }
  graph.indexNames(drawn);

  // Edges: event source mappings, and IAM grants of a drawn resource's role.
  const edges = new Map<string, { from: string; to: string; text?: string; read?: boolean }>();
  const addEdge = (from: string | undefined, to: string | undefined, text?: string, read = false) => {
    if (!from || !to || from === to) return;
    const k = `${from}>${to}`;
    const old = edges.get(k);
    edges.set(k, { from, to, text: text ?? old?.text, read: old ? old.read && read : read });
  };
  const roleOwners = new Map<ResourceKey, string>();
  for (const [k, { stack, resource }] of graph.entries()) {
    const owner = graph.nodeOf.get(k);
    if (resource.Type === 'AWS::Lambda::EventSourceMapping') {
      const target = [...graph.refs(stack, resource.Properties?.FunctionName)].map((r) => graph.nodeOf.get(r)).find(Boolean);
      // A Kafka event source names its cluster and, by name, the topics it reads.
      const topics = ([] as unknown[]).concat(resource.Properties?.Topics ?? []).map(flatten);
      const clusters = graph.refs(stack, resource.Properties?.EventSourceArn);
      const topicNodes = graph.entries()
        .filter(([, r]) => TOPIC_TYPES.has(r.resource.Type) && topics.includes(flatten(r.resource.Properties?.TopicName))
          && [...graph.refs(r.stack, r.resource.Properties?.ClusterArn)].some((c) => clusters.has(c)))
        .map(([k]) => k);
      for (const source of topicNodes.length ? topicNodes : clusters) addEdge(graph.nodeOf.get(source), target, 'event source');
      for (const cluster of graph.refs(stack, resource.Properties?.SelfManagedEventSource)) addEdge(graph.nodeOf.get(cluster), target, 'event source');
    }
    if (!owner) continue;
    const props = resource.Properties ?? {};
    const roleValues = [props.Role, props.RoleArn, props.RoleARN, props.ServiceExecutionRole, props.DeliveryStreamRoleArn];
    const s3 = (props.ExtendedS3DestinationConfiguration ?? {}) as Record<string, unknown>;
    roleValues.push(s3.RoleARN, (props.KinesisStreamSourceConfiguration as Record<string, unknown> | undefined)?.RoleARN);
    for (const role of graph.refs(stack, roleValues)) roleOwners.set(role, owner);
  }
  for (const [, { stack, resource }] of graph.entries()) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const owners = [...graph.refs(stack, resource.Properties?.Roles)].map((r) => roleOwners.get(r)).filter((o): o is string => !!o);
    const statements = ((resource.Properties?.PolicyDocument as { Statement?: unknown[] } | undefined)?.Statement ?? []) as Record<string, unknown>[];
    for (const statement of statements) {
      if (statement.Effect !== 'Allow') continue;
      const actions = ([] as unknown[]).concat(statement.Action ?? []).map(String);
      const writes = actions.some((a) => WRITE.test(a) && !/^(logs|kms|xray|cloudwatch):/.test(a));
      const reads = actions.some((a) => READ.test(a) && !/^(logs|kms|xray|cloudwatch):/.test(a));
      for (const target of graph.refs(stack, statement.Resource)) {
        const to = graph.nodeOf.get(target);
        for (const owner of owners) {
          if (writes) addEdge(owner, to);
          else if (reads) addEdge(to, owner, undefined, true);
        }
      }
    }
  }
  // One arrow per pair: a resource read and written by the same owner (a bucket its writer also lists,
  // a log whose reader also registers a consumer) is drawn as the write; an event source mapping wins.
  for (const [k, edge] of [...edges]) {
    const reverse = edges.get(`${edge.to}>${edge.from}`);
    if (reverse && ((edge.read && !reverse.read) || (reverse.text === 'event source' && !edge.text))) edges.delete(k);
  }

  // A cluster's arrows that its topics' arrows already draw (the cluster grants that come with every topic grant).
  const topicsOf = new Map<string, Set<string>>();
  for (const [k, { stack, resource }] of graph.entries()) {
    const topic = graph.nodeOf.get(k);
    if (!topic || !TOPIC_TYPES.has(resource.Type)) continue;
    for (const cluster of graph.refs(stack, resource.Properties?.ClusterArn)) {
      const clusterNode = graph.nodeOf.get(cluster);
      if (clusterNode) topicsOf.set(clusterNode, (topicsOf.get(clusterNode) ?? new Set()).add(topic));
    }
  }
  const touches = (a: string, b: string) => edges.has(`${a}>${b}`) || edges.has(`${b}>${a}`);
  for (const [k, edge] of [...edges]) {
    for (const [cluster, topics] of topicsOf) {
      const other = edge.from === cluster ? edge.to : edge.to === cluster ? edge.from : undefined;
      if (other && [...topics].some((t) => touches(t, other))) edges.delete(k);
    }
  }

  // Stack dependencies with no arrow between the two stacks.
  const stackOf = (node: string) => nodes.get(node)!.stack;
  const linked = new Set([...edges.values()].flatMap(({ from, to }) => [`${stackOf(from)}>${stackOf(to)}`, `${stackOf(to)}>${stackOf(from)}`]));
  const stackEdges: string[] = [];
  for (const stack of stacks) {
    for (const dependency of stack.dependencies) {
      if (!linked.has(`${dependency}>${stack.id}`)) stackEdges.push(`  ${dependency} -.-> ${stack.id}`);
    }
  }

  const logType = (stack: StackTemplate) => {
    const types = new Set(Object.values(stack.template.Resources ?? {}).map((r) => r.Type));
    return LOG_TYPES.find(([type]) => types.has(type))?.[1];
  };

  const lines = [
    `%% Generated by \`npm run diagrams\` from the synthesized CDK app (profile ${profile}); do not edit.`,
    'flowchart LR',
  ];
  for (const stack of stacks) {
    const type = stack.id === 'EventLog' ? logType(stack) : undefined;
    const title = type ? `${stack.stackName}: event log on ${type}` : stack.stackName;
    lines.push(`  subgraph ${stack.id}["${label(title)}"]`);
    lines.push('    direction TB');
    for (const node of [...nodes.values()].filter((n) => n.stack === stack.id).sort((a, b) => a.id.localeCompare(b.id))) {
      lines.push(`    ${node.id}["${label(node.text)}"]`);
    }
    lines.push('  end');
  }
  for (const edge of [...edges.values()].sort((a, b) => `${a.from}>${a.to}`.localeCompare(`${b.from}>${b.to}`))) {
    lines.push(edge.text ? `  ${edge.from} -->|${edge.text}| ${edge.to}` : `  ${edge.from} --> ${edge.to}`);
  }
  lines.push(...stackEdges.sort());
  // Colours: the logs (event log and alerts log), compute, data at rest, delivery to people and retries.
  for (const [name, types] of Object.entries(NODE_CLASSES)) {
    const members = [...nodes.values()].filter((n) => types.test(n.type)).map((n) => n.id).sort();
    if (members.length) lines.push(`  classDef ${name} ${CLASS_STYLES[name]}`, `  class ${members.join(',')} ${name}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The Mermaid source of a profile, synthesized now. */
export function diagramSource(profile: string): string {
  return mermaidFor(profile, synthesizeProfile(profile));
}

/** The part of playwright-core's API used here (typed here so that type checking does not need the package). */
interface Chromium {
  launchPersistentContext(userDataDir: string, options: { executablePath: string; headless: boolean; args: string[] }):
    Promise<{ newPage(): Promise<Page>; close(): Promise<void> }>;
}
interface Page {
  setContent(html: string): Promise<void>;
  addScriptTag(options: { path: string }): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  setViewportSize(size: { width: number; height: number }): Promise<void>;
  locator(selector: string): { first(): { screenshot(options: { path: string }): Promise<unknown> } };
}

/** Renders Mermaid sources to SVG (ids from `id`, so that the same source always gives the same SVG) with the mermaid package's browser bundle in headless Chromium. */
export async function renderSvgs(diagrams: { id: string; source: string }[], options: { screenshot?: string } = {}): Promise<string[]> {
  // Loaded here so that the .mmd check (the jest test) needs neither Chromium nor playwright-core.
  const { chromium } = require('playwright-core') as { chromium: Chromium };
  const mermaidJs = require.resolve('mermaid/dist/mermaid.min.js');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-chromium-'));
  // A fresh profile (playwright passes it as --user-data-dir), and no network: mermaid is served from node_modules.
  let browser: Awaited<ReturnType<Chromium['launchPersistentContext']>> | undefined;
  try {
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    await page.setContent('<!doctype html><html><body></body></html>');
    await page.addScriptTag({ path: mermaidJs });
    const svgs: string[] = [];
    for (const { id, source } of diagrams) {
      const svg = await page.evaluate(async ({ source, id }) => {
        const mermaid = (globalThis as unknown as { mermaid: { initialize(c: object): void; render(id: string, s: string): Promise<{ svg: string }> } }).mermaid;
        mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'default', flowchart: { htmlLabels: false }, deterministicIds: true, deterministicIDSeed: id });
        return (await mermaid.render(id, source)).svg;
      }, { source, id: `diagram-${id}` });
      svgs.push(svg);
    }
    if (options.screenshot && svgs.length) {
      await page.setViewportSize({ width: 1800, height: 1200 });
      await page.setContent(`<!doctype html><html><body style="margin:0;background:white">${svgs[0]}</body></html>`);
      await page.locator('svg').first().screenshot({ path: options.screenshot });
    }
    return svgs;
  } finally {
    await browser?.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

async function main() {
  const profiles = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const screenshot = process.argv.find((a) => a.startsWith('--screenshot='))?.slice('--screenshot='.length);
  const selected = profiles.length ? profiles : profileNames();
  fs.mkdirSync(DIAGRAMS_DIR, { recursive: true });
  const diagrams: { id: string; source: string }[] = [];
  for (const profile of selected) {
    process.stderr.write(`diagrams: synthesizing ${profile} ...\n`);
    const source = diagramSource(profile);
    fs.writeFileSync(path.join(DIAGRAMS_DIR, `${profile}.mmd`), source);
    diagrams.push({ id: profile, source });
  }
  process.stderr.write('diagrams: rendering SVG in headless Chromium ...\n');
  const svgs = await renderSvgs(diagrams, { screenshot });
  for (const [i, profile] of selected.entries()) {
    fs.writeFileSync(path.join(DIAGRAMS_DIR, `${profile}.svg`), `${svgs[i]}\n`);
    process.stderr.write(`diagrams: wrote diagrams/${profile}.mmd and diagrams/${profile}.svg\n`);
  }
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
