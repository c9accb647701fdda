import { InputValidationError } from '../errors.ts';
import type { CellStatus } from '../planning/movement-plan.ts';
import type { CellSpec, Topology } from '../topology.ts';
import type { MetricsAccumulator } from './metrics-accumulator.ts';
import type { ScaleInRequest, ScaleOutRequest } from './policy-driver.ts';
import { MINUTE_MS, type ReplayClock, type ReplayContext } from './replay-context.ts';
import type { CellEvent } from './simulation-options.ts';

/** Why a cell exists: in the topology from the start, a scheduled addition, an alarm, or a forecast shortfall. */
export type CellOrigin = 'initial' | 'scheduled' | 'alarm' | 'forecast';

/** A cell during the replay: its status and what it carries now. */
export interface SimCell {
  readonly index: number;
  readonly spec: CellSpec;
  readonly region: number;
  readonly origin: CellOrigin;
  status: CellStatus;
  readyAtMs: number;
  drainingSinceMs: number;
  /** Demand (ops/s) of the partitions it serves, this bucket. */
  requestLoad: number;
  /** Copy and catch-up load (ops/s) of the moves touching it. */
  migrationLoad: number;
  storedBytes: number;
  /** Partitions (or replicas) whose data it holds and serves. */
  residents: number;
  activeOut: number;
  activeIn: number;
  /** Moves (active or waiting) touching it. */
  pendingMoves: number;
}

interface TimedEvent {
  readonly atMs: number;
  readonly apply: (nowMs: number) => void;
}

/**
 * The cells of a replay and how they come and go: scheduled additions and removals from the topology,
 * alarm-driven and forecast-driven scale-outs (with the cooldown and the per-region cap), PROVISIONING →
 * ACTIVE after the provisioning time, DRAINING → RETIRED once empty. Logs every change as a CellEvent.
 * Draining by force is the move engine's job: `forceDrain` is called for the policies without a planner.
 */
export class CellLifecycle {
  /** Every cell ever added, by index (retired ones stay). */
  readonly cells: SimCell[] = [];
  readonly cellEvents: CellEvent[] = [];
  private readonly byId = new Map<string, SimCell>();
  /** Pending timed events (additions, removals, activations), by time, in insertion order on ties. */
  private readonly scheduled: TimedEvent[] = [];
  private readonly alarmSustainMs: Float64Array;
  private readonly lastScaleMs: Float64Array;
  /** Last scale-out (alarm or forecast) and last forecast scale-in per region. */
  private readonly lastScaleOutMs: Float64Array;
  private readonly lastScaleInMs: Float64Array;
  private autoCellCounter = 0;
  /** Bumped on every change to the set or status of cells; the planner's view of them is cached by it. */
  private topologyVersion = 0;
  private viewTopology: Topology | undefined;
  private viewTopologyVersion = -1;
  private cellStatusRecord: Record<string, CellStatus> = {};

  constructor(
    private readonly context: ReplayContext,
    private readonly clock: ReplayClock,
    private readonly metrics: MetricsAccumulator,
    private readonly forceDrain: (cell: SimCell, nowMs: number) => void,
  ) {
    this.alarmSustainMs = new Float64Array(context.R);
    this.lastScaleMs = new Float64Array(context.R).fill(Number.NEGATIVE_INFINITY);
    this.lastScaleOutMs = new Float64Array(context.R).fill(Number.NEGATIVE_INFINITY);
    this.lastScaleInMs = new Float64Array(context.R).fill(Number.NEGATIVE_INFINITY);
    for (const spec of context.topology.cells)
      this.addCell(spec, 'initial', 'ACTIVE', context.input.trace.startMs);
  }

  cellById(id: string): SimCell | undefined {
    return this.byId.get(id);
  }

  /** Queue the topology's scaling events. */
  scheduleTopologyEvents(): void {
    const provisionMs = this.provisionMs();
    const startMs = this.context.input.trace.startMs;
    for (const event of this.context.topology.scalingEvents) {
      const atMs = Math.max(startMs, Date.parse(event.at));
      if (event.action === 'add') {
        const spec = event.cell;
        this.schedule(atMs, (now) => {
          const cell = this.addCell(spec, 'scheduled', 'PROVISIONING', now + provisionMs);
          this.schedule(now + provisionMs, () => this.activate(cell));
        });
      } else {
        const cellId = event.cellId;
        this.schedule(atMs, (now) => {
          const cell = this.byId.get(cellId);
          if (cell && cell.status !== 'RETIRED') this.startDraining(cell, now);
        });
      }
    }
  }

  /** Run the events due by `nowMs`, in order. */
  processEvents(nowMs: number): void {
    while (this.scheduled.length > 0 && this.scheduled[0].atMs <= nowMs) {
      const event = this.scheduled.shift()!;
      event.apply(nowMs);
    }
  }

