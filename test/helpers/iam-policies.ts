import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Resolver, stackTemplates } from './cfn-resolve';
import { REPO_ROOT, venvTool, type Synthesized } from './synth';

/** Every IAM policy document a synthesized target deploys, intrinsics resolved, ready for an IAM linter. */

export type PolicyKind = 'identity' | 'trust' | 'resource';

export interface PolicyDocument {
  /** `<stack>/<logical id>` and, for a role's own documents, which one. */
  readonly id: string;
  readonly kind: PolicyKind;
  readonly policy: { Version?: string; Statement: Record<string, any>[] };
}

/** The resource policies by type, and the property that holds each. */
const RESOURCE_POLICIES: Record<string, string> = {
  'AWS::KMS::Key': 'KeyPolicy',
  'AWS::S3::BucketPolicy': 'PolicyDocument',
  'AWS::SQS::QueuePolicy': 'PolicyDocument',
  'AWS::SNS::TopicPolicy': 'PolicyDocument',
  'AWS::MSK::ClusterPolicy': 'Policy',
};

export function policiesOf(synth: Synthesized): PolicyDocument[] {
  const stacks = stackTemplates(synth);
  const resolver = new Resolver(Object.values(stacks));
  const out: PolicyDocument[] = [];
  for (const [stackId, { stackName, template }] of Object.entries(stacks)) {
    const resolve = (v: unknown) => resolver.resolve(v, stackName);
    for (const [logicalId, { Type, Properties = {} }] of Object.entries(template.Resources ?? {})) {
      const id = `${stackId}/${logicalId}`;
      if (Type === 'AWS::IAM::Policy' || Type === 'AWS::IAM::ManagedPolicy') {
        out.push({ id, kind: 'identity', policy: resolve(Properties.PolicyDocument) });
      } else if (Type === 'AWS::IAM::Role') {
        // A trust policy names no Resource: the role it is attached to is the resource of sts:AssumeRole*
        // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
        const roleArn = resolver.resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] }, stackName);
        const trust = resolve(Properties.AssumeRolePolicyDocument);
        out.push({ id: `${id} trust policy`, kind: 'trust', policy: withResource(trust, roleArn) });
        for (const inline of Properties.Policies ?? []) out.push({ id: `${id} inline ${inline.PolicyName}`, kind: 'identity', policy: resolve(inline.PolicyDocument) });
      } else if (Type in RESOURCE_POLICIES) {
        let policy = resolve(Properties[RESOURCE_POLICIES[Type]]);
        // In a key policy, "Resource": "*" means the key the policy is attached to
        // (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
        if (Type === 'AWS::KMS::Key') policy = withResource(policy, resolver.resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] }, stackName), true);
        out.push({ id, kind: 'resource', policy });
      }
    }
  }
  return out;
}

function withResource(policy: PolicyDocument['policy'], arn: string, replaceStar = false): PolicyDocument['policy'] {
  return {
    ...policy,
    Statement: [policy.Statement].flat().map((s) => {
      if (replaceStar && s.Resource === '*') return { ...s, Resource: arn };
      return 'Resource' in s || 'NotResource' in s ? s : { ...s, Resource: arn };
    }),
  };
}

export interface IamFinding {
  readonly id: string;
  readonly issue: string;
  readonly severity: string;
  readonly title: string;
  readonly detail: unknown;
}

/** parliament's findings for the documents (scripts/check_iam_policies.py), in one Python process. */
export function lintPolicies(documents: { id: string; policy: unknown }[]): IamFinding[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-iam-'));
  try {
    const input = path.join(dir, 'policies.json');
    fs.writeFileSync(input, JSON.stringify(documents));
    const out = execFileSync(venvTool('python'), [path.join(REPO_ROOT, 'scripts', 'check_iam_policies.py'), input], { encoding: 'utf8', maxBuffer: 64 << 20 });
    return JSON.parse(out).findings;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
