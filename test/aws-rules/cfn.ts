import type { Template } from 'aws-cdk-lib/assertions';
import type { Synthesized } from '../helpers/synth';
import { resourcesOfType } from './aws-rule';

/**
 * Reading synthesized templates the way the rules need: a CloudFormation value rendered as the text it
 * becomes on deploy (pseudo parameters and references kept as `${...}`), IAM statements normalized, and
 * the policies of a role gathered.
 */

/** A CloudFormation value as text: `Fn::Join` joined, `Ref`/`Fn::GetAtt`/`Fn::ImportValue` as `${name}`. */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(render).join(',');
  if (value && typeof value === 'object') {
    const [fn, arg] = Object.entries(value as Record<string, unknown>)[0] ?? [];
    if (fn === 'Fn::Join') {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    if (fn === 'Ref') return `\${${arg as string}}`;
    if (fn === 'Fn::GetAtt') return `\${${(arg as string[]).join('.')}}`;
    if (fn === 'Fn::Sub' && typeof arg === 'string') return arg;
    return `\${${fn}:${JSON.stringify(arg)}}`;
  }
  return String(value);
}

/** Whether `text` matches an IAM string pattern (`*` any run, `?` one character). */
export function globMatches(pattern: string, text: string): boolean {
  const regex = pattern.split('*').map((part) => part.split('?').map((s) => s.replace(/[.+^${}()|[\]\\]/g, '\\$&')).join('.')).join('.*');
  return new RegExp(`^${regex}$`).test(text);
}

/** One IAM statement with its lists made lists and its condition values rendered. */
export interface Statement {
  readonly effect: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly services: string[];
  readonly awsPrincipals: string[];
  /** operator -> key -> rendered values */
  readonly conditions: Record<string, Record<string, string[]>>;
}

const list = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

export function statementsOf(document: any): Statement[] {
  return list(document?.Statement).map((s: any) => ({
    effect: s.Effect,
    actions: list(s.Action).map(render),
    resources: list(s.Resource).map(render),
    services: list(s.Principal?.Service).map(render),
    awsPrincipals: list(s.Principal?.AWS).map(render),
    conditions: Object.fromEntries(Object.entries(s.Condition ?? {}).map(([operator, keys]) => [
      operator,
      Object.fromEntries(Object.entries(keys as Record<string, unknown>).map(([key, values]) => [key, list(values).map(render)])),
    ])),
  }));
}

/** The values a statement's condition gives a key, under any operator (with the operators). */
export function conditionOn(statement: Statement, key: string): { operator: string; values: string[] }[] {
  return Object.entries(statement.conditions).flatMap(([operator, keys]) =>
    Object.entries(keys).filter(([k]) => k.toLowerCase() === key.toLowerCase()).map(([, values]) => ({ operator, values })));
}

/** Whether a statement's condition on `key` admits `value` (exact for String/ArnEquals, pattern for *Like). */
export function conditionAdmits(statement: Statement, key: string, value: string): boolean {
  const on = conditionOn(statement, key);
  return on.length > 0 && on.every(({ operator, values }) =>
    values.some((v) => (/Like$/.test(operator) ? globMatches(v, value) : v === value)));
}

/** Every identity-policy statement attached to a role (by its logical id), from the role's own stack. */
export function roleStatements(synth: Synthesized, stack: string, roleLogicalId: string): Statement[] {
  const attached = resourcesOfType(synth, 'AWS::IAM::Policy').filter((p) => p.stack === stack
    && list(p.Properties.Roles).some((r: any) => r?.Ref === roleLogicalId));
  const role = synth.templates[stack].findResources('AWS::IAM::Role')[roleLogicalId];
  const inline = list(role?.Properties?.Policies).map((p: any) => p.PolicyDocument);
  return [...attached.map((p) => p.Properties.PolicyDocument), ...inline].flatMap(statementsOf);
}

/** Whether an Allow statement among `statements` grants `action` (exactly or by pattern). */
export function allows(statements: Statement[], action: string, where: (s: Statement) => boolean = () => true): boolean {
  return statements.some((s) => s.effect === 'Allow' && s.actions.some((a) => globMatches(a.toLowerCase(), action.toLowerCase())) && where(s));
}

/** A resource by logical id in any of the target's templates. */
export function resourceById(synth: Synthesized, logicalId: string): { stack: string; Type: string; Properties: Record<string, any> } | undefined {
  for (const [stack, template] of Object.entries(synth.templates) as [string, Template][]) {
    const resource = template.toJSON().Resources?.[logicalId];
    if (resource) return { stack, Type: resource.Type, Properties: resource.Properties ?? {} };
  }
  return undefined;
}

/**
 * What a value refers to, across stacks: `Fn::GetAtt`/`Ref` name a resource in the same template,
 * `Fn::ImportValue` and `Fn::GetStackOutput` name an output of another stack, followed to its value.
 */
export function referent(synth: Synthesized, value: any): { logicalId: string; attribute?: string } | undefined {
  if (value?.['Fn::GetAtt']) return { logicalId: value['Fn::GetAtt'][0], attribute: value['Fn::GetAtt'][1] };
  if (value?.Ref) return { logicalId: value.Ref };
  const imported = value?.['Fn::ImportValue'];
  const stackOutput = value?.['Fn::GetStackOutput']?.OutputName;
  if (imported || stackOutput) {
    for (const template of Object.values(synth.templates) as Template[]) {
      const outputs = template.toJSON().Outputs ?? {};
      const output = stackOutput ? outputs[stackOutput] : Object.values(outputs).find((o: any) => o.Export?.Name === imported);
      if (output) return referent(synth, (output as any).Value);
    }
  }
  return undefined;
}

