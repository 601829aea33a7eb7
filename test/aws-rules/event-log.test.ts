import { awsRule, resourcesOfType } from './aws-rule';

// Rules of the event log that the templates rely on. Each is one test per synthesized target.

awsRule({
  rule: 'A Kinesis data stream keeps records from 24 hours up to 8760 hours (365 days)',
  source: 'https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention.html',
  check: (synth) => {
    for (const { Properties } of resourcesOfType(synth, 'AWS::Kinesis::Stream')) {
      const hours = Properties.RetentionPeriodHours ?? 24;
      expect(hours).toBeGreaterThanOrEqual(24);
      expect(hours).toBeLessThanOrEqual(8760);
    }
  },
});