  /** A DRAINING cell with no data and no pending move is RETIRED. */
  retireIfEmpty(cell: SimCell): void {
    if (cell.status === 'DRAINING' && cell.residents === 0 && cell.pendingMoves === 0) {
      cell.status = 'RETIRED';
      cell.requestLoad = 0;
      cell.migrationLoad = 0;
      this.metrics.countCellRetired();
      this.logCell(cell, 'retired', this.clock.nowForEvents());
      this.topologyVersion++;
    }
  }

  /** The ACTIVE (or PROVISIONING) cell of a region with the most free bytes, other than `exclude`. */
  emptiestCellIn(region: number, exclude: number): SimCell | undefined {
    let best: SimCell | undefined;
    let bestFree = Number.NEGATIVE_INFINITY;
    for (const cell of this.cells) {
      if (cell.region !== region || cell.index === exclude) continue;
      if (cell.status !== 'ACTIVE' && cell.status !== 'PROVISIONING') continue;
      const free = (cell.spec.capacityBytes - cell.storedBytes) / cell.spec.capacityBytes;
      if (free > bestFree) {
        best = cell;
        bestFree = free;
      }
    }
    return best;
  }

  /** Cells holding or able to take data (not RETIRED). */
  liveCellCount(): number {
    let live = 0;
    for (const cell of this.cells) if (cell.status !== 'RETIRED') live++;
    return live;
  }

  /** The topology with the cells that exist now, and their statuses (cached until a cell changes). */
  liveTopology(): { readonly topology: Topology; readonly cellStatus: Readonly<Record<string, CellStatus>> } {
    if (this.viewTopologyVersion !== this.topologyVersion) {
      const live = this.cells.filter((c) => c.status !== 'RETIRED');
      this.viewTopology = { ...this.context.topology, cells: live.map((c) => c.spec), scalingEvents: [] };
      this.cellStatusRecord = Object.fromEntries(live.map((c) => [c.spec.id, c.status]));
      this.viewTopologyVersion = this.topologyVersion;
    }
    return { topology: this.viewTopology!, cellStatus: this.cellStatusRecord };
  }

  /** Scale a region out when its load stays above the alarm threshold (topology `alarmScaling`). */
  checkAlarms(nowMs: number, dtMs: number): void {
    const alarm = this.context.topology.alarmScaling;
    if (!alarm) return;
    for (let r = 0; r < this.context.R; r++) {
      let load = 0;
      let capacity = 0;
      let count = 0;
      for (const cell of this.cells) {
        if (cell.region !== r || cell.status === 'RETIRED') continue;
        count++;
        if (cell.status === 'PROVISIONING') continue;
        load += cell.requestLoad + cell.migrationLoad;
        capacity += cell.spec.capacityOpsPerSec;
      }
      if (capacity > 0 && load > alarm.utilizationThreshold * capacity) this.alarmSustainMs[r] += dtMs;
      else this.alarmSustainMs[r] = 0;
      if (
        this.alarmSustainMs[r] >= alarm.sustainMinutes * MINUTE_MS &&
        nowMs - this.lastScaleMs[r] >= alarm.cooldownMinutes * MINUTE_MS &&
        count < alarm.maxCellsPerRegion
      ) {
        this.scaleOut(r, 'alarm', nowMs);
        this.alarmSustainMs[r] = 0;
      }
    }
  }

  /** A policy's scale-outs ahead of forecast shortfalls, under the alarms' cooldown and cap. */
  scaleOutAhead(requests: readonly ScaleOutRequest[], nowMs: number): void {
    const alarm = this.context.topology.alarmScaling;
    const maxCells = alarm?.maxCellsPerRegion ?? 8;
    const cooldownMs = (alarm?.cooldownMinutes ?? 0) * MINUTE_MS;
    for (const request of requests) {
      const r = this.context.regionIndex.get(request.region);
      // The alarms' cooldown holds for every scale-out of a region, so one shortfall buys cells once.
      if (r === undefined || nowMs - this.lastScaleMs[r] < cooldownMs) continue;
      let count = 0;
      let provisioning = 0;
      for (const cell of this.cells) {
        if (cell.region !== r || cell.status === 'RETIRED') continue;
        count++;
        if (cell.status === 'PROVISIONING') provisioning++;
      }
      // Cells already on their way cover the same shortfall.
      const wanted = Math.min(request.cells - provisioning, maxCells - count);
      for (let i = 0; i < wanted; i++) this.scaleOut(r, 'forecast', nowMs);
    }
  }

