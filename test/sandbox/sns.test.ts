import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateTopicCommand,
  InvalidParameterException,
  ListTopicsCommand,
  NotFoundException,
  PublishBatchCommand,
  PublishCommand,
  SNSClient,
  InvalidParameterValueException,
  BatchEntryIdsNotDistinctException,
} from '@aws-sdk/client-sns';
import { alertsTopicArn, defaultSettings, type SandboxSettings } from '../../sandbox/settings';
import { readPublished, startSnsStandIn, type SnsStandIn } from '../../sandbox/stand-ins/sns';

/** The real SNS client against the stand-in, configured only by endpoint, region and credentials. */
describe('SNS stand-in', () => {
  let home: string;
  let settings: SandboxSettings;
  let standIn: SnsStandIn;
  let sns: SNSClient;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-sns-'));
    const base = defaultSettings(process.cwd(), { home });
    settings = { ...base, ports: { ...base.ports, sns: 0 } };
    standIn = await startSnsStandIn(settings);
    sns = new SNSClient({ endpoint: standIn.url, region: settings.region, credentials: settings.credentials });
  });

  afterAll(async () => {
    sns.destroy();
    await standIn.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('creates topics idempotently and lists them', async () => {
    const first = await sns.send(new CreateTopicCommand({ Name: settings.alertsTopicName }));
    const again = await sns.send(new CreateTopicCommand({ Name: settings.alertsTopicName }));
    expect(first.TopicArn).toBe(alertsTopicArn(settings));
    expect(again.TopicArn).toBe(first.TopicArn);
    await sns.send(new CreateTopicCommand({ Name: 'other-topic' }));
    const listed = await sns.send(new ListTopicsCommand({}));
    expect(listed.Topics?.map((t) => t.TopicArn)).toEqual([alertsTopicArn(settings), `arn:aws:sns:us-east-1:000000000000:other-topic`].sort());
    expect(listed.NextToken).toBeUndefined();
  });

  it('pages ListTopics by 100 with NextToken, as SNS does', async () => {
    for (let i = 0; i < 120; i++) await sns.send(new CreateTopicCommand({ Name: `bulk-${String(i).padStart(3, '0')}` }));
    const first = await sns.send(new ListTopicsCommand({}));
    expect(first.Topics).toHaveLength(100);
    expect(first.NextToken).toBeDefined();
    const second = await sns.send(new ListTopicsCommand({ NextToken: first.NextToken }));
    expect(second.NextToken).toBeUndefined();
    const all = [...(first.Topics ?? []), ...(second.Topics ?? [])].map((t) => t.TopicArn);
    expect(all).toHaveLength(122);
    expect(new Set(all).size).toBe(122);
  });

  it('refuses a bad topic name with InvalidParameter', async () => {
    await expect(sns.send(new CreateTopicCommand({ Name: 'has space' }))).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('publishes with message attributes the way the speed layer does, and the message lands in the topic file', async () => {
    const message = JSON.stringify({ alertId: 'R1:card-1:1700000000000', rule: 'R1' });
    const out = await sns.send(
      new PublishCommand({
        TopicArn: alertsTopicArn(settings),
        Message: message,
        MessageAttributes: {
          alertId: { DataType: 'String', StringValue: 'R1:card-1:1700000000000' },
          rule: { DataType: 'String', StringValue: 'R1' },
        },
      }),
    );
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const published = await readPublished(settings, settings.alertsTopicName);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      messageId: out.MessageId,
      topicArn: alertsTopicArn(settings),
      message,
      messageAttributes: {
        alertId: { DataType: 'String', StringValue: 'R1:card-1:1700000000000' },
        rule: { DataType: 'String', StringValue: 'R1' },
      },
    });
    expect(Date.parse(published[0].publishedAt)).not.toBeNaN();
  });

  it('keeps XML-special and non-ASCII characters intact', async () => {
    const message = '<a href="x">&amp; ünïcode ✓</a>\nline two';
    await sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:other-topic', Message: message, Subject: 'S & <P>' }));
    const published = await readPublished(settings, 'other-topic');
    expect(published.map((p) => [p.message, p.subject])).toEqual([[message, 'S & <P>']]);
  });

  it('publishes a batch: each entry on its own, successes land in order, a bad entry fails alone', async () => {
    const before = (await readPublished(settings, settings.alertsTopicName)).length;
    const out = await sns.send(
      new PublishBatchCommand({
        TopicArn: alertsTopicArn(settings),
        PublishBatchRequestEntries: [
          { Id: 'a', Message: 'first', MessageAttributes: { rule: { DataType: 'String', StringValue: 'R2' } } },
          { Id: 'b', Message: '' },
          { Id: 'c', Message: 'third', MessageAttributes: { score: { DataType: 'Number', StringValue: '12.5' } } },
        ],
      }),
    );
    expect(out.Successful?.map((s) => s.Id)).toEqual(['a', 'c']);
    expect(out.Failed).toEqual([{ Id: 'b', Code: 'InvalidParameter', Message: 'Invalid parameter: Empty message', SenderFault: true }]);
    const published = (await readPublished(settings, settings.alertsTopicName)).slice(before);
    expect(published.map((p) => [p.messageId, p.message, p.messageAttributes])).toEqual([
      [out.Successful?.[0].MessageId, 'first', { rule: { DataType: 'String', StringValue: 'R2' } }],
      [out.Successful?.[1].MessageId, 'third', { score: { DataType: 'Number', StringValue: '12.5' } }],
    ]);
  });

  it('rejects a batch with duplicate entry ids as a whole', async () => {
    await expect(
      sns.send(new PublishBatchCommand({ TopicArn: alertsTopicArn(settings), PublishBatchRequestEntries: [{ Id: 'x', Message: '1' }, { Id: 'x', Message: '2' }] })),
    ).rejects.toBeInstanceOf(BatchEntryIdsNotDistinctException);
  });

  it('fails like SNS on an unknown topic (NotFoundException, 404) and writes nothing', async () => {
    const error = await sns
      .send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:no-such-topic', Message: 'x' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundException);
    expect((error as NotFoundException).message).toBe('Topic does not exist');
    expect((error as NotFoundException).$metadata.httpStatusCode).toBe(404);
    expect((error as NotFoundException).$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fs.existsSync(path.join(home, 'sns', 'no-such-topic.ndjson'))).toBe(false);
  });

  it('fails like SNS on a missing message (InvalidParameterException) and on a malformed attribute', async () => {
    await expect(sns.send(new PublishCommand({ TopicArn: alertsTopicArn(settings), Message: undefined as unknown as string }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    await expect(
      sns.send(new PublishCommand({ TopicArn: alertsTopicArn(settings), Message: 'x', MessageAttributes: { n: { DataType: 'Number', StringValue: 'abc' } } })),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
  });

  it('refuses a message over 256 KiB', async () => {
    await expect(sns.send(new PublishCommand({ TopicArn: alertsTopicArn(settings), Message: 'x'.repeat(262_145) }))).rejects.toThrow(
      'Invalid parameter: Message too long',
    );
  });

  it('reaches the stand-in through AWS_ENDPOINT_URL_SNS alone, and remembers topics across a restart', async () => {
    await standIn.close();
    standIn = await startSnsStandIn(settings);
    const saved = process.env.AWS_ENDPOINT_URL_SNS;
    process.env.AWS_ENDPOINT_URL_SNS = standIn.url;
    const viaEnv = new SNSClient({ region: settings.region, credentials: settings.credentials });
    try {
      await viaEnv.send(new PublishCommand({ TopicArn: alertsTopicArn(settings), Message: 'after restart' }));
    } finally {
      viaEnv.destroy();
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SNS;
      else process.env.AWS_ENDPOINT_URL_SNS = saved;
    }
    sns.destroy();
    sns = new SNSClient({ endpoint: standIn.url, region: settings.region, credentials: settings.credentials });
    const published = await readPublished(settings, settings.alertsTopicName);
    expect(published[published.length - 1].message).toBe('after restart');
  });
});
