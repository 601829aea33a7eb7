import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { type SandboxSettings, endpoint, sandboxDirs } from '../settings';
import { NdjsonTail } from '../ndjson-tail';

/**
 * The SNS stand-in: a small HTTP server on 127.0.0.1:<settings.ports.sns> that speaks the
 * SNS Query protocol (API version 2010-03-31) the AWS SDK's SNS client uses — form-encoded
 * POSTs with `Action=...`, XML answers in the `http://sns.amazonaws.com/doc/2010-03-31/`
 * namespace with a `ResponseMetadata/RequestId`, and errors in the Query protocol's
 * `ErrorResponse/Error/{Type,Code,Message}` shape with SNS's codes and HTTP statuses, so the
 * client raises the same exception classes it raises against SNS (`NotFoundException`,
 * `InvalidParameterException`, ...). A handler reaches it through the SDK's standard endpoint
 * setting (`AWS_ENDPOINT_URL_SNS` or the client's `endpoint`) and nothing else.
 *
 * Actions: CreateTopic (idempotent, like SNS: the same name gives the same ARN), ListTopics
 * (paged by 100 with NextToken, like SNS), Publish and PublishBatch (up to 10 entries; each
 * entry succeeds or fails on its own, in `Successful`/`Failed`). Any other action answers
 * `InvalidAction`.
 *
 * Honest scope: there are no subscriptions and no fan-out. A published message is appended as
 * one NDJSON line `{messageId, topicArn, message, messageAttributes, publishedAt[, subject,
 * messageStructure]}` to `<sandboxDirs(settings).sns>/<topicName>.ndjson` before the answer is
 * sent — that file is the sandbox's "subscriber" (read it with {@link readPublished}). Also not
 * modelled: FIFO topics (CreateTopic of `*.fifo` is refused), SMS/mobile push targets, topic
 * attributes beyond echoing them back on a repeated CreateTopic, access policies and signature
 * checks (any credentials are accepted, as the sandbox's settings say), throttling.
 */

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const API_VERSION = '2010-03-31';
/** SNS's limit for one message: the body plus every attribute's name, type and value, in bytes. */
export const MAX_MESSAGE_BYTES = 262_144;
const MAX_BATCH_ENTRIES = 10;
const MAX_ATTRIBUTES = 10;
const LIST_PAGE_SIZE = 100;
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

export interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  /** Base64, as it came on the wire. */
  BinaryValue?: string;
}

/** One line of `<topicName>.ndjson`. */
export interface PublishedMessage {
  messageId: string;
  topicArn: string;
  message: string;
  messageAttributes: Record<string, MessageAttribute>;
  /** ISO 8601, when the stand-in accepted the message. */
  publishedAt: string;
  subject?: string;
  messageStructure?: string;
}

export interface SnsStandIn {
  /** `http://127.0.0.1:<port>`: what `AWS_ENDPOINT_URL_SNS` should be set to. */
  url: string;
  close(): Promise<void>;
}

/** An SNS error as the Query protocol carries it: the `Code` the SDK maps to its exception class. */
class SnsError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

const notFound = () => new SnsError('NotFound', 404, 'Topic does not exist');
const invalidParameter = (what: string) => new SnsError('InvalidParameter', 400, `Invalid parameter: ${what}`);
const invalidValue = (message: string) => new SnsError('ParameterValueInvalid', 400, message);

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

function snsDir(settings: SandboxSettings): string {
  return sandboxDirs(settings).sns;
}

function topicFile(settings: SandboxSettings, topicName: string): string {
  if (!TOPIC_NAME.test(topicName)) throw new Error(`not an SNS topic name: '${topicName}'`);
  return path.join(snsDir(settings), `${topicName}.ndjson`);
}

/** The messages published to a topic, read as they are appended (publish order). */
export function publishedTail(settings: SandboxSettings, topicName: string): NdjsonTail<PublishedMessage> {
  return new NdjsonTail(topicFile(settings, topicName), (line) => JSON.parse(line) as PublishedMessage);
}

/** Every message published to the topic so far, in publish order; [] when none (or no such topic yet). */
export async function readPublished(settings: SandboxSettings, topicName: string): Promise<PublishedMessage[]> {
  return publishedTail(settings, topicName).readNew();
}

/** `prefix.1`, `prefix.2`, ... while present: the Query protocol's list and map members. */
function indexed(params: URLSearchParams, prefix: string): string[] {
  const found: string[] = [];
  for (let i = 1; ; i++) {
    const base = `${prefix}.${i}`;
    const present = [...params.keys()].some((key) => key === base || key.startsWith(`${base}.`));
    if (!present) return found;
    found.push(base);
  }
}

