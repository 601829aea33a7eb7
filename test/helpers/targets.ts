import { synthTargets, type SynthTarget } from './synth';

/**
 * synthTargets(), synthesized without bundling assets (CDK's `aws:cdk:bundling-stacks` context set to
 * none): for checks that read templates and never an asset. The templates are the ones `cdk synth`
 * writes but for asset hashes (compared with normalizeAssetHashes for every target when this was
 * written), and synthesis is about five times faster, as no handler is bundled.
 */
export function templateTargets(): SynthTarget[] {
  return synthTargets().map((t) => ({ ...t, context: { ...t.context, 'aws:cdk:bundling-stacks': [] } }));
}
