import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import { mapBounded } from '../support/bounded-parallel.ts';
import type { ProfilerDeps } from './profiler-deps.ts';
import type { ShardResult } from './profiler-events.ts';
import type { ResolvedProfilerOptions } from './profiler-options.ts';

/**
 * The partitions of a shard whose size the profiler should measure now, stalest first, at most `limit`:
 * never measured ones first (oldest record first: it had the longest time to grow), then those measured more
 * than `maxAgeMs` ago, oldest measurement first. Partitions in a migration are left out: their copy is about to
 * measure them, and their data is spread over two cells meanwhile.
 */
export function partitionsDueForSizing(
  records: readonly PartitionRecord[],
  nowMs: number,
  maxAgeMs: number,
  limit: number,
): { due: number; selected: PartitionRecord[] } {
  const due = records.filter(
    (r) =>
      r.fence === undefined &&
      r.status === 'ACTIVE' &&
      (r.sizeMeasuredAtMs === undefined || nowMs - r.sizeMeasuredAtMs > maxAgeMs),
  );
  const staleness = (r: PartitionRecord) => r.sizeMeasuredAtMs ?? Number.NEGATIVE_INFINITY;
  due.sort(
    (a, b) =>
      staleness(a) - staleness(b) ||
      a.createdAtMs - b.createdAtMs ||
      (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0),
  );
  return { due: due.length, selected: due.slice(0, Math.max(0, limit)) };
}

/**
 * Measure the sizes of a bounded number of the shard's partitions that have none or a stale one (stalest
 * first), write each to its partition record, and return the records with them, so this cycle's scores
 * carry them. A probe that fails leaves the partition for a later cycle; the cycle goes on.
 */
export async function refreshSizes(
  deps: Pick<ProfilerDeps, 'sizeProbe' | 'sizeStore' | 'cells' | 'log' | 'now'>,
  o: Pick<
    ResolvedProfilerOptions,
    'sizeMaxAgeMs' | 'sizeProbesPerShard' | 'sizeProbeConcurrency' | 'sizeProbeBudgetMs'
  >,
  records: PartitionRecord[],
  cycleId: string,
): Promise<{ records: PartitionRecord[]; sizes: ShardResult['sizes'] }> {
  const { sizeProbe, sizeStore } = deps;
  const startMs = deps.now();
  const { due, selected } = partitionsDueForSizing(
    records,
    startMs,
    o.sizeMaxAgeMs,
    sizeProbe && sizeStore ? o.sizeProbesPerShard : 0,
  );
  const sizes = { due, measured: 0, failed: 0, readUnits: 0 };
  if (!sizeProbe || !sizeStore || selected.length === 0) return { records, sizes };
  const cells = new Map((await deps.cells.list()).map((c) => [c.id, c]));
  const measured = new Map<string, { sizeBytes: number; measuredAtMs: number }>();
  let firstError: string | undefined;
  await mapBounded(selected, o.sizeProbeConcurrency, async (record) => {
    if (deps.now() - startMs >= o.sizeProbeBudgetMs) return;
    const cell = cells.get(record.cell);
    if (!cell) return;
    // Stamped before reading: a migration that commits while this probe runs has the newer measurement.
    const measuredAtMs = deps.now();
    try {
      const m = await sizeProbe.measure(record, cell);
      sizes.readUnits += m.readUnits;
      await sizeStore.recordSize(record.partition, m.sizeBytes, measuredAtMs);
      measured.set(record.partition, { sizeBytes: m.sizeBytes, measuredAtMs });
    } catch (error) {
      sizes.failed++;
      firstError ??= `${(error as Error).name}: ${(error as Error).message}`;
    }
  });
  sizes.measured = measured.size;
  if (sizes.failed > 0)
    deps.log.warn('partition size probes failed; those partitions are measured in a later cycle', {
      cycleId,
      failed: sizes.failed,
      error: firstError,
    });
  const next = records.map((r) => {
    const m = measured.get(r.partition);
    return m ? { ...r, sizeBytes: m.sizeBytes, sizeMeasuredAtMs: m.measuredAtMs } : r;
  });
  return { records: next, sizes };
}
