import { InputValidationError } from '../errors.ts';
import { latencyBetween } from '../topology.ts';
import { type CompiledColdCopies, compileColdCopies, markBusyColdCopies, moveBytes } from './cold-copies.ts';
import type { CellStatus, PlannerInput, PlannerLimits } from './movement-plan.ts';
import {
  type PlannerOptions,
  type ResolvedPlannerOptions,
  resolveLimits,
  resolvePlannerOptions,
} from './planner-options.ts';

/**
 * The planner input compiled once into struct-of-arrays form (typed arrays indexed by partition, cell,
 * region and step), validated on the way. The heuristic, the exact ILP and the cost evaluator all read it,
 * so they see the same numbers.
 */

export const CELL_ACTIVE = 0;
export const CELL_PROVISIONING = 1;
export const CELL_DRAINING = 2;
export const CELL_RETIRED = 3;
const CELL_STATE_CODE: Record<CellStatus, number> = {
  ACTIVE: CELL_ACTIVE,
  PROVISIONING: CELL_PROVISIONING,
  DRAINING: CELL_DRAINING,
  RETIRED: CELL_RETIRED,
};

/** Why a partition may not move in this plan. */
export const LOCK_NONE = 0;
export const LOCK_IN_FLIGHT = 1;
export const LOCK_COOLDOWN = 2;

export interface PlacementModel extends CompiledColdCopies {
  readonly input: PlannerInput;
  readonly options: ResolvedPlannerOptions;
  readonly limits: PlannerLimits;
  readonly nowMs: number;
  readonly stepMs: number;
  /** Forecast steps (the horizon). */
  readonly steps: number;
  readonly regionIds: readonly string[];
  readonly regionCount: number;
  /** Region × region latency in ms. */
  readonly latency: Float64Array;
  readonly cellIds: readonly string[];
  readonly cellIndex: ReadonlyMap<string, number>;
  readonly cellCount: number;
  readonly cellRegion: Int32Array;
  readonly cellCapOps: Float64Array;
  readonly cellCapBytes: Float64Array;
  readonly cellState: Uint8Array;
  /** 1 when the cell may receive partitions (ACTIVE or PROVISIONING). */
  readonly targetable: Uint8Array;
  /** Time until the cell can take data (ms from nowMs; 0 = ready). */
  readonly readyDelayMs: Float64Array;
  readonly partitionIds: readonly string[];
  readonly partitionIndex: ReadonlyMap<string, number>;
  readonly partitionCount: number;
  readonly bytes: Float64Array;
  /** Cell at the start of the plan: the current primary, or the target of an in-flight move. */
  readonly origin: Int32Array;
  readonly lock: Uint8Array;
  /** Profiler affinity in [0, 1]; NaN when not given. */
  readonly affinity: Float64Array;
  /**
   * Mean ops/s per partition, region and step, sparse: partition p's regions are entries
   * `demandStart[p]..demandStart[p+1]`; entry k is region `demandRegion[k]` with steps at `demandSeries[k * steps + t]`.
   */
  readonly demandStart: Int32Array;
  readonly demandRegion: Int32Array;
  readonly demandSeries: Float64Array;
  /**
   * Ops/s per partition × step that capacity plans on (hard limits, load penalty, capacity forecast): the
   * total mean, plus the partition's diversified share of the upper forecast when `forecastUpper` is given.
   */
  readonly demandTotal: Float64Array;
  /**
   * Ops/s per partition × step that the capacity forecast adds up per region: the total mean plus the whole gap
   * to the upper forecast, every partition at its upper quantile at once (`demandTotal` where no upper is given).
   * A region's shortfall is flagged on that sum whatever `upperCorrelation` packs cells on; the priced scale-out
   * then judges it on a diversified spread (scale-out.ts). The same array as `demandTotal` without upper forecasts.
   */
  readonly capacityDemand: Float64Array;
  /** Dollars per (ops/s × latency-ms) over one step, write-weighted, per partition. */
  readonly latencyWeight: Float64Array;
  /** Mean forecast write ops/s per partition over the horizon (a cold copy's delta grows at this rate). */
  readonly writeOpsPerSec: Float64Array;
  /** Locality cost of hosting the partition in each region for the whole horizon: `[p * regionCount + g]`. */
  readonly locFull: Float64Array;
  /** Relationships as a symmetric adjacency list (CSR): partners of p at `relStart[p]..relStart[p+1]`. */
  readonly relStart: Int32Array;
  readonly relPartner: Int32Array;
  /** Dollars per penalty-ms over the horizon for that pair (co-access requests × latency value). */
  readonly relWeight: Float64Array;
  /** The same relationships once each (a < b), merged. */
  readonly pairA: Int32Array;
  readonly pairB: Int32Array;
  readonly pairWeight: Float64Array;
  readonly inFlightCount: Int32Array;
  readonly inFlightBytes: number;
  /** Dollars to move the partition (bytes × price per GB + per-move overhead). */
  readonly transferCost: Float64Array;
  /** Dollars the partition costs while it stays on a DRAINING/RETIRED cell. */
  readonly drainValue: Float64Array;
  /** Minimum net benefit of a move of this partition (hysteresis). */
  readonly threshold: Float64Array;
  /** Load per cell × step with no planned move. */
  readonly initialLoad: Float64Array;
  readonly initialBytes: Float64Array;
  /** Hard limits: headroom × capacity, or the current value where a cell is already above it (a plan may not make it worse). */
  readonly loadLimit: Float64Array;
  readonly bytesLimit: Float64Array;
  /** Soft load penalty: knee utilizations and dollars per (ops/s above the knee) per step. */
  readonly kneeUtilization: Float64Array;
  readonly kneeSlope: Float64Array;
  /** Knee loads per cell, `kneeLoad[c * knees + j]` = utilization j × capacity of c. */
  readonly kneeLoad: Float64Array;
  /**
   * Per cell, the first step whose forecast load (no plan) is above `hotMoveUtilization` × capacity
   * (`steps` when none): a non-urgent move running into that step from or to the cell is deferred.
   */
  readonly firstHotStep: Int32Array;
  /** Per cell, 1 when its forecast load (no plan) exceeds headroom × capacity at some step: moves out are urgent. */
  readonly overloaded: Uint8Array;
}

