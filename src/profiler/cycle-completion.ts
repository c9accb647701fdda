import type { CellSnapshot } from '../domain/profiling/ports.ts';
import { plannedMeanPeak, plannedUpperPeak, type ScoreRecord } from '../domain/scoring/score-record.ts';
import { checkCapacity } from './predictive-scaling.ts';
import { startPredictiveScaling } from './predictive-scaling-starts.ts';
import type { ProfilerDeps } from './profiler-deps.ts';
import type { ShardResult } from './profiler-events.ts';
import type { ResolvedProfilerOptions } from './profiler-options.ts';
import { shortfallMemoryFor } from './shortfall-memory.ts';

/**
 * What completes a cycle: the capacity forecast over every score of the cycle, the predictive scale-outs and
 * scale-ins it calls for (a shortfall is bought once it was due in the previous cycle too: the rule's memory is in
 * the Coordination table, shortfall-memory.ts), and the planner's invocation.
 *
 * Run by the shard that completed the cycle. A redelivered shard that finds the cycle complete but not marked
 * finished (the finishing shard failed midway) runs it again: scale-out names are deterministic and the
 * planner is idempotent on the cycle id.
 */
export async function finishCycle(
  deps: Pick<ProfilerDeps, 'cycles' | 'scores' | 'invoker' | 'scaling' | 'metrics' | 'log' | 'now'>,
  o: ResolvedProfilerOptions,
  cycleId: string,
): Promise<Pick<ShardResult, 'scaleOuts' | 'scaleIns' | 'plannerInvoked'>> {
  const cycle = await deps.cycles.get(cycleId);
  if (!cycle || cycle.finishedAtMs !== undefined)
    return { scaleOuts: [], scaleIns: [], plannerInvoked: false };
  const records = (await deps.scores.listAll()).filter((r) => r.cycleId === cycle.cycleId);
  const memory = await shortfallMemoryFor(deps.cycles, cycle);
  const check = checkCapacity(records, cycle.cells, {
    ...(memory.previous && { previous: memory.previous }),
    nowMs: cycle.seriesEndMs,
    stepSeconds: o.intervalSeconds,
    bufferMs: o.scaleOutBufferMinutes * 60_000,
    provisionMs: o.provisionMs,
    migrationBandwidthBytesPerSec: o.migrationBandwidthBytesPerSec,
    ...(o.scoring?.headroom !== undefined && { headroom: o.scoring.headroom }),
    scaleIn: o.scaleIn,
    scaleOut: o.scaleOut,
    ...(o.cellHourPriceUsd !== undefined && { cellHourPriceUsd: o.cellHourPriceUsd }),
    ...(o.latencyOverrides && { latencyOverrides: o.latencyOverrides }),
  });
  if (check.shortfalls.length > 0)
    deps.log.info('capacity forecast: shortfalls', {
      cycleId: cycle.cycleId,
      shortfalls: check.shortfalls,
      // What the forecast was made of, per region hosting it: to tell a demand the counts show from one the
      // forecasts add (ops/s, summed over the region's partitions).
      hosted: hostedDemand(records, cycle.cells),
    });
  if (check.declinedScaleOuts.length > 0)
    deps.log.info('capacity forecast: scale-outs not worth their cell-hours', {
      cycleId: cycle.cycleId,
      declined: check.declinedScaleOuts.map((d) => ({
        region: d.region,
        benefitUsd: d.benefitUsd,
        localityUsd: d.localityUsd,
        costUsd: d.costUsd,
      })),
    });
  // Remembered before anything starts: a retry after a failed start decides with the same memory.
  await memory.remember(check.shortRegions);
  const { scaleOuts, scaleIns } = await startPredictiveScaling(deps, cycle, check, o.maxCellsPerScaleOut);
  await deps.invoker.invokePlanner({ trigger: 'schedule', cycleId: cycle.cycleId });
  await deps.cycles.markFinished(cycle.cycleId, deps.now());
  return { scaleOuts, scaleIns, plannerInvoked: true };
}

/** Per region hosting them: the partitions' last observation, their mean forecast's peak, their planned upper peak. */
function hostedDemand(records: readonly ScoreRecord[], cells: readonly CellSnapshot[]) {
  const regionOf = new Map(cells.map((c) => [c.id, c.region]));
  const out: Record<string, { observed: number; meanPeak: number; upperPeak: number }> = {};
  for (const r of records) {
    const region = regionOf.get(r.cell);
    if (region === undefined) continue;
    const sums = out[region] ?? { observed: 0, meanPeak: 0, upperPeak: 0 };
    out[region] = sums;
    for (const origin in r.observedOpsPerSec) sums.observed += r.observedOpsPerSec[origin];
    sums.meanPeak += plannedMeanPeak(r);
    sums.upperPeak += plannedUpperPeak(r);
  }
  return out;
}
