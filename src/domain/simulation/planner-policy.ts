import { forecastQuantileLevels, SCORING_QUANTILES } from '../forecasting/planning-quantile.ts';
import type { PlannerInput, PlannerPartition } from '../planning/movement-plan.ts';
import type { ScaleInAssessment } from '../planning/scale-in.ts';
import type { ScaleOutAssessment } from '../planning/scale-out.ts';
import {
  regionsHeldFromScaleIn,
  type ShortfallMemory,
  triggerShortfalls,
} from '../scaling/shortfall-trigger.ts';
import type {
  CellState,
  PartitionForecast,
  RegionForecast,
  ScoringInput,
} from '../scoring/affinity-scorer.ts';
import { persistenceLevel, persistenceSteps } from '../scoring/burst-persistence.ts';
import {
  type Buffers,
  type DemandSource,
  ForecastSource,
  OracleSource,
  ReactiveSource,
} from './demand-sources.ts';
import { MeasuredCorrelation } from './measured-correlation.ts';
import type {
  ClusterView,
  CopyDrop,
  MoveRequest,
  PolicyDecision,
  PolicyDriver,
  ScaleInRequest,
  ScaleOutRequest,
} from './policy-driver.ts';
import { PolicyScaleIn } from './policy-scale-in.ts';
import { PolicyScaleOut } from './policy-scale-out.ts';
import { policyScalesIn } from './replay-context.ts';
import {
  observedDemandOf,
  type PolicyName,
  type SimulationDependencies,
  type SimulationInput,
  type SimulationOptions,
} from './simulation-options.ts';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** Levels the predictive policy forecasts, for the scorer; the planning quantile is added to them. */

/**
 * A policy that calls the planner every planning interval. Only the demand it feeds differs:
 * `reactive` repeats the last interval, `predictive` forecasts with one online forecaster per
 * partition × region (and scores the forecasts), `oracle` reads the true future from the trace.
 */
export class PlannerPolicy implements PolicyDriver {
  plannerMs = 0;
  plannerCalls = 0;
  private readonly buffers: Buffers;
  private readonly source: DemandSource;
  private readonly partitions: Writable<PlannerPartition>[];
  private readonly partitionIndex: Map<string, number>;
  private readonly scoring: ScoringInput | undefined;
  private readonly regionForecasts: Writable<RegionForecast>[];
  private readonly scalesOut: boolean;
  /** What the planner is fed as `forecast`: the mean, or the mean plus a fixed `margin` × (upper quantile − mean). */
  private readonly planned: Float64Array;
  private readonly upper: Float64Array | undefined;
  private readonly margin: number;
  /** `forecastUpper` fed to the planner: the upper quantile, floored by the last observation (see `decide`). */
  private readonly upperPlanned: Float64Array | undefined;
  /** Ops/s of the last observed bucket per partition × region. */
  private readonly lastObserved: Float64Array;
  /** Ops/s of the bucket before it. */
  private readonly previousObserved: Float64Array;
  private observedBuckets = 0;
  /** The upper quantile the last cycle forecast for the bucket observed last (NaN: no forecast yet). */
  private readonly expectedUpper: Float64Array;
  /** The shortfall rule's memory of the previous cycle (shortfall-trigger.ts): its regions with a due shortfall. */
  private shortfallMemory: ShortfallMemory | undefined;
  /** Forecast-driven scale-in (predictive only). */
  private readonly scaleIn: PolicyScaleIn | undefined;
  /** Priced scale-out (predictive only; the oracle buys every due shortfall's cells). */
  private readonly scaleOutPricing: PolicyScaleOut | undefined;
  /** Measured error correlation (predictive with `measureErrorCorrelation`), with its last forecasts. */
  private readonly correlation: MeasuredCorrelation | undefined;
  /** The forecast step, made now, for the bucket the next cycle will have observed last. */
  private readonly nextCycleLastStep: number;