/** Bytes in a GB for `transferCostPerGB` (AWS bills data transfer per GiB). */
export const BYTES_PER_GB = 2 ** 30;

/** Validate a PlannerInput and compile it. Errors name the field, e.g. `partitions[3].forecast.eu-west-1[5]`. */
export function compilePlacementModel(input: PlannerInput, plannerOptions?: PlannerOptions): PlacementModel {
  const topology = input.topology;
  const options = resolvePlannerOptions(plannerOptions, topology.alarmScaling?.provisionMinutes);
  const limits = resolveLimits(input.limits);
  if (!Number.isFinite(input.nowMs)) {
    throw new InputValidationError({ field: 'nowMs' }, `expected a finite timestamp, found ${input.nowMs}`);
  }
  if (!(Number.isFinite(input.stepSeconds) && input.stepSeconds > 0)) {
    throw new InputValidationError(
      { field: 'stepSeconds' },
      `expected a number > 0, found ${input.stepSeconds}`,
    );
  }
  const stepSeconds = input.stepSeconds;
  const stepMs = stepSeconds * 1000;
  if (!(topology.migrationBandwidthBytesPerSec > 0)) {
    throw new InputValidationError(
      { field: 'topology.migrationBandwidthBytesPerSec' },
      `expected a number > 0, found ${topology.migrationBandwidthBytesPerSec}`,
    );
  }
  if (!(topology.transferCostPerGB >= 0)) {
    throw new InputValidationError(
      { field: 'topology.transferCostPerGB' },
      `expected a number >= 0, found ${topology.transferCostPerGB}`,
    );
  }

  // Regions and latency.
  const regionIds = Object.keys(topology.regions);
  const regionIndex = new Map(regionIds.map((r, i) => [r, i]));
  const R = regionIds.length;
  const latency = new Float64Array(R * R);
  for (let a = 0; a < R; a++) {
    for (let b = 0; b < R; b++) {
      const ms = latencyBetween(topology, regionIds[a], regionIds[b]);
      if (!(Number.isFinite(ms) && ms >= 0)) {
        throw new InputValidationError(
          { field: `topology.latencyMs.${regionIds[a]}.${regionIds[b]}` },
          `missing or invalid latency between '${regionIds[a]}' and '${regionIds[b]}'`,
        );
      }
      latency[a * R + b] = ms;
    }
  }

  // Cells.
  const cells = topology.cells;
  const C = cells.length;
  const cellIds = cells.map((c) => c.id);
  const cellIndex = new Map<string, number>();
  const cellRegion = new Int32Array(C);
  const cellCapOps = new Float64Array(C);
  const cellCapBytes = new Float64Array(C);
  cells.forEach((cell, i) => {
    if (cellIndex.has(cell.id)) {
      throw new InputValidationError({ field: `topology.cells[${i}].id` }, `duplicate cell id '${cell.id}'`);
    }
    cellIndex.set(cell.id, i);
    const region = regionIndex.get(cell.region);
    if (region === undefined) {
      throw new InputValidationError(
        { field: `topology.cells[${i}].region` },
        `unknown region '${cell.region}'; expected one of ${regionIds.join(', ')}`,
      );
    }
    if (!(cell.capacityOpsPerSec > 0) || !(cell.capacityBytes > 0)) {
      throw new InputValidationError(
        { field: `topology.cells[${i}]` },
        'expected capacityOpsPerSec and capacityBytes > 0',
      );
    }
    cellRegion[i] = region;
    cellCapOps[i] = cell.capacityOpsPerSec;
    cellCapBytes[i] = cell.capacityBytes;
  });
  const cellState = new Uint8Array(C);
  for (const [id, status] of Object.entries(input.cellStatus ?? {})) {
    const c = cellIndex.get(id);
    if (c === undefined) {
      throw new InputValidationError(
        { field: `cellStatus.${id}` },
        `unknown cell '${id}'; expected one of ${cellIds.join(', ')}`,
      );
    }
    const code = CELL_STATE_CODE[status];
    if (code === undefined) {
      throw new InputValidationError(
        { field: `cellStatus.${id}` },
        `expected ACTIVE, PROVISIONING, DRAINING or RETIRED, found '${String(status)}'`,
      );
    }
    cellState[c] = code;
  }
  const targetable = new Uint8Array(C);
  for (let c = 0; c < C; c++) targetable[c] = cellState[c] <= CELL_PROVISIONING ? 1 : 0;
  const readyDelayMs = new Float64Array(C);
  for (const [id, readyAtMs] of Object.entries(input.cellReadyAtMs ?? {})) {
    const c = cellIndex.get(id);
    if (c === undefined || !Number.isFinite(readyAtMs)) {
      throw new InputValidationError(
        { field: `cellReadyAtMs.${id}` },
        c === undefined
          ? `unknown cell '${id}'; expected one of ${cellIds.join(', ')}`
          : `expected a finite timestamp, found ${readyAtMs}`,
      );
    }
    readyDelayMs[c] = Math.max(0, readyAtMs - input.nowMs);
  }

  // Partitions.
  const partitions = input.partitions;
  const P = partitions.length;
  const partitionIds: string[] = new Array(P);
  const partitionIndex = new Map<string, number>();
  const steps = horizonOf(input);
  const T = steps;
  const bytes = new Float64Array(P);
  const origin = new Int32Array(P);
  const lock = new Uint8Array(P);
  const affinity = new Float64Array(P);
  const demandStart = new Int32Array(P + 1);
  for (let p = 0; p < P; p++) {
    let n = 0;
    for (const _ in partitions[p].forecast) n++;
    demandStart[p + 1] = demandStart[p] + n;
  }
  const demandRegion = new Int32Array(demandStart[P]);
  const demandSeries = new Float64Array(demandStart[P] * T);
  const demandTotal = new Float64Array(P * T);
  /** Σ over regions of `forecastUpper` per partition × step; NaN row = no upper forecast given. */
  let upperTotal: Float64Array | undefined;
  const latencyWeight = new Float64Array(P);
  const writeOpsPerSec = new Float64Array(P);
  const dollarsPerMs = options.dollarsPerLatencyMsPerMillionRequests / 1e6;
  const cooldownMs = limits.cooldownMs;
  for (let p = 0; p < P; p++) {
    const part = partitions[p];
    const field = () => `partitions[${p}]`;
    if (typeof part.id !== 'string' || part.id === '') {
      throw new InputValidationError({ field: `${field()}.id` }, 'expected a non-empty string');
    }
    if (partitionIndex.has(part.id)) {
      throw new InputValidationError({ field: `${field()}.id` }, `duplicate partition id '${part.id}'`);
    }
    partitionIndex.set(part.id, p);
    partitionIds[p] = part.id;
    const size = part.sizeBytes;
    if (!(size >= 0 && size < Number.POSITIVE_INFINITY)) {
      throw new InputValidationError(
        { field: `${field()}.sizeBytes` },
        `expected a number >= 0, found ${size}`,
      );
    }
    bytes[p] = size;
    const cell = cellIndex.get(part.cell);
    if (cell === undefined) {
      throw new InputValidationError(
        { field: `${field()}.cell` },
        `unknown cell '${part.cell}'; expected one of ${cellIds.join(', ')}`,
      );
    }
    origin[p] = cell;
    const wf = part.writeFraction ?? options.defaultWriteFraction;
    if (!(wf >= 0 && wf <= 1)) {
      throw new InputValidationError({ field: `${field()}.writeFraction` }, `expected [0, 1], found ${wf}`);
    }
    latencyWeight[p] = stepSeconds * dollarsPerMs * (1 - wf + wf * options.writeLatencyWeight);
    const aff = part.affinity;
    if (aff !== undefined && !(aff >= 0 && aff <= 1)) {
      throw new InputValidationError({ field: `${field()}.affinity` }, `expected [0, 1], found ${aff}`);
    }
    affinity[p] = aff ?? Number.NaN;
    const lastMoved = part.lastMovedAtMs;
    if (lastMoved !== undefined) {
      if (!Number.isFinite(lastMoved)) {
        throw new InputValidationError({ field: `${field()}.lastMovedAtMs` }, 'expected a finite timestamp');
      }
      if (lastMoved + cooldownMs > input.nowMs) lock[p] = LOCK_COOLDOWN;
    }
    const forecast = part.forecast;
    let k = demandStart[p];
    const totalBase = p * T;
    for (const region in forecast) {
      const r = regionIndex.get(region);
      if (r === undefined) {
        throw new InputValidationError(
          { field: `${field()}.forecast.${region}` },
          `unknown region '${region}'; expected one of ${regionIds.join(', ')}`,
        );
      }
      const series = forecast[region];
      if (series.length !== T) {
        throw new InputValidationError(
          { field: `${field()}.forecast.${region}` },
          `expected ${T} steps like the other forecasts, found ${series.length}`,
        );
      }
      demandRegion[k] = r;
      const base = k * T;
      for (let t = 0; t < T; t++) {
        const v = series[t];
        if (!(v >= 0 && v < Number.POSITIVE_INFINITY)) {
          throw new InputValidationError(
            { field: `${field()}.forecast.${region}[${t}]` },
            `expected a finite number of ops/s >= 0, found ${v}`,
          );
        }
        demandSeries[base + t] = v;
        demandTotal[totalBase + t] += v;
      }
      k++;
    }
    if (T > 0) {
      let meanOps = 0;
      for (let t = 0; t < T; t++) meanOps += demandTotal[totalBase + t];
      writeOpsPerSec[p] = (meanOps / T) * wf;
    }
    const upper = part.forecastUpper;
    if (upper !== undefined) {
      upperTotal ??= new Float64Array(P * T).fill(Number.NaN);
      for (let t = 0; t < T; t++) upperTotal[totalBase + t] = demandTotal[totalBase + t];
      for (const region in upper) {
        const mean = forecast[region];
        if (!regionIndex.has(region)) {
          throw new InputValidationError(
            { field: `${field()}.forecastUpper.${region}` },
            `unknown region '${region}'; expected one of ${regionIds.join(', ')}`,
          );
        }
        const series = upper[region];
        if (series.length !== T) {
          throw new InputValidationError(
            { field: `${field()}.forecastUpper.${region}` },
            `expected ${T} steps like the forecasts, found ${series.length}`,
          );
        }
        for (let t = 0; t < T; t++) {
          const v = series[t];
          if (!(v >= 0 && v < Number.POSITIVE_INFINITY)) {
            throw new InputValidationError(
              { field: `${field()}.forecastUpper.${region}[${t}]` },
              `expected a finite number of ops/s >= 0, found ${v}`,
            );
          }
          upperTotal[totalBase + t] += v - (mean ? mean[t] : 0);
        }
      }
    }
  }

  // In-flight moves: the partition counts at its target; the move holds a slot on both cells.
  const inFlightCount = new Int32Array(C);
  let inFlightBytes = 0;
  const seenInFlight = new Set<number>();
  (input.inFlight ?? []).forEach((move, i) => {
    const field = `inFlight[${i}]`;
    const p = partitionIndex.get(move.partition);
    if (p === undefined) {
      throw new InputValidationError(
        { field: `${field}.partition` },
        `unknown partition '${move.partition}'`,
      );
    }
    if (seenInFlight.has(p)) {
      throw new InputValidationError(
        { field: `${field}.partition` },
        `partition '${move.partition}' is already in flight (a partition moves once at a time)`,
      );
    }
    seenInFlight.add(p);
    const from = cellIndex.get(move.from);
    const to = cellIndex.get(move.to);
    for (const [name, id, idx] of [
      ['from', move.from, from],
      ['to', move.to, to],
    ] as const) {
      if (idx === undefined) {
        throw new InputValidationError(
          { field: `${field}.${name}` },
          `unknown cell '${id}'; expected one of ${cellIds.join(', ')}`,
        );
      }
    }
    if (!(Number.isFinite(move.bytes) && move.bytes >= 0)) {
      throw new InputValidationError(
        { field: `${field}.bytes` },
        `expected a number >= 0, found ${move.bytes}`,
      );
    }
    inFlightCount[from as number]++;
    if (to !== from) inFlightCount[to as number]++;
    inFlightBytes += move.bytes;
    origin[p] = to as number;
    lock[p] = LOCK_IN_FLIGHT;
  });

  // Relationships: merge duplicates (sorted by pair), build a symmetric adjacency list.
  const horizonSeconds = T * stepSeconds;
  const rels = input.relationships ?? [];
  const relLow = new Int32Array(rels.length);
  const relHigh = new Int32Array(rels.length);
  const relValue = new Float64Array(rels.length);
  for (let i = 0; i < rels.length; i++) {
    const rel = rels[i];
    const a = partitionIndex.get(rel.a);
    const b = partitionIndex.get(rel.b);
    if (a === undefined) {
      throw new InputValidationError({ field: `relationships[${i}].a` }, `unknown partition '${rel.a}'`);
    }
    if (b === undefined) {
      throw new InputValidationError({ field: `relationships[${i}].b` }, `unknown partition '${rel.b}'`);
    }
    if (a === b) {
      throw new InputValidationError(
        { field: `relationships[${i}].b` },
        'a partition cannot relate to itself',
      );
    }
    const co = rel.coAccessPerSec;
    if (!(co >= 0 && co < Number.POSITIVE_INFINITY)) {
      throw new InputValidationError(
        { field: `relationships[${i}].coAccessPerSec` },
        `expected a number >= 0, found ${co}`,
      );
    }
    relLow[i] = Math.min(a, b);
    relHigh[i] = Math.max(a, b);
    relValue[i] = co * horizonSeconds * dollarsPerMs;
  }
  const order = Int32Array.from(rels.keys()).sort(
    (x, y) => relLow[x] - relLow[y] || relHigh[x] - relHigh[y] || x - y,
  );
  const pairAList: number[] = [];
  const pairBList: number[] = [];
  const pairWeightList: number[] = [];
  for (const i of order) {
    const last = pairAList.length - 1;
    if (last >= 0 && pairAList[last] === relLow[i] && pairBList[last] === relHigh[i]) {
      pairWeightList[last] += relValue[i];
    } else {
      pairAList.push(relLow[i]);
      pairBList.push(relHigh[i]);
      pairWeightList.push(relValue[i]);
    }
  }
  const pairCount = pairAList.length;
  const pairA = Int32Array.from(pairAList);
  const pairB = Int32Array.from(pairBList);
  const pairWeight = Float64Array.from(pairWeightList);
  const degree = new Int32Array(P + 1);
  for (let i = 0; i < pairCount; i++) {
    degree[pairA[i]]++;
    degree[pairB[i]]++;
  }
  const relStart = new Int32Array(P + 1);
  for (let p = 0; p < P; p++) relStart[p + 1] = relStart[p] + degree[p];
  const fill = relStart.slice(0, P);
  const relPartner = new Int32Array(2 * pairCount);
  const relWeight = new Float64Array(2 * pairCount);
  for (let i = 0; i < pairCount; i++) {
    const a = pairA[i];
    const b = pairB[i];
    relPartner[fill[a]] = b;
    relWeight[fill[a]++] = pairWeight[i];
    relPartner[fill[b]] = a;
    relWeight[fill[b]++] = pairWeight[i];
  }

  let capacityDemand = demandTotal;
  if (upperTotal) {
    capacityDemand = new Float64Array(P * T);
    for (let i = 0; i < P * T; i++) {
      const u = upperTotal[i - (i % T)];
      capacityDemand[i] = Number.isNaN(u) ? demandTotal[i] : Math.max(demandTotal[i], upperTotal[i]);
    }
  }
  if (upperTotal)
    addUpperContributions(
      upperTotal,
      demandTotal,
      origin,
      relStart,
      relPartner,
      errorGroupsOf(input, partitionIndex),
      C,
      T,
      measuredCorrelationOf(input) ?? options.upperCorrelation,
    );

  // Locality cost of each region for the whole horizon.
  const locFull = new Float64Array(P * R);
  for (let p = 0; p < P; p++) {
    const w = latencyWeight[p];
    for (let k = demandStart[p]; k < demandStart[p + 1]; k++) {
      let total = 0;
      for (let t = 0; t < T; t++) total += demandSeries[k * T + t];
      const r = demandRegion[k];
      for (let g = 0; g < R; g++) locFull[p * R + g] += total * latency[r * R + g] * w;
    }
  }

  // Move, drain and load constants.
  const transferCost = new Float64Array(P);
  const drainValue = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    transferCost[p] = (bytes[p] / BYTES_PER_GB) * topology.transferCostPerGB + options.moveOverheadDollars;
    let requests = 0;
    for (let t = 0; t < T; t++) requests += demandTotal[p * T + t];
    requests *= stepSeconds;
    drainValue[p] =
      options.drainDollarsPerPartition + (options.drainDollarsPerMillionRequests * requests) / 1e6;
  }
  const initialLoad = new Float64Array(C * T);
  const initialBytes = new Float64Array(C);
  for (let p = 0; p < P; p++) {
    const c = origin[p];
    initialBytes[c] += bytes[p];
    const base = c * T;
    const pb = p * T;
    for (let t = 0; t < T; t++) initialLoad[base + t] += demandTotal[pb + t];
  }
  const headroom = limits.headroom;
  const loadLimit = new Float64Array(C * T);
  const bytesLimit = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    bytesLimit[c] = Math.max(headroom * cellCapBytes[c], initialBytes[c]);
    for (let t = 0; t < T; t++) {
      loadLimit[c * T + t] = Math.max(headroom * cellCapOps[c], initialLoad[c * T + t]);
    }
  }
  const knees = options.loadPenaltyKnees;
  const kneeUtilization = new Float64Array(knees.map((k) => k.utilization));
  const kneeSlope = new Float64Array(knees.map((k) => k.extraMsPerRequest * stepSeconds * dollarsPerMs));
  const kneeLoad = new Float64Array(C * knees.length);
  for (let c = 0; c < C; c++) {
    for (let j = 0; j < knees.length; j++)
      kneeLoad[c * knees.length + j] = knees[j].utilization * cellCapOps[c];
  }

  // Hot cells: copying from or to them adds load when they can least take it (and risks overload).
  const firstHotStep = new Int32Array(C).fill(T);
  const overloaded = new Uint8Array(C);
  for (let c = 0; c < C; c++) {
    const hot = options.hotMoveUtilization * cellCapOps[c];
    for (let t = T - 1; t >= 0; t--) {
      const l = initialLoad[c * T + t];
      if (l > hot) firstHotStep[c] = t;
      if (l > headroom * cellCapOps[c] * (1 + 1e-9)) overloaded[c] = 1;
    }
  }

  // Hysteresis threshold: a fraction of what the partition costs where it is now.
  const threshold = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    const o = origin[p];
    let current = locFull[p * R + cellRegion[o]];
    for (let k = relStart[p]; k < relStart[p + 1]; k++) {
      const q = relPartner[k];
      current +=
        relWeight[k] * pairPenaltyMsRaw(o, origin[q], cellRegion, latency, R, options.crossCellPenaltyMs);
    }
    threshold[p] = limits.minBenefitMargin * current + options.minBenefitDollars;
  }

  const coldCopies = compileColdCopies(partitions, {
    nowMs: input.nowMs,
    cellIndex,
    cellIds,
    origin,
    bytes,
    writeOpsPerSec,
    options,
  });
  markBusyColdCopies(
    coldCopies,
    { steps: T, initialLoad, demandTotal, cellCapOps },
    options.coldCopyDiscountUtilization,
  );

  return {
    input,
    options,
    limits,
    capacityDemand,
    nowMs: input.nowMs,
    stepMs,
    steps: T,
    regionIds,
    regionCount: R,
    latency,
    cellIds,
    cellIndex,
    cellCount: C,
    cellRegion,
    cellCapOps,
    cellCapBytes,
    cellState,
    targetable,
    readyDelayMs,
    partitionIds,
    partitionIndex,
    partitionCount: P,
    bytes,
    origin,
    lock,
    affinity,
    demandStart,
    demandRegion,
    demandSeries,
    demandTotal,
    latencyWeight,
    writeOpsPerSec,
    ...coldCopies,
    locFull,
    relStart,
    relPartner,
    relWeight,
    pairA,
    pairB,
    pairWeight,
    inFlightCount,
    inFlightBytes,
    transferCost,
    drainValue,
    threshold,
    initialLoad,
    initialBytes,
    loadLimit,
    bytesLimit,
    kneeUtilization,
    kneeSlope,
    kneeLoad,
    firstHotStep,
    overloaded,
  };
}

