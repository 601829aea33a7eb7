/**
 * How fast kinesis-local (the sandbox's Kinesis) takes records as it fills up, by shard count, readers
 * and persistence: PutRecords of 100 records back to back, in two phases of 6,000, while `pollers` readers
 * poll one shard each (GetRecords, 250 ms pause after an empty read). No sandbox: one kinesis-local on
 * ports 24567/24568 and a temporary folder, removed at the end.
 *
 * Run: npx ts-node --transpile-only bench/kinesis-local/run.ts <shards> <pollers> <persist: true|false> [persist interval, e.g. 2s]
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const [shards, pollers, persist, interval] = [Number(process.argv[2] ?? 4), Number(process.argv[3] ?? 0), process.argv[4] ?? 'false', process.argv[5] ?? '2s'];
const PORT = 24568;
const main = require.resolve('kinesis-local/main.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kinesis-local-bench-'));
const engine = spawn(process.execPath, [main], {
  cwd: dir,
  stdio: 'ignore',
  env: {
    ...process.env,
    KINESIS_MOCK_PLAIN_PORT: String(PORT),
    KINESIS_MOCK_TLS_PORT: String(PORT - 1),
    KINESIS_MOCK_CERT_PATH: path.join(path.dirname(main), 'server.json'),
    SHOULD_PERSIST_DATA: persist,
    PERSIST_PATH: dir,
    PERSIST_INTERVAL: interval,
    CREATE_STREAM_DURATION: '10ms',
    LOG_LEVEL: 'WARN',
  },
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main_(): Promise<void> {
  await sleep(4000);
  const client = new KinesisClient({
    endpoint: `http://127.0.0.1:${PORT}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    requestHandler: new NodeHttpHandler(),
  });
  await client.send(new CreateStreamCommand({ StreamName: 'bench', ShardCount: shards }));
  await sleep(1000);
  const shardIds = ((await client.send(new ListShardsCommand({ StreamName: 'bench' }))).Shards ?? []).map((s) => s.ShardId!);
  let stop = false;
  let reads = 0;
  const poll = async (shardId: string) => {
    let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: 'bench', ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (!stop && iterator) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
      reads++;
      iterator = page.NextShardIterator;
      if (!page.Records?.length) await sleep(250);
    }
  };
  const readers = shardIds.slice(0, pollers).map(poll);
  const data = Buffer.from(JSON.stringify({ txnId: 't-00000000', cardId: 'card-000001', customerId: 'cust-000000', merchantId: 'm', amount: 12.5, currency: 'EUR', country: 'FR', channel: 'POS', eventTime: Date.now(), schemaVersion: 1 }));
  for (const phase of ['first 6,000', 'next 6,000']) {
    const began = Date.now();
    for (let i = 0; i < 60; i++) {
      await client.send(new PutRecordsCommand({ StreamName: 'bench', Records: Array.from({ length: 100 }, (_, k) => ({ Data: data, PartitionKey: `k${i}-${k}` })) }));
    }
    console.log(`shards ${shards}, pollers ${pollers}, persist ${persist} (${interval}): ${phase} records at ${(6000 / ((Date.now() - began) / 1000)).toFixed(0)}/s (${reads} reads so far)`);
  }
  stop = true;
  await Promise.allSettled(readers);
  client.destroy();
}

main_()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    engine.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
