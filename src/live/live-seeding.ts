import { CellHealth } from '../data-plane/cell-health.ts';
import { RoutingClient } from '../data-plane/routing-client.ts';
import { newPartitionRecord } from '../domain/data-plane/partition-record.ts';
import { HybridLogicalClock } from '../domain/migration/hlc.ts';
import { LOCAL_TABLES } from '../local/embedded-cluster.ts';
import { LOCAL_LEASE, type LocalServer } from '../local/local-server.ts';
import { ThreadBatchedAccessStats } from '../local/thread-access-stats.ts';
import type { LiveRunOptions } from './live-run.ts';
import { readKey } from './load-generator.ts';
import type { RequestSampler } from './request-sampler.ts';

/** A seed write, retried while its outcome is unknown (a slow machine): writing the same value again is harmless. */
async function putWithRetries(
  writer: RoutingClient,
  partition: string,
  key: string,
  json: string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await writer.put(partition, key, json, { isJsonText: true });
      return;
    } catch (error) {
      if (attempt >= 5 || (error as Error).name !== 'WriteOutcomeUnknownError') throw error;
    }
  }
}

/**
 * Partition records at their initial cells with the trace's sizes, and a few real items each; returns the number
 * of items each partition was seeded with.
 */
export async function seedPartitions(
  server: LocalServer,
  options: Pick<LiveRunOptions, 'input' | 'window' | 'itemsPerMedianPartition' | 'progress'>,
): Promise<Map<string, number>> {
  const itemsOf = new Map<string, number>();
  const { partitions } = options.input.input;
  const sizes = partitions.map((p) => p.sizeBytes).sort((a, b) => a - b);
  const medianSize = sizes[Math.floor(sizes.length / 2)] || 1;
  const perMedian = options.itemsPerMedianPartition ?? 12;
  const createdAtMs = options.input.input.trace.startMs;
  for (const p of partitions) {
    await server.cluster.partitions.createIfAbsent({
      ...newPartitionRecord(p.id, p.cell, 4, createdAtMs),
      // The planner weighs the trace's sizes; the items below are a scaled-down stand-in for them.
      sizeBytes: p.sizeBytes,
      sizeMeasuredAtMs: options.window.startMs,
    });
    itemsOf.set(p.id, Math.min(48, Math.max(4, Math.round((perMedian * p.sizeBytes) / medianSize))));
  }
  await server.cluster.replicator?.drain();
  // Seeded without counting: the access counts are the trace's alone.
  const writer = new RoutingClient({
    partitions: server.cluster.partitions,
    cells: server.cluster.cells,
    stores: server.cluster.stores,
    clock: new HybridLogicalClock('seed'),
    lease: LOCAL_LEASE,
    region: server.cluster.homeRegion,
    shardsPerPartition: 4,
    health: new CellHealth(),
  });
  const puts: (() => Promise<unknown>)[] = [];
  for (const p of partitions) {
    for (let k = 0; k < itemsOf.get(p.id)!; k++) {
      const value = JSON.stringify({ partition: p.id, k, pad: 'x'.repeat(900) });
      puts.push(() => putWithRetries(writer, p.id, readKey(k), value));
    }
  }
  for (let i = 0; i < puts.length; i += 8) await Promise.all(puts.slice(i, i + 8).map((put) => put()));
  const items = [...itemsOf.values()].reduce((a, b) => a + b, 0);
  options.progress(
    `seeded ${partitions.length} partitions at their initial cells: ${items} items of ~1 KiB (about ${perMedian} for a partition of the median size; the planner weighs the trace's sizes)`,
  );
  return itemsOf;
}

/**
 * The warm-up's demand, written through each region's access-stats port as the interceptors' recorders would
 * have counted the load generator's requests (the same sampler, so history and live counts are one series).
 */
export async function writeHistory(
  server: LocalServer,
  sampler: RequestSampler,
  intervalMs: number,
  options: Pick<LiveRunOptions, 'window' | 'progress'>,
): Promise<void> {
  const { window } = options;
  const counts = sampler.countsOver(0, window.startBucket, intervalMs);
  const keepFrom = window.startMs - 4 * 86_400_000 - intervalMs;
  let written = 0;
  for (const [region, list] of counts) {
    const recent = list.filter((c) => c.bucketStartMs >= keepFrom);
    // The listeners' recorder writes them this way too (one message per batch to the region's dynalite thread).
    const channel = server.cluster.threadChannelOf(region);
    const stats = channel
      ? new ThreadBatchedAccessStats(server.cluster.accessStatsIn(region), channel, LOCAL_TABLES.accessStats)
      : server.cluster.accessStatsIn(region);
    for (let i = 0; i < recent.length; i += 1000) await stats.add(recent.slice(i, i + 1000), []);
    written += recent.length;
  }
  options.progress(
    `warm-up: ${window.warmupMs / 86_400_000} days of history, the last 4 days written as ${written} access counters (what the recorders would have counted)`,
  );
}
