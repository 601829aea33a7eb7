import type { Synthesized } from '../helpers/synth';
import { templateTargets } from '../helpers/targets';
import { awsRule, resourcesOfType } from './aws-rule';
import { globMatches, referent, render, resourceById, statementsOf, type Statement } from './cfn';

// Rules of the services the real-time alerts rely on: the alerts log's producers and readers, the
// notifier's event source and its idempotency table. One test per synthesized target.

/** Every statement of the identity policies attached to each role, by the role's logical id (across stacks). */
function statementsByRole(synth: Synthesized): Map<string, { statement: Statement; raw: any }[]> {
  const byRole = new Map<string, { statement: Statement; raw: any }[]>();
  for (const { Properties } of resourcesOfType(synth, 'AWS::IAM::Policy')) {
    const raw: any[] = [Properties.PolicyDocument.Statement].flat();
    const parsed = statementsOf(Properties.PolicyDocument);
    for (const role of Properties.Roles ?? []) {
      const id = referent(synth, role)?.logicalId;
      if (!id) continue;
      byRole.set(id, [...(byRole.get(id) ?? []), ...parsed.map((statement, i) => ({ statement, raw: raw[i] }))]);
    }
  }
  return byRole;
}

/** The logical ids a statement's resources refer to (through cross-stack outputs too). */
const referents = (synth: Synthesized, raw: any): string[] =>
  [raw.Resource].flat().map((r: any) => referent(synth, r)?.logicalId).filter((id: string | undefined): id is string => id !== undefined);

const grantsAction = (statement: Statement, action: string) =>
  statement.effect === 'Allow' && statement.actions.some((a) => globMatches(a.toLowerCase(), action.toLowerCase()));

awsRule({
  targets: templateTargets(),
  rule: 'A producer of a Kinesis stream encrypted with a customer-managed KMS key must have kms:GenerateDataKey on that key, and a consumer kms:Decrypt',
  source: 'https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html',
  check: (synth) => {
    for (const [role, statements] of statementsByRole(synth)) {
      for (const [action, keyAction] of [['kinesis:PutRecords', 'kms:GenerateDataKey'], ['kinesis:GetRecords', 'kms:Decrypt']] as const) {
        const streams = statements.filter(({ statement }) => grantsAction(statement, action)).flatMap(({ raw }) => referents(synth, raw))
          .map((id) => resourceById(synth, id)).filter((r) => r?.Type === 'AWS::Kinesis::Stream');
        for (const stream of streams) {
          const key = referent(synth, stream!.Properties.StreamEncryption?.KeyId)?.logicalId;
          if (!key) continue;
          const keyGranted = statements.some(({ statement, raw }) => grantsAction(statement, keyAction) && referents(synth, raw).includes(key));
          expect([role, action, stream!.Properties.Name, keyAction, keyGranted]).toEqual([role, action, stream!.Properties.Name, keyAction, true]);
        }
      }
    }
  },
});

awsRule({
  targets: templateTargets(),
  rule: 'With MSK IAM access control a producer writes with kafka-cluster:WriteData on the topic, and an idempotent producer (the Kafka Java client\'s default since 3.0) also needs kafka-cluster:WriteDataIdempotently on the cluster',
  source: 'https://docs.aws.amazon.com/msk/latest/developerguide/iam-access-control-use-cases.html',
  check: (synth) => {
    for (const [role, statements] of statementsByRole(synth)) {
      const writes = statements.filter(({ statement }) => statement.actions.includes('kafka-cluster:WriteData'));
      if (writes.length === 0) continue;
      expect(writes.every(({ statement }) => statement.resources.every((r) => r.includes(':topic/')))).toBe(true);
      const idempotent = statements.some(({ statement }) => statement.actions.includes('kafka-cluster:WriteDataIdempotently') && statement.resources.some((r) => r.includes(':cluster/')));
      const connect = statements.some(({ statement }) => statement.actions.includes('kafka-cluster:Connect'));
      expect([role, idempotent, connect]).toEqual([role, true, true]);
    }
  },
});

awsRule({
  targets: templateTargets(),
  rule: 'MaximumBatchingWindowInSeconds defaults to 0 s for streams but to 500 ms for Amazon MSK, and is set in whole seconds: a mapping meant to invoke without gathering sets 0 explicitly',
  source: 'https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html',
  check: (synth) => {
    for (const { stack, logicalId, Properties } of resourcesOfType(synth, 'AWS::Lambda::EventSourceMapping')) {
      expect([`${stack}/${logicalId}`, Number.isInteger(Properties.MaximumBatchingWindowInSeconds)]).toEqual([`${stack}/${logicalId}`, true]);
    }
  },
});

awsRule({
  targets: templateTargets(),
  rule: 'DynamoDB TTL compares the epoch seconds in the TTL attribute with the current time and deletes expired items on a best-effort basis, typically within two days; until then they still show up in reads',
  source: 'https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTimeToLive.html',
  check: (synth) => {
    // The idempotency table expires records on `expiration` (Powertools' attribute), and the function using it
    // is told the expiry itself: Powertools compares `expiration` with the clock on every read, so a record
    // past its expiry and not yet deleted by TTL is not taken for a delivery.
    for (const { stack, logicalId, Properties } of resourcesOfType(synth, 'AWS::DynamoDB::Table')) {
      expect([`${stack}/${logicalId}`, Properties.TimeToLiveSpecification]).toEqual([`${stack}/${logicalId}`, { AttributeName: 'expiration', Enabled: true }]);
      const users = resourcesOfType(synth, 'AWS::Lambda::Function').filter(({ Properties: fn }) =>
        Object.values(fn.Environment?.Variables ?? {}).some((v) => referent(synth, v)?.logicalId === logicalId));
      expect(users.length).toBeGreaterThan(0);
      for (const { Properties: fn } of users) expect(Number(fn.Environment.Variables.IDEMPOTENCY_EXPIRY_SECONDS)).toBeGreaterThanOrEqual(60);
    }
  },
});

awsRule({
  targets: templateTargets(),
  rule: 'An MSK event source mapping polls from a Lambda-owned VPC through network interfaces in the cluster\'s subnets with the cluster\'s security groups; the function itself need not run in the cluster\'s VPC',
  source: 'https://docs.aws.amazon.com/lambda/latest/dg/with-msk-cluster-network.html',
  check: (synth) => {
    const mappings = resourcesOfType(synth, 'AWS::Lambda::EventSourceMapping').filter(({ Properties }) => Properties.AmazonManagedKafkaEventSourceConfig !== undefined);
    if (mappings.length === 0) return;
    // So the brokers' security group must let itself in on the IAM port, whatever VPC the function runs in.
    const groups = [...resourcesOfType(synth, 'AWS::MSK::Cluster').flatMap(({ Properties }) => Properties.BrokerNodeGroupInfo.SecurityGroups),
      ...resourcesOfType(synth, 'AWS::MSK::ServerlessCluster').flatMap(({ Properties }) => Properties.VpcConfigs.flatMap((c: any) => c.SecurityGroups))]
      .map((g: any) => referent(synth, g)?.logicalId);
    expect(groups.length).toBeGreaterThan(0);
    const ingress = resourcesOfType(synth, 'AWS::EC2::SecurityGroupIngress').map(({ Properties }) => Properties);
    for (const group of groups) {
      const self = ingress.some((r) => referent(synth, r.GroupId)?.logicalId === group && referent(synth, r.SourceSecurityGroupId)?.logicalId === group && r.FromPort <= 9098 && r.ToPort >= 9098);
      expect([group, render(self)]).toEqual([group, 'true']);
    }
  },
});
