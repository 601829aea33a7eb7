import { alertNotifierEnvSchema } from '../../lambdas/alert-notifier/env';
import { LakePrefix } from '../../lib/lake-layout';
import { RUNTIME_ENVIRONMENT_KEYS } from '../../lib/stacks/speed-layer-stack';
import { onlyResource, synthProfile } from '../helpers/synth';

// The alert notifier's environment as the Alerts stack sets it, against the handler's own schema
// (lambdas/alert-notifier/env.ts): every variable it reads, and nothing else but the runtime's own.

describe('the alert notifier environment contract', () => {
  const variables = (profile: string) => onlyResource(synthProfile(profile).templates.Alerts, 'AWS::Lambda::Function').Properties.Environment.Variables;

  test.each(['dev', 'msk'])('%s: the stack sets every variable the notifier reads, and only those plus the runtime\'s own', (profile) => {
    expect(Object.keys(variables(profile)).sort()).toEqual([...Object.keys(alertNotifierEnvSchema.shape), ...RUNTIME_ENVIRONMENT_KEYS].sort());
  });

  test.each(['dev', 'msk'])('%s: every literal value passes the notifier\'s own validation', (profile) => {
    const literal = Object.fromEntries(Object.entries(variables(profile)).filter(([, v]) => typeof v === 'string'));
    for (const [name, value] of Object.entries(literal)) {
      if ((RUNTIME_ENVIRONMENT_KEYS as readonly string[]).includes(name)) continue;
      const schema = (alertNotifierEnvSchema.shape as Record<string, any>)[name];
      expect([name, schema?.safeParse(value).success]).toEqual([name, true]);
    }
    expect(literal.DEAD_LETTER_PREFIX).toBe(LakePrefix.deadLetter);
  });
});
