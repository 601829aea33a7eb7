import { awsRule, resourcesOfType } from './aws-rule';
import { conditionOn, statementsOf } from './cfn';

// Rules of EventBridge Scheduler that the batch layer's schedule relies on.

awsRule({
  rule: "A schedule's execution role scopes aws:SourceArn to the schedule group's ARN, never to a schedule or a schedule name prefix",
  source: 'https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html',
  check: (synth) => {
    const trusts = resourcesOfType(synth, 'AWS::IAM::Role').flatMap(({ logicalId, Properties }) =>
      statementsOf(Properties.AssumeRolePolicyDocument).filter((s) => s.services.includes('scheduler.amazonaws.com')).map((s) => ({ logicalId, s })));
    if (synth.platform.batchLayer) expect(trusts.length).toBeGreaterThan(0);
    for (const { logicalId, s } of trusts) {
      for (const { values } of conditionOn(s, 'aws:SourceArn')) {
        for (const arn of values) expect({ role: logicalId, arn, scopedToGroup: /:scheduler:.*:schedule-group\/[^/:]+$/.test(arn) && !arn.includes(":schedule/") }).toEqual({ role: logicalId, arn, scopedToGroup: true });
      }
    }
    // And the group named is the one the schedule is in (the default group when none is named).
    for (const { Properties } of resourcesOfType(synth, 'AWS::Scheduler::Schedule')) {
      const group = Properties.GroupName ?? 'default';
      const roleArn = Properties.Target.RoleArn;
      const role = trusts.find(({ logicalId }) => roleArn?.['Fn::GetAtt']?.[0] === logicalId);
      expect(role).toBeDefined();
      const arns = conditionOn(role!.s, 'aws:SourceArn').flatMap(({ values }) => values);
      expect(arns.every((arn) => arn.endsWith(`:schedule-group/${group}`))).toBe(true);
    }
  },
});