  constructor(
    policy: Extract<PolicyName, 'reactive' | 'predictive' | 'oracle'>,
    private readonly input: SimulationInput,
    private readonly deps: SimulationDependencies,
    private readonly options: SimulationOptions,
    private readonly planEvery: number,
  ) {
    const { trace } = input;
    const P = trace.partitions.length;
    const R = trace.regions.length;
    const H = Math.max(1, Math.ceil(options.horizonMs / trace.bucketMs));
    this.nextCycleLastStep = Math.min(H - 1, planEvery - 1);
    const planning = options.planningQuantile;
    const levels = policy === 'predictive' ? forecastQuantileLevels(planning) : [];
    this.buffers = {
      P,
      R,
      H,
      mean: new Float64Array(P * R * H),
      levels,
      quantiles: levels.map(() => new Float64Array(P * R * H)),
      writeFraction: new Float64Array(P).fill(0.2),
    };
    this.upper =
      policy === 'predictive' && planning !== 'mean'
        ? this.buffers.quantiles[levels.indexOf(planning)]
        : undefined;
    const margin = this.upper ? planningMargin(options) : undefined;
    this.margin = margin ?? 0;
    // With a fixed margin the planner gets one blended forecast; otherwise the mean and the upper quantile
    // (`forecastUpper`), which the planner diversifies per cell.
    this.planned = this.upper && margin !== undefined ? new Float64Array(P * R * H) : this.buffers.mean;
    const plannedOn = this.planned;
    this.upperPlanned = this.upper && margin === undefined ? new Float64Array(P * R * H) : undefined;
    this.lastObserved = new Float64Array(P * R);
    this.previousObserved = new Float64Array(P * R);
    this.expectedUpper = new Float64Array(P * R).fill(Number.NaN);
    const upperOn = this.upperPlanned;
    const series = (buffer: Float64Array, p: number, r: number) =>
      buffer.subarray((p * R + r) * H, (p * R + r + 1) * H);
    this.partitions = input.partitions.map((spec, p) => ({
      id: spec.id,
      sizeBytes: spec.sizeBytes,
      cell: spec.cell,
      forecast: Object.fromEntries(trace.regions.map((region, r) => [region, series(plannedOn, p, r)])),
      ...(upperOn && {
        forecastUpper: Object.fromEntries(trace.regions.map((region, r) => [region, series(upperOn, p, r)])),
      }),
      writeFraction: 0.2,
    }));
    this.partitionIndex = new Map(input.partitions.map((spec, p) => [spec.id, p]));
    this.scalesOut = policy !== 'reactive';
    this.regionForecasts = [];
    if (policy === 'predictive' && deps.scorePartitions) {
      const forecasts: PartitionForecast[] = input.partitions.map((spec, p) => ({
        id: spec.id,
        cell: spec.cell,
        regions: Object.fromEntries(
          trace.regions.map((region, r) => {
            const forecast: Writable<RegionForecast> = {
              mean: series(this.buffers.mean, p, r),
              quantiles: SCORING_QUANTILES.map((level) =>
                series(this.buffers.quantiles[levels.indexOf(level)], p, r),
              ),
              model: '',
            };
            this.regionForecasts.push(forecast);
            return [region, forecast];
          }),
        ),
      }));
      // Scored on the scoring quantiles, as the profiler scores; the planning quantile goes to the planner.
      this.scoring = {
        quantileLevels: SCORING_QUANTILES,
        stepMs: trace.bucketMs,
        partitions: forecasts,
        relationships: input.relationships,
      };
    }
    this.scaleIn =
      policyScalesIn(policy, options) && options.scaleIn
        ? new PolicyScaleIn(
            P,
            R,
            H,
            trace.bucketMs,
            input.partitions.map((p) => p.sizeBytes),
            trace.regions,
            options.scaleIn,
            input.topology.scalingEvents.filter((e) => e.action === 'remove').map((e) => Date.parse(e.at)),
          )
        : undefined;
    const provisionMinutes = input.topology.alarmScaling?.provisionMinutes;
    const removals = input.topology.scalingEvents.flatMap((e) =>
      e.action === 'remove' ? [{ cellId: e.cellId, atMs: Date.parse(e.at) }] : [],
    );
    this.scaleOutPricing =
      policy === 'predictive' && options.scaleOut !== false && options.scaleOut !== undefined
        ? new PolicyScaleOut(
            P,
            R,
            H,
            trace.bucketMs,
            {
              ...(typeof planning === 'number' && { upperLevel: planning }),
              provisionMs: provisionMinutes !== undefined ? provisionMinutes * 60_000 : options.provisionMs,
              ...options.scaleOut,
            },
            removals,
            trace.regions,
          )
        : undefined;
    this.correlation =
      policy === 'predictive' && (options.measureErrorCorrelation || options.measureErrorGroups)
        ? new MeasuredCorrelation(P, R, H, this.nextCycleLastStep, trace.bucketMs, planEvery, {
            correlation: options.measureErrorCorrelation === true,
            groups: options.measureErrorGroups === true,
          })
        : undefined;
    this.source =
      policy === 'oracle'
        ? new OracleSource(input, this.buffers)
        : policy === 'reactive'
          ? new ReactiveSource(input, this.buffers, planEvery)
          : new ForecastSource(input, this.buffers, deps);
  }