/**
 * A move p → c runs into a hot step of its source or target (forecast above `hotMoveUtilization`), at full
 * bandwidth, and is not urgent (p must leave a draining cell, or its source is forecast over headroom).
 * Such moves are deferred: the copy load would land on a cell at its peak.
 */
export function isHotMove(model: PlacementModel, p: number, c: number): boolean {
  const o = model.origin[p];
  if (model.overloaded[o] === 1 || model.cellState[o] >= CELL_DRAINING) return false;
  const steps = Math.ceil(
    (model.options.moveSetupMs +
      (moveBytes(model, p, c) * 1000) / model.input.topology.migrationBandwidthBytesPerSec) /
      model.stepMs,
  );
  return model.firstHotStep[o] < steps || model.firstHotStep[c] < steps;
}

/** The input's `errorGroups` as each partition's group (-1: none), checked. */
function errorGroupsOf(
  input: PlannerInput,
  partitionIndex: ReadonlyMap<string, number>,
): Int32Array | undefined {
  const groups = input.errorGroups;
  if (groups === undefined) return undefined;
  const out = new Int32Array(partitionIndex.size).fill(-1);
  groups.forEach((members, g) => {
    members.forEach((id, k) => {
      const p = partitionIndex.get(id);
      const field = `errorGroups[${g}][${k}]`;
      if (p === undefined) throw new InputValidationError({ field }, `unknown partition '${id}'`);
      if (out[p] >= 0) throw new InputValidationError({ field }, `partition '${id}' is in two groups`);
      out[p] = g;
    });
  });
  return out;
}

