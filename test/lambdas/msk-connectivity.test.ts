import { DescribeClusterV2Command, KafkaClient, UpdateConnectivityCommand } from '@aws-sdk/client-kafka';
import { mockClient } from 'aws-sdk-client-mock';
import { type ConnectivityEvent, isComplete, onEvent } from '../../lambdas/msk-connectivity/connectivity';

const kafka = mockClient(KafkaClient);
const client = new KafkaClient({ region: 'eu-west-1' });
const ARN = 'arn:aws:kafka:eu-west-1:123456789012:cluster/tributary-msk-events/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d-3';

function event(RequestType: ConnectivityEvent['RequestType'], extra: Partial<ConnectivityEvent> = {}): ConnectivityEvent {
  return {
    RequestType,
    PhysicalResourceId: RequestType === 'Create' ? undefined : ARN,
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:framework-onEvent', ClusterArn: ARN, Authentication: 'IAM' },
    ...extra,
  };
}

/** DescribeClusterV2 as the MSK API reference shapes it for a provisioned cluster, trimmed to what matters. */
function clusterIs(State: string, CurrentVersion: string, iam: boolean) {
  kafka.on(DescribeClusterV2Command, { ClusterArn: ARN }).resolves({
    ClusterInfo: {
      ClusterArn: ARN,
      ClusterName: 'tributary-msk-events',
      ClusterType: 'PROVISIONED',
      CurrentVersion,
      State: State as never,
      Provisioned: {
        NumberOfBrokerNodes: 3,
        CurrentBrokerSoftwareInfo: { KafkaVersion: '3.8.x' },
        BrokerNodeGroupInfo: {
          InstanceType: 'kafka.m7g.large',
          ClientSubnets: ['subnet-0a', 'subnet-0b', 'subnet-0c'],
          ConnectivityInfo: {
            PublicAccess: { Type: 'DISABLED' },
            VpcConnectivity: { ClientAuthentication: { Sasl: { Scram: { Enabled: false }, Iam: { Enabled: iam } }, Tls: { Enabled: false } } },
          },
        },
      },
    },
  });
}

beforeEach(() => kafka.reset());

describe('turning on multi-VPC connectivity', () => {
  test('an ACTIVE cluster without it gets one UpdateConnectivity for IAM at its current version', async () => {
    clusterIs('ACTIVE', 'K3AEGXETSR30VB', false);
    kafka.on(UpdateConnectivityCommand).resolves({ ClusterArn: ARN, ClusterOperationArn: `${ARN}/operation` });
    await expect(onEvent(client, event('Create'))).resolves.toEqual({ PhysicalResourceId: ARN, UpdatedFromVersion: 'K3AEGXETSR30VB' });
    expect(kafka.commandCalls(UpdateConnectivityCommand).map((c) => c.args[0].input)).toEqual([{
      ClusterArn: ARN,
      CurrentVersion: 'K3AEGXETSR30VB',
      ConnectivityInfo: { VpcConnectivity: { ClientAuthentication: { Sasl: { Iam: { Enabled: true } } } } },
    }]);
  });

  test('a cluster that has it already is left alone (a retried or repeated deploy)', async () => {
    clusterIs('ACTIVE', 'K3AEGXETSR30VB', true);
    await expect(onEvent(client, event('Update'))).resolves.toEqual({ PhysicalResourceId: ARN });
    expect(kafka.commandCalls(UpdateConnectivityCommand)).toHaveLength(0);
  });

  test('a cluster that is not ACTIVE is not updated, with an error saying why', async () => {
    clusterIs('UPDATING', 'K3AEGXETSR30VB', false);
    await expect(onEvent(client, event('Create'))).rejects.toThrow(`Cluster ${ARN} is UPDATING: MSK turns on multi-VPC connectivity only for an ACTIVE cluster`);
    expect(kafka.commandCalls(UpdateConnectivityCommand)).toHaveLength(0);
  });

  test('delete leaves the cluster as it is', async () => {
    await expect(onEvent(client, event('Delete'))).resolves.toEqual({ PhysicalResourceId: ARN });
    expect(kafka.calls()).toHaveLength(0);
  });

  test('only IAM is supported', async () => {
    await expect(onEvent(client, { ...event('Create'), ResourceProperties: { ClusterArn: ARN, Authentication: 'TLS' } })).rejects.toThrow("Authentication 'TLS' is not supported");
  });

  test('a serverless cluster has no such setting', async () => {
    kafka.on(DescribeClusterV2Command).resolves({ ClusterInfo: { ClusterArn: ARN, ClusterType: 'SERVERLESS', State: 'ACTIVE', Serverless: { VpcConfigs: [{ SubnetIds: ['subnet-0a'] }] } } });
    await expect(onEvent(client, event('Create'))).rejects.toThrow('is not a provisioned MSK cluster');
  });
});

describe('waiting for the rolling update', () => {
  const started = () => event('Create', { UpdatedFromVersion: 'K3AEGXETSR30VB', PhysicalResourceId: ARN });

  test('not complete while the cluster is UPDATING', async () => {
    clusterIs('UPDATING', 'K3AEGXETSR30VB', false);
    await expect(isComplete(client, started())).resolves.toEqual({ IsComplete: false });
  });

  test('not complete while still ACTIVE at the version the update started from (it has not begun)', async () => {
    clusterIs('ACTIVE', 'K3AEGXETSR30VB', false);
    await expect(isComplete(client, started())).resolves.toEqual({ IsComplete: false });
  });

  test('complete once ACTIVE with IAM connectivity on, returning the cluster ARN for what reads through it', async () => {
    clusterIs('ACTIVE', 'K1B2C3D4E5F6G7', true);
    await expect(isComplete(client, started())).resolves.toEqual({ IsComplete: true, Data: { ClusterArn: ARN } });
  });

  test('an update that ran and did not apply fails the deploy instead of waiting out the timeout', async () => {
    clusterIs('ACTIVE', 'K1B2C3D4E5F6G7', false);
    await expect(isComplete(client, started())).rejects.toThrow('the connectivity update did not apply');
  });

  test('a FAILED cluster fails the deploy', async () => {
    clusterIs('FAILED', 'K1B2C3D4E5F6G7', false);
    await expect(isComplete(client, started())).rejects.toThrow('is FAILED');
  });

  test('delete completes at once', async () => {
    await expect(isComplete(client, event('Delete'))).resolves.toEqual({ IsComplete: true });
  });
});