  observe(bucket: number): void {
    this.source.observe(bucket);
    const { reads, writes } = observedDemandOf(this.input);
    const base = bucket * this.lastObserved.length;
    this.previousObserved.set(this.lastObserved);
    this.observedBuckets++;
    for (let k = 0; k < this.lastObserved.length; k++)
      this.lastObserved[k] = reads[base + k] + writes[base + k];
  }

  decide(view: ClusterView): PolicyDecision {
    const { buffers } = this;
    this.correlation?.observe(this.lastObserved);
    this.source.fill(view.bucket);
    this.correlation?.remember(buffers.mean, view.placement, view.cellIds.length);
    if (this.upper && this.planned !== buffers.mean) {
      const { mean } = buffers;
      const upper = this.upper;
      const margin = this.margin;
      for (let i = 0; i < mean.length; i++)
        this.planned[i] = mean[i] + margin * Math.max(0, upper[i] - mean[i]);
    }
    if (this.upper && this.upperPlanned) {
      // A burst the forecaster treats as an outlier is still running now: capacity plans on at least the
      // persistence level (the last observation, grown at a burst onset) over the next hour, so a cell in a
      // burst is relieved at once.
      const { H } = buffers;
      const upper = this.upper;
      const out = this.upperPlanned;
      const persist = Math.min(H, persistenceSteps(this.input.trace.bucketMs));
      const growth = this.options.burstGrowth;
      for (let k = 0; k < this.lastObserved.length; k++) {
        const level = persistenceLevel(
          this.lastObserved[k],
          this.observedBuckets > 1 ? this.previousObserved[k] : undefined,
          this.expectedUpper[k],
          growth,
        );
        for (let h = 0; h < H; h++) {
          const i = k * H + h;
          out[i] = h < persist ? Math.max(upper[i], level) : upper[i];
        }
        this.expectedUpper[k] = upper[k * H + this.nextCycleLastStep];
      }
    }
    for (let p = 0; p < buffers.P; p++) {
      const partition = this.partitions[p];
      partition.cell = view.cellIds[view.placement[p]];
      partition.writeFraction = buffers.writeFraction[p];
      const moved = view.lastMovedAtMs[p];
      partition.lastMovedAtMs = Number.isNaN(moved) ? undefined : moved;
      partition.coldCopies = view.coldCopiesOf(p);
    }
    if (this.scoring) this.applyScores(view);
    const input: PlannerInput = {
      nowMs: view.nowMs,
      stepSeconds: this.input.trace.bucketMs / 1000,
      topology: view.topology,
      cellStatus: view.cellStatus,
      cellReadyAtMs: view.cellReadyAtMs,
      partitions: this.partitions,
      relationships: this.input.relationships,
      inFlight: view.inFlight,
      limits: this.options.plannerLimits,
      ...this.correlation?.plannerFields(this.input.partitions.map((spec) => spec.id)),
    };
    const started = performance.now();
    const plan = this.deps.planMoves(input);
    this.plannerMs += performance.now() - started;
    this.plannerCalls++;
    const moves: MoveRequest[] = [];
    for (const move of plan.moves) {
      const p = this.partitionIndex.get(move.partition);
      if (p !== undefined)
        moves.push({ partition: p, from: move.from, to: move.to, retainSource: move.retainSource === true });
    }
    const dropCopies: CopyDrop[] = [];
    for (const drop of plan.coldCopyDrops ?? []) {
      const p = this.partitionIndex.get(drop.partition);
      if (p !== undefined) dropCopies.push({ partition: p, cell: drop.cell });
    }
    const scaleOut: ScaleOutRequest[] = [];
    const trusted = this.source.trusted();
    // The rule the profiler runs in AWS (shortfall-trigger.ts): a shortfall due before the next cycle is bought
    // once it was due in the previous cycle too.
    const trigger = trusted
      ? triggerShortfalls({
          shortfalls: plan.capacityForecast,
          nextCycleMs: view.nowMs + this.planEvery * this.input.trace.bucketMs,
          previous: this.shortfallMemory,
        })
      : undefined;
    if (trigger) this.shortfallMemory = { shortRegions: trigger.shortRegions };
    if (this.scalesOut && trigger) {
      const due = trigger.confirmed;
      if (this.scaleOutPricing && this.upper) {
        const before = this.partitions.map((p) => p.cell);
        scaleOut.push(
          ...this.scaleOutPricing.decide(
            view,
            before,
            plan,
            this.partitionIndex,
            due,
            buffers.mean,
            this.upperPlanned ?? this.planned,
            buffers.writeFraction,
          ),
        );
      } else scaleOut.push(...due.map((s) => ({ region: s.region, cells: s.cellsNeeded })));
    }
    const scaleIn: ScaleInRequest[] = [];
    if (this.scaleIn && trigger) {
      // The same upper forecast capacity plans on; a region short of capacity now does not give up a cell.
      const short = regionsHeldFromScaleIn(
        trigger,
        scaleOut.map((s) => s.region),
      );
      const cells = this.partitions.map((p) => p.cell);
      scaleIn.push(
        ...this.scaleIn.decide(view, cells, this.upperPlanned ?? this.planned, buffers.mean, short),
      );
    }
    return { moves, scaleOut, dropCopies, ...(scaleIn.length > 0 && { scaleIn }) };
  }