/** The input's measured `upperCorrelation`, checked, or undefined when the caller did not measure one. */
function measuredCorrelationOf(input: PlannerInput): number | undefined {
  const rho = input.upperCorrelation;
  if (rho === undefined) return undefined;
  if (!(rho >= 0 && rho <= 1)) {
    throw new InputValidationError({ field: 'upperCorrelation' }, `expected [0, 1], found ${rho}`);
  }
  return rho;
}

/**
 * Capacity demand from the upper forecasts. A cell's upper load is mean + f(G), where G_g is the summed gap
 * (upper − mean) of group g on the cell (related partitions, and partitions in one of the input's measured
 * `errorGroups`, burst together: their gaps add) and
 * f(G) = √((1 − ρ) Σ G_g² + ρ (Σ G_g)²), ρ = `upperCorrelation` between groups (0: independent errors
 * diversify, √n; 1: the gaps add up, the sum of the upper quantiles). f is split over the partitions by
 * Euler allocation (p in group g gets gap_p × ((1 − ρ) G_g + ρ Σ G) / f, which sums to f), at the current
 * placement; a partition carries its share when it moves. The load stays additive, so the heuristic, the
 * ILP and the evaluator share it exactly: exact for the current placement, linearized for moved partitions.
 */
function addUpperContributions(
  upperTotal: Float64Array,
  demandTotal: Float64Array,
  origin: Int32Array,
  relStart: Int32Array,
  relPartner: Int32Array,
  errorGroupOf: Int32Array | undefined,
  C: number,
  T: number,
  correlation: number,
): void {
  const P = origin.length;
  // Related groups: connected components of the relationships, split by cell.
  const root = new Int32Array(P);
  for (let p = 0; p < P; p++) root[p] = p;
  const find = (p: number): number => {
    while (root[p] !== p) {
      root[p] = root[root[p]];
      p = root[p];
    }
    return p;
  };
  const union = (x: number, y: number) => {
    const a = find(x);
    const b = find(y);
    if (a !== b) root[Math.max(a, b)] = Math.min(a, b);
  };
  for (let p = 0; p < P; p++) {
    for (let k = relStart[p]; k < relStart[p + 1]; k++) union(p, relPartner[k]);
  }
  if (errorGroupOf) {
    const first = new Map<number, number>();
    for (let p = 0; p < P; p++) {
      const g = errorGroupOf[p];
      if (g < 0) continue;
      const q = first.get(g);
      if (q === undefined) first.set(g, p);
      else union(p, q);
    }
  }
  const groupOf = new Int32Array(P);
  const groupIndex = new Map<number, number>();
  for (let p = 0; p < P; p++) {
    const key = find(p) * C + origin[p];
    let g = groupIndex.get(key);
    if (g === undefined) {
      g = groupIndex.size;
      groupIndex.set(key, g);
    }
    groupOf[p] = g;
  }
  const gap = new Float64Array(P * T);
  const groupGap = new Float64Array(groupIndex.size * T);
  for (let p = 0; p < P; p++) {
    if (Number.isNaN(upperTotal[p * T])) continue;
    for (let t = 0; t < T; t++) {
      const d = Math.max(0, upperTotal[p * T + t] - demandTotal[p * T + t]);
      gap[p * T + t] = d;
      groupGap[groupOf[p] * T + t] += d;
    }
  }
  const variance = new Float64Array(C * T);
  const groupCell = new Int32Array(groupIndex.size);
  for (const [key, g] of groupIndex) groupCell[g] = key % C;
  for (let g = 0; g < groupCell.length; g++) {
    for (let t = 0; t < T; t++) variance[groupCell[g] * T + t] += groupGap[g * T + t] ** 2;
  }
  const linear = new Float64Array(C * T);
  for (let g = 0; g < groupCell.length; g++) {
    for (let t = 0; t < T; t++) linear[groupCell[g] * T + t] += groupGap[g * T + t];
  }
  const rho = correlation;
  for (let i = 0; i < C * T; i++) variance[i] = (1 - rho) * variance[i] + rho * linear[i] ** 2;
  for (let p = 0; p < P; p++) {
    const g = groupOf[p];
    const c = origin[p];
    for (let t = 0; t < T; t++) {
      const v = variance[c * T + t];
      if (v > 0)
        demandTotal[p * T + t] +=
          (gap[p * T + t] * ((1 - rho) * groupGap[g * T + t] + rho * linear[c * T + t])) / Math.sqrt(v);
    }
  }
}