/** `MessageAttributes.entry.N.Name` / `.Value.DataType|StringValue|BinaryValue`, validated as SNS does. */
function parseAttributes(params: URLSearchParams, prefix: string): Record<string, MessageAttribute> {
  const attributes: Record<string, MessageAttribute> = {};
  const entries = indexed(params, `${prefix}.entry`);
  if (entries.length > MAX_ATTRIBUTES) {
    throw invalidValue(`Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`);
  }
  for (const entry of entries) {
    const name = params.get(`${entry}.Name`) ?? '';
    const dataType = params.get(`${entry}.Value.DataType`) ?? '';
    const stringValue = params.get(`${entry}.Value.StringValue`) ?? undefined;
    const binaryValue = params.get(`${entry}.Value.BinaryValue`) ?? undefined;
    if (
      name.length === 0 || name.length > 256 || !/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.') || name.endsWith('.') ||
      name.includes('..') || /^(aws|amazon)\./i.test(name)
    ) {
      throw invalidValue(`The message attribute name '${name}' is invalid.`);
    }
    if (name in attributes) throw invalidValue(`Message attribute name '${name}' is repeated.`);
    const base = dataType.split('.')[0];
    if (base !== 'String' && base !== 'Number' && base !== 'Binary') {
      throw invalidValue(
        `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
      );
    }
    if (base === 'Binary') {
      if (!binaryValue) throw invalidValue(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
      attributes[name] = { DataType: dataType, BinaryValue: binaryValue };
      continue;
    }
    if (stringValue === undefined || stringValue.length === 0) {
      throw invalidValue(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
    }
    if (base === 'Number' && !/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(stringValue)) {
      throw invalidValue(`Could not cast message attribute '${name}' value to number.`);
    }
    attributes[name] = { DataType: dataType, StringValue: stringValue };
  }
  return attributes;
}

function attributesBytes(attributes: Record<string, MessageAttribute>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
    if (value.StringValue !== undefined) bytes += Buffer.byteLength(value.StringValue);
    if (value.BinaryValue !== undefined) bytes += Buffer.from(value.BinaryValue, 'base64').length;
  }
  return bytes;
}

/** What one Publish (or one batch entry) asks for, validated; throws the error SNS answers with. */
function parseMessage(params: URLSearchParams, prefix: string): Omit<PublishedMessage, 'messageId' | 'topicArn' | 'publishedAt'> {
  const message = params.get(`${prefix}Message`);
  if (message === null || message.length === 0) throw invalidParameter('Empty message');
  const messageAttributes = parseAttributes(params, `${prefix}MessageAttributes`);
  if (Buffer.byteLength(message) + attributesBytes(messageAttributes) > MAX_MESSAGE_BYTES) throw invalidParameter('Message too long');
  const subject = params.get(`${prefix}Subject`) ?? undefined;
  if (subject !== undefined && (subject.length === 0 || subject.length > 100 || /[\u0000-\u001f]/.test(subject))) {
    throw invalidParameter('Subject');
  }
  const messageStructure = params.get(`${prefix}MessageStructure`) ?? undefined;
  if (messageStructure !== undefined) {
    if (messageStructure !== 'json') throw invalidParameter('MessageStructure');
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      throw invalidParameter('Message Structure - JSON message body failed to parse');
    }
    if (typeof parsed !== 'object' || parsed === null || typeof (parsed as Record<string, unknown>).default !== 'string') {
      throw invalidParameter('Message Structure - No default entry in JSON message body');
    }
  }
  if (params.has(`${prefix}MessageGroupId`) || params.has(`${prefix}MessageDeduplicationId`)) {
    throw invalidParameter('The request includes MessageGroupId or MessageDeduplicationId parameter that is not valid for this topic type');
  }
  return { message, messageAttributes, ...(subject !== undefined && { subject }), ...(messageStructure !== undefined && { messageStructure }) };
}

interface TopicRecord {
  arn: string;
  attributes: Record<string, string>;
}

/**
 * Start the SNS stand-in on `settings.ports.sns`. Topics it has created are kept in
 * `<sns dir>/topics.json`, so a restarted stand-in still knows them (a second `up` resumes).
 */
export async function startSnsStandIn(settings: SandboxSettings): Promise<SnsStandIn> {
  const dir = snsDir(settings);
  await fs.promises.mkdir(dir, { recursive: true });
  const topicsFile = path.join(dir, 'topics.json');
  const topics = new Map<string, TopicRecord>();
  try {
    const saved = JSON.parse(await fs.promises.readFile(topicsFile, 'utf8')) as TopicRecord[];
    for (const topic of saved) topics.set(topic.arn, topic);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const arnPrefix = `arn:aws:sns:${settings.region}:${settings.accountId}:`;

  async function saveTopics(): Promise<void> {
    const tmp = `${topicsFile}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, JSON.stringify([...topics.values()], null, 2));
    await fs.promises.rename(tmp, topicsFile);
  }

  /** Appends to one topic's file go one after another, so lines never interleave. */
  const appendChains = new Map<string, Promise<void>>();
  function append(topicName: string, lines: PublishedMessage[]): Promise<void> {
    const file = topicFile(settings, topicName);
    const text = lines.map((line) => `${JSON.stringify(line)}\n`).join('');
    const next = (appendChains.get(file) ?? Promise.resolve()).then(() => fs.promises.appendFile(file, text));
    appendChains.set(file, next.catch(() => undefined));
    return next;
  }

  function topicFor(params: URLSearchParams): { arn: string; name: string } {
    const arn = params.get('TopicArn') ?? params.get('TargetArn');
    if (arn === null || arn.length === 0) {
      if (params.has('PhoneNumber')) throw invalidParameter('PhoneNumber: SMS is not part of the sandbox');
      throw invalidParameter('TopicArn or TargetArn Reason: no value for required parameter');
    }
    const parts = arn.split(':');
    if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sns' || !TOPIC_NAME.test(parts[5])) {
      throw invalidParameter('TopicArn');
    }
    if (!topics.has(arn)) throw notFound();
    return { arn, name: parts[5] };
  }

  async function createTopic(params: URLSearchParams): Promise<string> {
    const name = params.get('Name') ?? '';
    if (name.endsWith('.fifo')) throw invalidParameter('Topic Name: FIFO topics are not part of the sandbox');
    if (!TOPIC_NAME.test(name)) {
      throw invalidParameter('Topic Name');
    }
    const attributes: Record<string, string> = {};
    for (const entry of indexed(params, 'Attributes.entry')) {
      attributes[params.get(`${entry}.key`) ?? ''] = params.get(`${entry}.value`) ?? '';
    }
    if (attributes.FifoTopic === 'true') throw invalidParameter('Attributes: FIFO topics are not part of the sandbox');
    const arn = `${arnPrefix}${name}`;
    const existing = topics.get(arn);
    if (existing) {
      if (JSON.stringify(existing.attributes) !== JSON.stringify(attributes)) {
        throw invalidParameter('Attributes Reason: Topic already exists with different attributes');
      }
    } else {
      topics.set(arn, { arn, attributes });
      await saveTopics();
    }
    return `<CreateTopicResult><TopicArn>${xmlEscape(arn)}</TopicArn></CreateTopicResult>`;
  }

  function listTopics(params: URLSearchParams): string {
    const all = [...topics.keys()].sort();
    const token = params.get('NextToken');
    let start = 0;
    if (token !== null) {
      start = Number.parseInt(Buffer.from(token, 'base64').toString('utf8'), 10);
      if (!Number.isInteger(start) || start < 0 || start > all.length) throw invalidParameter('NextToken');
    }
    const page = all.slice(start, start + LIST_PAGE_SIZE);
    const members = page.map((arn) => `<member><TopicArn>${xmlEscape(arn)}</TopicArn></member>`).join('');
    const next = start + LIST_PAGE_SIZE < all.length ? `<NextToken>${Buffer.from(String(start + LIST_PAGE_SIZE)).toString('base64')}</NextToken>` : '';
    return `<ListTopicsResult><Topics>${members}</Topics>${next}</ListTopicsResult>`;
  }

  async function publish(params: URLSearchParams): Promise<string> {
    const topic = topicFor(params);
    const parsed = parseMessage(params, '');
    const line: PublishedMessage = { messageId: randomUUID(), topicArn: topic.arn, ...parsed, publishedAt: new Date().toISOString() };
    await append(topic.name, [line]);
    return `<PublishResult><MessageId>${line.messageId}</MessageId></PublishResult>`;
  }

  async function publishBatch(params: URLSearchParams): Promise<string> {
    const topic = topicFor(params);
    const entries = indexed(params, 'PublishBatchRequestEntries.member');
    if (entries.length === 0) throw new SnsError('EmptyBatchRequest', 400, 'The batch request doesn\'t contain any entries.');
    if (entries.length > MAX_BATCH_ENTRIES) {
      throw new SnsError('TooManyEntriesInBatchRequest', 400, `The batch request contains more entries than permissible (${MAX_BATCH_ENTRIES}).`);
    }
    const ids = entries.map((entry) => params.get(`${entry}.Id`) ?? '');
    for (const id of ids) {
      if (!BATCH_ENTRY_ID.test(id)) throw new SnsError('InvalidBatchEntryId', 400, `The Id of a batch entry in a batch request doesn't abide by the specification: '${id}'.`);
    }
    if (new Set(ids).size !== ids.length) throw new SnsError('BatchEntryIdsNotDistinct', 400, 'Two or more batch entries in the request have the same Id.');
    let total = 0;
    for (const entry of entries) total += Buffer.byteLength(params.get(`${entry}.Message`) ?? '');
    if (total > MAX_MESSAGE_BYTES) {
      throw new SnsError('BatchRequestTooLong', 400, `The length of all the messages put together is more than the limit (${MAX_MESSAGE_BYTES} bytes).`);
    }
    const successful: Array<{ id: string; messageId: string }> = [];
    const failed: Array<{ id: string; code: string; message: string; senderFault: boolean }> = [];
    const lines: PublishedMessage[] = [];
    const publishedAt = new Date().toISOString();
    entries.forEach((entry, i) => {
      try {
        const line: PublishedMessage = { messageId: randomUUID(), topicArn: topic.arn, ...parseMessage(params, `${entry}.`), publishedAt };
        lines.push(line);
        successful.push({ id: ids[i], messageId: line.messageId });
      } catch (error) {
        if (!(error instanceof SnsError)) throw error;
        failed.push({ id: ids[i], code: error.code, message: error.message, senderFault: error.type === 'Sender' });
      }
    });
    if (lines.length > 0) await append(topic.name, lines);
    const ok = successful.map((s) => `<member><Id>${xmlEscape(s.id)}</Id><MessageId>${s.messageId}</MessageId></member>`).join('');
    const bad = failed
      .map((f) => `<member><Id>${xmlEscape(f.id)}</Id><Code>${f.code}</Code><Message>${xmlEscape(f.message)}</Message><SenderFault>${f.senderFault}</SenderFault></member>`)
      .join('');
    return `<PublishBatchResult><Successful>${ok}</Successful><Failed>${bad}</Failed></PublishBatchResult>`;
  }

  const actions: Record<string, (params: URLSearchParams) => string | Promise<string>> = {
    CreateTopic: createTopic,
    ListTopics: listTopics,
    Publish: publish,
    PublishBatch: publishBatch,
  };

  async function answer(params: URLSearchParams, requestId: string): Promise<{ status: number; body: string }> {
    const action = params.get('Action') ?? '';
    try {
      const version = params.get('Version');
      if (version !== null && version !== API_VERSION) {
        throw new SnsError('InvalidParameterValue', 400, `Version '${version}' is not supported; this endpoint speaks ${API_VERSION}.`);
      }
      const run = Object.prototype.hasOwnProperty.call(actions, action) ? actions[action] : undefined;
      if (!run) throw new SnsError('InvalidAction', 400, `Could not find operation ${action} for version ${API_VERSION}`);
      const result = await run(params);
      return {
        status: 200,
        body: `<${action}Response xmlns="${XMLNS}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
      };
    } catch (error) {
      const e = error instanceof SnsError ? error : new SnsError('InternalError', 500, (error as Error).message, 'Receiver');
      return {
        status: e.status,
        body:
          `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${e.type}</Type><Code>${e.code}</Code>` +
          `<Message>${xmlEscape(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
      if (req.method === 'POST') {
        for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) params.append(key, value);
      }
      // SNS sends the request id both in the body and as x-amzn-RequestId; the SDK reads the header.
      const requestId = randomUUID();
      answer(params, requestId).then(
        ({ status, body }) => {
          const xml = `<?xml version="1.0"?>\n${body}`;
          res.writeHead(status, { 'Content-Type': 'text/xml', 'Content-Length': Buffer.byteLength(xml), 'x-amzn-RequestId': requestId });
          res.end(xml);
        },
        (error: Error) => {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(error.message);
        },
      );
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${settings.ports.sns} (SNS stand-in) is in use by another process; stop it or pick another SNS port`) : error),
    );
    server.listen(settings.ports.sns, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: endpoint(port),
    async close() {
      await Promise.all([...appendChains.values()]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