  /** The priced scale-out's verdicts in the last cycle (diagnosis); empty when none was due or it is off. */
  scaleOutAssessments(): readonly ScaleOutAssessment[] {
    return this.scaleOutPricing?.lastAssessments ?? [];
  }

  /** The scale-in's verdict per region in the last cycle (diagnosis); empty when the policy does not scale in. */
  scaleInAssessments(): readonly ScaleInAssessment[] {
    return this.scaleIn?.lastAssessments ?? [];
  }

  /** Score the fresh forecasts (the scorer's affinity sets the planner's move priorities). */
  private applyScores(view: ClusterView): void {
    const scoring = this.scoring!;
    for (let k = 0; k < this.regionForecasts.length; k++)
      this.regionForecasts[k].model = this.source.modelOf(k);
    for (let p = 0; p < this.buffers.P; p++) {
      const forecast = scoring.partitions[p] as Writable<PartitionForecast>;
      forecast.cell = this.partitions[p].cell;
      forecast.writeFraction = this.buffers.writeFraction[p];
    }
    const index = new Map(view.cellIds.map((id, c) => [id, c]));
    const cells: CellState[] = view.topology.cells.map((cell) => {
      const load = view.cellLoadOpsPerSec[index.get(cell.id) ?? -1] ?? 0;
      return {
        id: cell.id,
        capacityOpsPerSec: cell.capacityOpsPerSec,
        utilization: load / cell.capacityOpsPerSec,
      };
    });
    const scores = this.deps.scorePartitions!({ ...scoring, cells });
    for (const score of scores) {
      const p = this.partitionIndex.get(score.partition);
      if (p !== undefined) this.partitions[p].affinity = score.affinity;
    }
  }
}

/**
 * Share of the gap between the mean and the planning quantile added to each partition's forecast, or
 * undefined for 'diversified': the planner then gets the quantile as `forecastUpper` and aggregates it per
 * cell itself (quantiles do not add up: independent errors grow with √n, related partitions' linearly).
 */
export function planningMargin(options: SimulationOptions): number | undefined {
  if (typeof options.planningMargin === 'number') return Math.min(1, Math.max(0, options.planningMargin));
  return undefined;
}