/** The horizon: the common length of every forecast array (0 when there is none). */
function horizonOf(input: PlannerInput): number {
  for (const part of input.partitions) {
    for (const region in part.forecast) return part.forecast[region].length;
  }
  return 0;
}

function pairPenaltyMsRaw(
  a: number,
  b: number,
  cellRegion: Int32Array,
  latency: Float64Array,
  R: number,
  crossCellMs: number,
): number {
  if (a === b) return 0;
  return crossCellMs + latency[cellRegion[a] * R + cellRegion[b]];
}

/** Latency-ms equivalent charged per co-access request when two related partitions sit on cells a and b. */
export function pairPenaltyMs(model: PlacementModel, a: number, b: number): number {
  return pairPenaltyMsRaw(
    a,
    b,
    model.cellRegion,
    model.latency,
    model.regionCount,
    model.options.crossCellPenaltyMs,
  );
}

/** True when the partition sits on a cell that is going away (it must leave). */
export function mustLeave(model: PlacementModel, p: number): boolean {
  return model.cellState[model.origin[p]] >= CELL_DRAINING;
}

/** May this partition move in this plan? In-flight never; cooling down only off a draining cell. */
export function isMovable(model: PlacementModel, p: number): boolean {
  const lock = model.lock[p];
  if (lock === LOCK_NONE) return true;
  if (lock === LOCK_COOLDOWN) return mustLeave(model, p);
  return false;
}
