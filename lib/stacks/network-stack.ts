import { Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { type PlatformConfig, removalPolicyFor } from '../config';
import type { LogNetwork } from '../constructs/event-log/log-network';
import { stackLogGroup } from '../constructs/state-machine-tasks';

export interface NetworkStackProps extends StackProps {
  readonly config: PlatformConfig;
}

/**
 * The network a log in a VPC (Amazon MSK) needs, and nothing more: private
 * subnets across zones with no route to the internet (no NAT, no internet
 * gateway), VPC endpoints for what the clients and the Lambda pollers call,
 * and flow logs. Built only when the event log asks for one.
 */
export class NetworkStack extends Stack {
  public readonly network: LogNetwork;
  private readonly zones: number;

  /**
   * The zones the VPC spans, resolved at deploy time. Without this an
   * environment-agnostic stack gets CDK's two placeholder zones whatever
   * `network.availabilityZones` says, and MSK needs its brokers spread evenly
   * over exactly the configured subnets.
   */
  public get availabilityZones(): string[] {
    return Array.from({ length: this.zones }, (_, i) => Fn.select(i, Fn.getAzs()));
  }

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.zones = config.network.availabilityZones;
    const flowLogs = stackLogGroup(this, 'FlowLogs', { prefix: '/vpc/flow-logs', retention: config.observability.logRetentionDays, removalPolicy: removalPolicyFor(config) });
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(config.network.cidr),
      maxAzs: config.network.availabilityZones,
      natGateways: 0,
      subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL } },
      // S3 (the lake, the Flink jar) through a gateway endpoint: free, and off any NAT.
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    const subnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    // Outbound is left open: with no route out of the VPC, it reaches only the brokers and the endpoints.
    const clientSecurityGroup = new ec2.SecurityGroup(this, 'Clients', {
      vpc,
      description: 'Clients of the event log: the speed-layer function and the Flink job',
      allowAllOutbound: true,
    });
    const endpointSecurityGroup = new ec2.SecurityGroup(this, 'Endpoints', {
      vpc,
      description: 'VPC interface endpoints: HTTPS from inside the VPC only',
      allowAllOutbound: false,
    });
    // Clients, and the Lambda pollers that run in the log's own subnets, call the endpoints over HTTPS.
    endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(config.network.cidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
    const endpoints: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      // The MSK event source mapping's pollers call Lambda and STS from the cluster's subnets.
      Lambda: ec2.InterfaceVpcEndpointAwsService.LAMBDA,
      Sts: ec2.InterfaceVpcEndpointAwsService.STS,
      // The MSK event source sends the batches it gives up on to its SQS on-failure destination from the
      // cluster's VPC: Lambda's guide requires an endpoint for that service there.
      Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
      // The speed-layer function sends traces. (It writes alerts to the alerts topic on the brokers; the alert
      // notifier, which publishes to SNS, runs outside the VPC.)
      XRay: ec2.InterfaceVpcEndpointAwsService.XRAY,
    };
    for (const [name, service] of Object.entries(endpoints)) {
      vpc.addInterfaceEndpoint(name, { service, subnets, securityGroups: [endpointSecurityGroup], privateDnsEnabled: true, open: false });
    }
    this.network = { vpc, subnets, clientSecurityGroup };
  }
}
