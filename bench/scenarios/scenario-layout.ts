/**
 * The deployment side of a generated scenario: cells per region, the initial placement (with the misplaced
 * share), the topology (latencies, scheduled cell changes, alarm scaling) and the related pairs.
 */
import type { PartitionSpec } from '../../src/domain/simulation/demand-trace.ts';
import { type CellSpec, parseTopology, type ScalingEvent, type Topology } from '../../src/domain/topology.ts';
import type { PartitionAudience } from './generate-scenario.ts';
import { latencyMatrix, type ScenarioRegion } from './regions.ts';
import type { ScenarioSpec } from './scenario-spec.ts';
import { normalized, otherRegion, stream } from './seeded-draws.ts';

const DAY_MS = 86_400_000;
const GIB = 1024 ** 3;

/** `total` cells over regions in proportion to `weights`, at least one each (largest remainder). */
export function apportion(weights: readonly number[], total: number): number[] {
  const R = weights.length;
  const spare = total - R;
  const shares = normalized(weights).map((w) => w * spare);
  const counts = shares.map((s) => 1 + Math.floor(s));
  const byRemainder = shares
    .map((s, r) => [s - Math.floor(s), r] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  let left = total - counts.reduce((a, b) => a + b, 0);
  for (const [, r] of byRemainder) {
    if (left-- <= 0) break;
    counts[r]++;
  }
  return counts;
}

export function cellId(region: string, k: number): string {
  return `${region}-${String(k + 1).padStart(2, '0')}`;
}

export function buildCells(
  regions: readonly ScenarioRegion[],
  cellsPerRegion: readonly number[],
  capacityOpsPerSec: number,
  audiences: readonly PartitionAudience[],
): CellSpec[] {
  const totalBytes = audiences.reduce((sum, a) => sum + a.sizeBytes, 0);
  const cellCount = cellsPerRegion.reduce((a, b) => a + b, 0);
  // Bytes never bind: 2.5× the even share, as the bundled traces do.
  const capacityBytes = Math.ceil((2.5 * totalBytes) / cellCount / GIB) * GIB;
  return regions.flatMap((region, r) =>
    Array.from({ length: cellsPerRegion[r] }, (_, k) => ({
      id: cellId(region.name, k),
      region: region.name,
      capacityOpsPerSec,
      capacityBytes,
    })),
  );
}

/**
 * Each partition starts in a cell of its home region, except `misplacedShare` of them (a seeded choice),
 * which start in another region; inside a region, the cell with the least demand placed so far.
 */
export function placePartitions(
  spec: ScenarioSpec,
  ids: readonly string[],
  audiences: readonly PartitionAudience[],
  cells: readonly CellSpec[],
  regions: readonly ScenarioRegion[],
  weights: readonly number[],
): { partitions: PartitionSpec[]; misplaced: number } {
  const random = stream(spec.seed, 'placement');
  const order = ids.map((_, p) => p);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const misplacedCount = Math.round(spec.misplacedShare * ids.length);
  const load = new Map(cells.map((c) => [c.id, 0]));
  const cellOf = new Array<string>(ids.length);
  order.forEach((p, rank) => {
    const a = audiences[p];
    const region = rank < misplacedCount ? otherRegion(random, weights, a.home) : a.home;
    let best: CellSpec | undefined;
    for (const cell of cells) {
      if (cell.region !== regions[region].name) continue;
      if (!best || load.get(cell.id)! < load.get(best.id)!) best = cell;
    }
    load.set(best!.id, load.get(best!.id)! + a.scale);
    cellOf[p] = best!.id;
  });
  return {
    partitions: ids.map((id, p) => ({ id, sizeBytes: audiences[p].sizeBytes, cell: cellOf[p] })),
    misplaced: misplacedCount,
  };
}

export function buildTopology(
  spec: ScenarioSpec,
  regions: readonly ScenarioRegion[],
  cells: readonly CellSpec[],
  cellsPerRegion: readonly number[],
  startMs: number,
): Topology {
  const template = cells[0];
  const at = (day: number) => new Date(startMs + day * DAY_MS).toISOString();
  const added = new Map<string, number>();
  const removed = new Map<string, number>();
  const scalingEvents: ScalingEvent[] = spec.cellChanges.map((change) => {
    const r = regions.findIndex((region) => region.name === change.region);
    if (r < 0) throw new RangeError(`scenario ${spec.name}: cell change in unknown region ${change.region}`);
    if (change.action === 'add') {
      const k = added.get(change.region) ?? 0;
      added.set(change.region, k + 1);
      return {
        at: at(change.day),
        action: 'add',
        cell: { ...template, id: `${change.region}-s${k + 1}`, region: change.region },
      };
    }
    // Remove the region's initial cells from the last one down.
    const k = removed.get(change.region) ?? 0;
    if (k + 1 >= cellsPerRegion[r])
      throw new RangeError(`scenario ${spec.name}: cannot remove the last initial cell of ${change.region}`);
    removed.set(change.region, k + 1);
    return { at: at(change.day), action: 'remove', cellId: cellId(change.region, cellsPerRegion[r] - 1 - k) };
  });
  return parseTopology(
    {
      regions: Object.fromEntries(regions.map((r) => [r.name, { utcOffsetHours: r.utcOffsetHours }])),
      latencyMs: latencyMatrix(regions),
      transferCostPerGB: 0.02,
      migrationBandwidthBytesPerSec: 8 * 1024 * 1024,
      cells,
      scalingEvents,
      alarmScaling: {
        utilizationThreshold: 0.8,
        sustainMinutes: 10,
        provisionMinutes: 15,
        cooldownMinutes: 60,
        maxCellsPerRegion: Math.max(4, 2 * Math.max(...cellsPerRegion)),
        cellCapacityOpsPerSec: template.capacityOpsPerSec,
        cellCapacityBytes: template.capacityBytes,
      },
    },
    `scenario ${spec.name}`,
  );
}

/** Every pair inside a related group, with co-access at 0.3 × the smaller scale (as make-traces does). */
export function relatedPairs(ids: readonly string[], audiences: readonly PartitionAudience[]) {
  const pairs: { a: string; b: string; coAccessPerSec: number }[] = [];
  for (let p = 0; p < audiences.length; p++) {
    for (
      let q = p + 1;
      q < audiences.length && audiences[p].group >= 0 && audiences[q].group === audiences[p].group;
      q++
    ) {
      pairs.push({
        a: ids[p],
        b: ids[q],
        coAccessPerSec: Math.round(30 * Math.min(audiences[p].scale, audiences[q].scale)) / 100,
      });
    }
  }
  return pairs;
}
