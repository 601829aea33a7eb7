import type { Template } from 'aws-cdk-lib/assertions';
import { synthProfile, synthTargets, type Synthesized, type SynthTarget } from '../helpers/synth';

/**
 * One rule AWS applies to what the platform deploys (what CloudFormation accepts on create, what a
 * service needs to work), as its documentation states it. AWS cannot be reached from the tests, so
 * the page is the specification: each rule names the page it comes from, and docs/aws-rules.md
 * lists every rule with its page and this test.
 */
export interface AwsRule {
  /** The rule in one sentence, as the page states it. */
  readonly rule: string;
  /** The AWS documentation page (https://docs.aws.amazon.com/...) that states the rule. */
  readonly source: string;
  /**
   * Checks one synthesized target, and throws (an `expect` failure) where its templates break the
   * rule. A target to which the rule does not apply (say, an MSK rule on a Kinesis profile) passes.
   */
  readonly check: (synth: Synthesized, target: SynthTarget) => void;
  /** The targets to check; default every profile and every architecture the profiles do not use. */
  readonly targets?: SynthTarget[];
}

const AWS_DOCS = /^https:\/\/(docs\.aws\.amazon\.com|aws\.amazon\.com|trino\.io)\//;

/** Declares a rule as one jest test per synthesized target, named after the rule and its source. */
export function awsRule({ rule, source, check, targets = synthTargets() }: AwsRule): void {
  if (!AWS_DOCS.test(source)) throw new Error(`aws rule "${rule}": its source must be an AWS documentation page, got ${source}`);
  describe(`${rule} (${source})`, () => {
    test.each(targets)('$label', (target) => check(synthProfile(target.profile, target.context), target));
  });
}

/** Every resource of a CloudFormation type across a target's templates, with the stack that holds it. */
export function resourcesOfType(synth: Synthesized, type: string): { stack: string; logicalId: string; Properties: Record<string, any> }[] {
  return Object.entries(synth.templates).flatMap(([stack, template]: [string, Template]) =>
    Object.entries(template.findResources(type)).map(([logicalId, resource]) => ({ stack, logicalId, Properties: resource.Properties ?? {} })));
}
