import type { Template } from 'aws-cdk-lib/assertions';
import { onlyResource } from './synth';

/** Reading a synthesized state machine and its role's policies in tests. */

export type State = Record<string, any>;
export interface Definition { StartAt: string; States: Record<string, State>; QueryLanguage: string }

/** Intrinsic functions as readable text: pseudo-parameters by name, references by logical id without their hash. */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  const bare = (id: string) => id.replace(/[0-9A-F]{8}$/, '');
  if ('Ref' in v) return ({ 'AWS::Partition': 'aws', 'AWS::Region': 'REGION', 'AWS::AccountId': 'ACCOUNT' } as Record<string, string>)[v.Ref] ?? `<${bare(v.Ref)}>`;
  if ('Fn::GetAtt' in v) return `<${bare(v['Fn::GetAtt'][0])}.${v['Fn::GetAtt'][1]}>`;
  if ('Fn::Join' in v) return v['Fn::Join'][1].map(render).join(v['Fn::Join'][0]);
  if ('Fn::Sub' in v) return String(v['Fn::Sub']).replace('${AWS::AccountId}', 'ACCOUNT').replace('${AWS::Region}', 'REGION');
  if ('Fn::GetStackOutput' in v) {
    const { StackName, OutputName } = v['Fn::GetStackOutput'];
    const stack = String(StackName).replace(/^[a-z0-9-]+?-(lake|stream-processing|serving|event-log)$/, '$1');
    return `<${stack}:${String(OutputName).replace(/^PublishOutput(Ref|FnGetAtt)/, '').replace(/[0-9A-F]{8}/g, '')}>`;
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** The definition of the template's only state machine, intrinsics rendered. */
export function definitionIn(template: Template): Definition {
  const { Properties } = onlyResource(template, 'AWS::StepFunctions::StateMachine');
  return JSON.parse(render(Properties.DefinitionString));
}

/** Every state, including those inside Map states' processors. */
export function allStates(definition: { States: Record<string, State> }): Record<string, State> {
  const out: Record<string, State> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    out[name] = state;
    if (state.ItemProcessor) Object.assign(out, allStates(state.ItemProcessor));
  }
  return out;
}

export const successorsOf = (state: State): string[] => [
  ...(state.Next ? [state.Next] : []),
  ...(state.Choices ?? []).map((c: State) => c.Next),
  ...(state.Default ? [state.Default] : []),
  ...(state.Catch ?? []).map((c: State) => c.Next),
];

/**
 * The states a run passes through from StartAt to the end, taking at each Choice the branch `choices`
 * names for it (which must be one of its successors) and `Next` everywhere else.
 */
export function pathThrough(definition: Definition, choices: Record<string, string>): string[] {
  const states = allStates(definition);
  const path: string[] = [];
  for (let at: string | undefined = definition.StartAt; at; ) {
    path.push(at);
    const state: State = states[at];
    if (state.Type !== 'Choice') {
      at = state.Next;
      continue;
    }
    at = choices[at];
    if (!successorsOf(state).includes(at)) throw new Error(`${path[path.length - 1]} has no branch to ${at}`);
  }
  return path;
}

/** Every permission of a role's inline policies as `action resource[ if condition]`, intrinsics rendered. */
export function grantsOf(template: Template, roleLogicalId: string): string[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === roleLogicalId));
  const granted = new Set<string>();
  const intrinsic = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((k) => k.startsWith('Fn::') || k === 'Ref');
  for (const policy of policies as any[]) {
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      if (statement.Effect !== 'Allow') throw new Error(`unexpected ${statement.Effect} statement`);
      const condition = statement.Condition ? ` if ${JSON.stringify(statement.Condition, (_k, v) => (intrinsic(v) ? render(v) : v))}` : '';
      for (const action of [statement.Action].flat()) for (const resource of [statement.Resource].flat()) granted.add(`${action} ${render(resource)}${condition}`);
    }
  }
  return [...granted].sort();
}
