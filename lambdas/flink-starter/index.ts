import { KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { isComplete as isCompleteFor, onEvent as onEventFor, type StarterEvent } from './starter';

// One client per container; the endpoint comes from the SDK's standard settings.
const client = new KinesisAnalyticsV2Client({});

export const onEvent = (event: StarterEvent) => onEventFor(client, event);
export const isComplete = (event: StarterEvent) => isCompleteFor(client, event);
