import { KafkaClient } from '@aws-sdk/client-kafka';
import { type ConnectivityEvent, isComplete as isCompleteFor, onEvent as onEventFor } from './connectivity';

// One client per container; the endpoint comes from the SDK's standard settings.
const client = new KafkaClient({});

export const onEvent = (event: ConnectivityEvent) => onEventFor(client, event);
export const isComplete = (event: ConnectivityEvent) => isCompleteFor(client, event);
