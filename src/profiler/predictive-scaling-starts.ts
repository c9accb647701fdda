import type { ScaleInDecision } from '../domain/planning/scale-in.ts';
import type { ProfilerCycle } from '../domain/profiling/ports.ts';
import { METRIC } from '../support/metrics.ts';
import type { ScaleOutDecision } from './predictive-scaling.ts';
import type { ProfilerDeps } from './profiler-deps.ts';

export interface StartedScaleOut {
  readonly region: string;
  readonly cells: number;
  readonly started: boolean;
}

export interface StartedScaleIn {
  readonly region: string;
  readonly cellId: string;
  readonly started: boolean;
}

/**
 * Starts ScaleCluster for the cycle's predictive decisions (predictive-scaling.ts): a scale-out per region short of
 * capacity, a scale-in (drain, backup, delete) per cell the domain chose to retire. Execution names are
 * deterministic, so a redelivered cycle starts nothing twice; ScaleCluster's lock and cooldown still apply.
 */
export async function startPredictiveScaling(
  deps: Pick<ProfilerDeps, 'scaling' | 'metrics' | 'log'>,
  cycle: ProfilerCycle,
  decisions: {
    readonly scaleOuts: readonly ScaleOutDecision[];
    readonly scaleIns: readonly ScaleInDecision[];
  },
  maxCellsPerScaleOut: number,
): Promise<{ scaleOuts: StartedScaleOut[]; scaleIns: StartedScaleIn[] }> {
  const scaleOuts: StartedScaleOut[] = [];
  for (const decision of decisions.scaleOuts) {
    const region = decision.region;
    const cells = Math.min(decision.cells, maxCellsPerScaleOut);
    if (!deps.scaling) {
      deps.log.warn('predicted shortfall, but no ScaleCluster is configured', { region, cells });
      scaleOuts.push({ region, cells, started: false });
      continue;
    }
    const { started } = await deps.scaling.start(scaleOutExecutionName(cycle.cycleId, region), {
      action: 'scale-out',
      region,
      cells,
      reason: 'predicted-shortfall',
      source: 'profiler',
    });
    if (started) deps.metrics.add(METRIC.predictiveScaleOuts, 'Count', 1);
    deps.log.info('predictive scale-out', {
      cycleId: cycle.cycleId,
      region,
      cells,
      started,
      // The priced verdict and the shortfall it answers, so a scale-out can be compared with the backtest's.
      ...(decision.benefitUsd !== undefined && {
        benefitUsd: decision.benefitUsd,
        costUsd: decision.costUsd,
      }),
      scaleOutByMs: decision.shortfall.scaleOutByMs,
      atMs: decision.shortfall.atMs,
    });
    scaleOuts.push({ region, cells, started });
  }
  const scaleIns: StartedScaleIn[] = [];
  for (const decision of decisions.scaleIns) {
    const { region, cellId } = decision;
    if (!deps.scaling) {
      deps.log.warn('predicted spare capacity, but no ScaleCluster is configured', { region, cellId });
      scaleIns.push({ region, cellId, started: false });
      continue;
    }
    const { started } = await deps.scaling.start(scaleInExecutionName(cycle.cycleId, cellId), {
      action: 'scale-in',
      cellId,
      reason: 'predicted-spare-capacity',
      source: 'profiler',
    });
    if (started) deps.metrics.add(METRIC.predictiveScaleIns, 'Count', 1);
    deps.log.info('predictive scale-in', { cycleId: cycle.cycleId, ...decision, started });
    scaleIns.push({ region, cellId, started });
  }
  return { scaleOuts, scaleIns };
}

/** Deterministic per cycle and region (Step Functions names: 1–80 of [A-Za-z0-9-_]). */
export function scaleOutExecutionName(cycleId: string, region: string): string {
  return `predictive-${region}-${cycleId}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
}

/** Deterministic per cycle and cell. */
export function scaleInExecutionName(cycleId: string, cellId: string): string {
  return `predictive-in-${cellId}-${cycleId}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
}
