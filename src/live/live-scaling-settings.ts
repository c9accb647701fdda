import type { AlarmScalingConfig, Topology } from '../domain/topology.ts';

/**
 * How `prestage up` scales, and the backtest it is compared with scales alike (live-backtest.ts): the topology's
 * alarm-scaling settings (provisioning time, cooldown, cap per region, new cell's capacity), the ones the
 * simulator's predictive policy applies to its forecast scale-outs and scale-ins.
 */
export interface LiveScalingSettings {
  /** ScaleCluster's cooldown after a region scaled (out or in), trace minutes. */
  readonly cooldownMinutes: number;
  /** Cells a region may have (not RETIRED); a scale-out asks for at most the rest (the simulator's cap). */
  readonly maxCellsPerRegion: number;
  /** The profiler's provisioning time in its capacity forecast, and the simulator's, trace minutes. */
  readonly provisionMinutes: number;
  /** Capacity of a cell a scale-out adds. */
  readonly newCellCapacityOpsPerSec: number;
  readonly newCellCapacityBytes: number;
}

/** The simulator's values when a topology has no `alarmScaling` (cell-lifecycle.ts: no cooldown, 8 cells, 5 min). */
const WITHOUT_ALARM_SCALING = { cooldownMinutes: 0, maxCellsPerRegion: 8, provisionMinutes: 5 } as const;

export function liveScalingSettings(topology: Topology): LiveScalingSettings {
  const alarm = topology.alarmScaling;
  const template = topology.cells[0];
  return {
    cooldownMinutes: alarm?.cooldownMinutes ?? WITHOUT_ALARM_SCALING.cooldownMinutes,
    maxCellsPerRegion: alarm?.maxCellsPerRegion ?? WITHOUT_ALARM_SCALING.maxCellsPerRegion,
    provisionMinutes: alarm?.provisionMinutes ?? WITHOUT_ALARM_SCALING.provisionMinutes,
    newCellCapacityOpsPerSec: alarm?.cellCapacityOpsPerSec ?? template.capacityOpsPerSec,
    newCellCapacityBytes: alarm?.cellCapacityBytes ?? template.capacityBytes,
  };
}

/**
 * The same settings as the simulator's `alarmScaling`, with the alarm itself never firing: `up` measures no cell
 * pressure (no CloudWatch on this machine, NO_CELL_METRICS), so no capacity alarm starts ScaleCluster live; the
 * settings still bound the forecast scale-outs (cap, cooldown, provisioning, capacity) as they bound the live ones.
 */
export function forecastOnlyAlarmScaling(settings: LiveScalingSettings): AlarmScalingConfig {
  return {
    utilizationThreshold: 1,
    sustainMinutes: Number.POSITIVE_INFINITY,
    provisionMinutes: settings.provisionMinutes,
    cooldownMinutes: settings.cooldownMinutes,
    maxCellsPerRegion: settings.maxCellsPerRegion,
    cellCapacityOpsPerSec: settings.newCellCapacityOpsPerSec,
    cellCapacityBytes: settings.newCellCapacityBytes,
  };
}