  /**
   * A policy's forecast scale-ins: each named cell, still ACTIVE and not its region's last ACTIVE cell, turns
   * DRAINING (the planner empties it; it is RETIRED once empty), under the same cooldown as the scale-outs.
   */
  scaleInAhead(requests: readonly ScaleInRequest[], nowMs: number): void {
    const cooldownMs = (this.context.topology.alarmScaling?.cooldownMinutes ?? 0) * MINUTE_MS;
    for (const request of requests) {
      const cell = this.byId.get(request.cell);
      if (cell?.status !== 'ACTIVE' || nowMs - this.lastScaleMs[cell.region] < cooldownMs) continue;
      let active = 0;
      for (const other of this.cells) if (other.region === cell.region && other.status === 'ACTIVE') active++;
      if (active < 2) continue;
      this.lastScaleMs[cell.region] = nowMs;
      this.lastScaleInMs[cell.region] = nowMs;
      this.metrics.countScaleIn(nowMs >= this.context.evalStartMs);
      this.startDraining(cell, nowMs);
    }
  }

  /** When each region last scaled out, for the policies' anti-flapping rule. */
  lastScaleOuts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let r = 0; r < this.context.R; r++)
      if (Number.isFinite(this.lastScaleOutMs[r])) out[this.context.regionNames[r]] = this.lastScaleOutMs[r];
    return out;
  }

  private addCell(spec: CellSpec, origin: CellOrigin, status: CellStatus, readyAtMs: number): SimCell {
    const region = this.context.regionIndex.get(spec.region);
    if (region === undefined) {
      throw new InputValidationError({ field: `cells.${spec.id}.region` }, `unknown region '${spec.region}'`);
    }
    const cell: SimCell = {
      index: this.cells.length,
      spec,
      region,
      origin,
      status,
      readyAtMs,
      drainingSinceMs: Number.NaN,
      requestLoad: 0,
      migrationLoad: 0,
      storedBytes: 0,
      residents: 0,
      activeOut: 0,
      activeIn: 0,
      pendingMoves: 0,
    };
    this.cells.push(cell);
    this.byId.set(spec.id, cell);
    this.topologyVersion++;
    if (origin !== 'initial') {
      this.logCell(
        cell,
        origin === 'alarm'
          ? 'added-by-alarm'
          : origin === 'forecast'
            ? 'added-by-forecast'
            : 'added-as-scheduled',
        readyAtMs - (status === 'PROVISIONING' ? this.provisionMs() : 0),
      );
    }
    return cell;
  }

  private scaleOut(region: number, origin: 'alarm' | 'forecast', nowMs: number): void {
    const alarm = this.context.topology.alarmScaling;
    const template = this.cells.find((c) => c.region === region)?.spec;
    const name = this.context.regionNames[region];
    let id: string;
    do id = `${name}-${origin === 'alarm' ? 'a' : 'f'}${++this.autoCellCounter}`;
    while (this.byId.has(id));
    const spec: CellSpec = {
      id,
      region: name,
      capacityOpsPerSec: alarm?.cellCapacityOpsPerSec ?? template?.capacityOpsPerSec ?? 1,
      capacityBytes: alarm?.cellCapacityBytes ?? template?.capacityBytes ?? 1,
    };
    const provisionMs = this.provisionMs();
    const cell = this.addCell(spec, origin, 'PROVISIONING', nowMs + provisionMs);
    this.schedule(nowMs + provisionMs, () => this.activate(cell));
    this.lastScaleMs[region] = nowMs;
    this.lastScaleOutMs[region] = nowMs;
    const evaluating = nowMs >= this.context.evalStartMs;
    this.metrics.countCellAdded(origin, evaluating);
    if (nowMs - this.lastScaleInMs[region] < (this.context.options.flapWindowMs ?? 0))
      this.metrics.countScaleFlap(evaluating);
  }

  private activate(cell: SimCell): void {
    if (cell.status === 'PROVISIONING') {
      cell.status = 'ACTIVE';
      this.topologyVersion++;
    }
  }

  private startDraining(cell: SimCell, nowMs: number): void {
    cell.status = 'DRAINING';
    cell.drainingSinceMs = nowMs;
    this.logCell(cell, 'draining', nowMs);
    this.topologyVersion++;
    // Policies without a planner are drained by force at once, so every policy pays for the removal.
    const policy = this.context.policy;
    if (policy === 'static' || policy === 'replicate-all') this.forceDrain(cell, nowMs);
    this.retireIfEmpty(cell);
  }

  private provisionMs(): number {
    const alarm = this.context.topology.alarmScaling;
    return alarm ? alarm.provisionMinutes * MINUTE_MS : this.context.options.provisionMs;
  }

  private schedule(atMs: number, apply: (nowMs: number) => void): void {
    let i = this.scheduled.length;
    while (i > 0 && this.scheduled[i - 1].atMs > atMs) i--;
    this.scheduled.splice(i, 0, { atMs, apply });
  }

  private logCell(cell: SimCell, kind: CellEvent['kind'], atMs: number): void {
    this.cellEvents.push({ atMs, cell: cell.spec.id, region: cell.spec.region, kind });
  }
}
