import { resourcesOfType } from '../aws-rules/aws-rule';
import { synthProfile } from '../helpers/synth';
import { templateTargets } from '../helpers/targets';

// Security by default: every log group the platform creates is encrypted with a customer-managed key
// (whose policy the rule in test/aws-rules/observability.test.ts checks), but those named here, each with why.
const UNENCRYPTED_BY_DESIGN: Record<string, string> = {};

describe.each(templateTargets())('log groups, $label', ({ profile, context }) => {
  test('are all encrypted with a KMS key', () => {
    const synth = synthProfile(profile, context);
    const plain = resourcesOfType(synth, 'AWS::Logs::LogGroup').filter(({ Properties }) => !Properties.KmsKeyId).map(({ stack, logicalId }) => `${stack}/${logicalId}`);
    expect(plain.filter((id) => !Object.keys(UNENCRYPTED_BY_DESIGN).some((allowed) => id.startsWith(allowed)))).toEqual([]);
  });
});
