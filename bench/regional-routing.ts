/**
 * The regional request path: what reading routing in the region of arrival costs and saves.
 *
 * Two regions on the embedded data plane (dynalite per region, the routing tables replicated from us-east-1 to
 * eu-west-1 by the TableReplicator), cross-region cell calls delayed by the estimated RTT. An eu-west-1
 * interceptor reads a partition held in eu-west-1 at a steady rate, under the default lease (2 s):
 *
 * - regional: routing read from the eu-west-1 replica (the deployed design);
 * - home-read: routing read from the us-east-1 table across the WAN (one RTT per routing read), the design it
 *   replaces, for comparison;
 * - remote data: the same reader on a partition held in us-east-1 (every request crosses the WAN).
 *
 * Reported: request latency p50/p99 (ms), and routing reads per request and per second for this one interceptor
 * instance and partition (the routing-read cost; one strongly consistent read of a record under 4 KB is one RRU).
 *
 * Run: npx tsx bench/regional-routing.ts [requests-per-second] [seconds]   (defaults 20 and 12)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { RoutingClient } from '../src/data-plane/routing-client.ts';
import type { PartitionRecord } from '../src/domain/data-plane/partition-record.ts';
import type { PartitionRepository } from '../src/domain/data-plane/ports.ts';
import { HybridLogicalClock } from '../src/domain/migration/hlc.ts';
import { DEFAULT_ROUTING_LEASE } from '../src/domain/migration/routing-lease.ts';
import { EmbeddedCluster } from '../src/local/embedded-cluster.ts';
import { REAL_WAN_LATENCY, WanDelayedStores, wanRoundTripMs } from '../src/local/wan-latency.ts';

const RATE = Number(process.argv[2] ?? 20);
const SECONDS = Number(process.argv[3] ?? 12);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts routing reads, and optionally delays each by a WAN round trip (a read from another region). */
class CountingPartitions implements PartitionRepository {
  reads = 0;
  constructor(
    private readonly inner: PartitionRepository,
    private readonly delayMs: number,
  ) {}
  async get(partition: string): Promise<PartitionRecord | undefined> {
    this.reads += 1;
    if (this.delayMs > 0) await sleep(this.delayMs / 2);
    const record = await this.inner.get(partition);
    if (this.delayMs > 0) await sleep(this.delayMs / 2);
    return record;
  }
  createIfAbsent(record: PartitionRecord) {
    return this.inner.createIfAbsent(record);
  }
  update(partition: string, mutate: (r: PartitionRecord) => PartitionRecord | undefined) {
    return this.inner.update(partition, mutate);
  }
  list() {
    return this.inner.list();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function main() {
  const cluster = await EmbeddedCluster.start({ regions: ['us-east-1', 'eu-west-1'], cellsPerRegion: 1 });
  const rtt = wanRoundTripMs(REAL_WAN_LATENCY, 'eu-west-1', 'us-east-1');
  const writer = new RoutingClient({
    partitions: cluster.partitions,
    cells: cluster.cells,
    stores: cluster.stores,
    clock: new HybridLogicalClock('seed'),
    lease: DEFAULT_ROUTING_LEASE,
    region: 'us-east-1',
  });
  await writer.put('far', 'k', { n: 1 });
  await writer.put('near', 'k', { n: 1 }, { region: 'eu-west-1' });
  await cluster.replicator?.drain();

  const reader = (partitions: CountingPartitions, node: string) =>
    new RoutingClient({
      partitions,
      cells: cluster.cellsIn('eu-west-1'),
      stores: new WanDelayedStores(cluster.stores, (cellId) =>
        wanRoundTripMs(REAL_WAN_LATENCY, 'eu-west-1', cluster.regionOfCell(cellId)),
      ),
      clock: new HybridLogicalClock(node),
      lease: DEFAULT_ROUTING_LEASE,
      region: 'eu-west-1',
      readRepairRate: 0,
    });

  const scenarios = [
    {
      name: 'regional (replica)',
      partition: 'near',
      partitions: new CountingPartitions(cluster.partitionsIn('eu-west-1'), 0),
    },
    {
      name: 'home-read (WAN)',
      partition: 'near',
      partitions: new CountingPartitions(cluster.partitions, rtt),
    },
    {
      name: 'remote data',
      partition: 'far',
      partitions: new CountingPartitions(cluster.partitionsIn('eu-west-1'), 0),
    },
  ];
  const results = [];
  for (const [i, s] of scenarios.entries()) {
    const client = reader(s.partitions, `r${i}`);
    await client.get(s.partition, 'k'); // warm: the first read fetches routing
    s.partitions.reads = 0;
    const latencies: number[] = [];
    const total = RATE * SECONDS;
    const started = performance.now();
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const t0 = performance.now();
      await client.get(s.partition, 'k');
      latencies.push(performance.now() - t0);
    }
    const elapsedS = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    results.push({
      scenario: s.name,
      requests: total,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      routingReads: s.partitions.reads,
      routingReadsPerRequest: s.partitions.reads / total,
      routingReadsPerSecond: s.partitions.reads / elapsedS,
    });
  }
  await cluster.close();

  process.stdout.write(
    `eu-west-1 interceptor, ${RATE} requests/s for ${SECONDS} s per scenario, lease ${DEFAULT_ROUTING_LEASE.leaseTtlMs} ms, ` +
      `eu-west-1 ↔ us-east-1 RTT ${rtt} ms (estimated)\n\n`,
  );
  process.stdout.write(
    `${'scenario'.padEnd(22)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'routing reads'.padStart(15)}${'per request'.padStart(13)}${'per s'.padStart(8)}\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.scenario.padEnd(22)}${r.p50Ms.toFixed(1).padStart(9)}${r.p99Ms.toFixed(1).padStart(9)}${String(r.routingReads).padStart(15)}${r.routingReadsPerRequest.toFixed(3).padStart(13)}${r.routingReadsPerSecond.toFixed(2).padStart(8)}\n`,
    );
  }
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/regional-routing.json',
    `${JSON.stringify({ generatedAt: new Date().toISOString(), rate: RATE, seconds: SECONDS, rttMs: rtt, results }, null, 2)}\n`,
  );
}

await main();
