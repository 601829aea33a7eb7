import { SandboxPorts, SandboxSettings } from '../settings';
import { PortClaim } from './supervisor';

/**
 * The CLI flag that sets each port, so a port conflict names the way out.
 * The CLI defines its flags with these names.
 */
export const PORT_FLAGS: Record<keyof SandboxPorts, string> = {
  kafka: '--kafka-port',
  kafkaController: '--kafka-controller-port',
  kinesis: '--kinesis-port',
  kinesisTls: '--kinesis-tls-port',
  s3: '--s3-port',
  sns: '--sns-port',
  dynamodb: '--dynamodb-port',
};

const ENGINE_OF: Record<keyof SandboxPorts, string> = {
  kafka: 'kafka',
  kafkaController: 'kafka controller',
  kinesis: 'kinesis-local',
  kinesisTls: 'kinesis-local TLS',
  s3: 's3proxy',
  sns: 'sns',
  dynamodb: 'dynamodb (dynalite)',
};

/** The claims for the named ports of the settings. */
export function portClaims(settings: SandboxSettings, keys: (keyof SandboxPorts)[]): PortClaim[] {
  return keys.map((key) => ({ port: settings.ports[key], engine: ENGINE_OF[key], flag: PORT_FLAGS[key] }));
}
