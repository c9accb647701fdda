/**
 * What a DynamoDB call from `prestage up`'s run thread to a dynalite on its own thread costs, over HTTP (loopback
 * sockets, keep-alive) and as a message to the dynalite thread (`ThreadRequestHandler`): GetItem of a 1 KiB item
 * at a steady rate, the latency (p50/p99 ms) and the run thread's busy time per call (event-loop utilisation).
 *
 *   npx tsx bench/live-dynamo-channel.ts [calls-per-second] [seconds]   (defaults 400 and 6)
 */
import { performance } from 'node:perf_hooks';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from '../src/adapters/dynamodb/dynamodb-client.ts';
import { ensureTable, partitionsTableDefinition } from '../src/adapters/dynamodb/table-definitions.ts';
import { startDynaliteInWorker } from '../src/local/dynalite-server.ts';

const RATE = Number(process.argv[2] ?? 400);
const SECONDS = Number(process.argv[3] ?? 6);
const TABLE = 'bench-channel';

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main(): Promise<void> {
  const dynamo = await startDynaliteInWorker();
  const clients = {
    http: createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint }),
    message: createDynamoClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      requestHandler: dynamo.requestHandler!,
    }),
  };
  await ensureTable(clients.http, partitionsTableDefinition(TABLE));
  await clients.http.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: { pk: { S: 'p1' }, value: { S: 'x'.repeat(1024) } },
    }),
  );
  console.log(`GetItem at ${RATE}/s for ${SECONDS} s per channel`);
  for (const round of [1, 2]) {
    for (const [name, client] of Object.entries(clients)) {
      const latencies: number[] = [];
      const pending: Promise<void>[] = [];
      const elu = performance.eventLoopUtilization();
      const started = performance.now();
      const total = RATE * SECONDS;
      for (let i = 0; i < total; i++) {
        const due = started + (i * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
        const sent = performance.now();
        pending.push(
          client
            .send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'p1' } } }))
            .then(() => void latencies.push(performance.now() - sent)),
        );
      }
      await Promise.all(pending);
      const used = performance.eventLoopUtilization(elu);
      const wallMs = performance.now() - started;
      console.log(
        `round ${round} ${name.padEnd(8)} p50 ${quantile(latencies, 0.5).toFixed(2)} ms, p99 ${quantile(latencies, 0.99).toFixed(2)} ms, ` +
          `run thread busy ${((used.utilization * wallMs) / total).toFixed(3)} ms per call`,
      );
    }
  }
  for (const client of Object.values(clients)) client.destroy();
  await dynamo.close();
}

await main();
