import { ClusterState, DescribeClusterV2Command, type KafkaClient, UpdateConnectivityCommand } from '@aws-sdk/client-kafka';

/**
 * Multi-VPC private connectivity (IAM) for a provisioned MSK cluster, as a CloudFormation custom resource
 * run by CDK's Provider framework. CloudFormation rejects AWS::MSK::Cluster with a vpcConnectivity auth
 * scheme enabled on create; the MSK guide turns it on for an ACTIVE cluster with UpdateConnectivity, a
 * rolling update of the brokers that takes 30 minutes or more. `onEvent` starts that update, `isComplete`
 * is polled until the cluster is ACTIVE again with the scheme on (or the update failed).
 */

export interface ConnectivityProperties {
  readonly ClusterArn: string;
  /** The auth scheme to turn on; only IAM is supported here. */
  readonly Authentication: string;
}

export interface ConnectivityEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: ConnectivityProperties & { ServiceToken?: string };
  readonly PhysicalResourceId?: string;
  /** Set by onEvent when it started an update: the cluster version it updated from. */
  readonly UpdatedFromVersion?: string;
}

export interface ConnectivityResult {
  readonly PhysicalResourceId: string;
  readonly UpdatedFromVersion?: string;
}

interface ClusterView {
  readonly state?: string;
  readonly version?: string;
  readonly iamEnabled: boolean;
}

async function describe(client: KafkaClient, clusterArn: string): Promise<ClusterView> {
  const { ClusterInfo } = await client.send(new DescribeClusterV2Command({ ClusterArn: clusterArn }));
  if (!ClusterInfo?.Provisioned) throw new Error(`${clusterArn} is not a provisioned MSK cluster: multi-VPC connectivity is a setting of provisioned clusters.`);
  const auth = ClusterInfo.Provisioned.BrokerNodeGroupInfo?.ConnectivityInfo?.VpcConnectivity?.ClientAuthentication;
  return { state: ClusterInfo.State, version: ClusterInfo.CurrentVersion, iamEnabled: auth?.Sasl?.Iam?.Enabled === true };
}

function validated(properties: ConnectivityProperties): ConnectivityProperties {
  if (!properties.ClusterArn) throw new Error('ClusterArn is required.');
  if (properties.Authentication !== 'IAM') throw new Error(`Authentication '${properties.Authentication}' is not supported: only IAM.`);
  return properties;
}

/** Create and update turn IAM multi-VPC connectivity on (once); delete leaves the cluster as it is. */
export async function onEvent(client: KafkaClient, event: ConnectivityEvent): Promise<ConnectivityResult> {
  const { ClusterArn } = validated(event.ResourceProperties);
  // The physical id is the cluster: a replaced cluster is a new resource, and the old one's delete is a no-op.
  if (event.RequestType === 'Delete') {
    // Turning connectivity off would fail while Firehose's managed VPC connection exists, and the
    // cluster is usually being deleted with it: nothing to do.
    return { PhysicalResourceId: event.PhysicalResourceId ?? ClusterArn };
  }
  const cluster = await describe(client, ClusterArn);
  if (cluster.iamEnabled) return { PhysicalResourceId: ClusterArn };
  if (cluster.state !== ClusterState.ACTIVE || !cluster.version) {
    throw new Error(`Cluster ${ClusterArn} is ${cluster.state}: MSK turns on multi-VPC connectivity only for an ACTIVE cluster. Deploy again once it is ACTIVE.`);
  }
  await client.send(new UpdateConnectivityCommand({
    ClusterArn,
    CurrentVersion: cluster.version,
    ConnectivityInfo: { VpcConnectivity: { ClientAuthentication: { Sasl: { Iam: { Enabled: true } } } } },
  }));
  return { PhysicalResourceId: ClusterArn, UpdatedFromVersion: cluster.version };
}

/**
 * Complete once the cluster is ACTIVE with IAM multi-VPC connectivity on. The cluster ARN is returned as
 * the `ClusterArn` attribute, so what reads through the connection (Firehose) is created after it.
 */
export async function isComplete(client: KafkaClient, event: ConnectivityEvent): Promise<{ IsComplete: boolean; Data?: Record<string, string> }> {
  const { ClusterArn } = validated(event.ResourceProperties);
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const cluster = await describe(client, ClusterArn);
  if (cluster.state === ClusterState.FAILED) throw new Error(`Cluster ${ClusterArn} is FAILED while multi-VPC connectivity was being turned on.`);
  if (cluster.state !== ClusterState.ACTIVE) return { IsComplete: false };
  if (cluster.iamEnabled) return { IsComplete: true, Data: { ClusterArn } };
  // ACTIVE without the scheme: still the version the update started from (it has not begun), or a new
  // version without it (the update ran and did not apply, so waiting longer would not help).
  if (event.UpdatedFromVersion !== undefined && cluster.version !== event.UpdatedFromVersion) {
    throw new Error(`Cluster ${ClusterArn} is ACTIVE at version ${cluster.version} but IAM multi-VPC connectivity is still off: the connectivity update did not apply (see the cluster's operations in the MSK console).`);
  }
  return { IsComplete: false };
}
