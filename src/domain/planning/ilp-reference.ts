import type { Highs, ModelData } from 'highs';
import * as highsModule from 'highs';
import { PrestageError } from '../errors.ts';
import { generateCandidates } from './candidate-moves.ts';
import { moveBytes, moveTransferCost } from './cold-copies.ts';
import type { MovementPlan, PlannerInput } from './movement-plan.ts';
import { drainCost, loadPenalty, localityCost, moveDurationMs, presenceAt } from './placement-cost.ts';
import { checkFeasibility } from './placement-feasibility.ts';
import { compilePlacementModel, pairPenaltyMs } from './placement-model.ts';
import { PlacementState } from './placement-state.ts';
import { assemblePlan } from './plan-assembly.ts';
import type { MoveChoice } from './plan-evaluator.ts';
import type { PlannerOptions } from './planner-options.ts';

/**
 * Exact reference for the planner: the same objective and constraints as the heuristic, as a mixed-integer
 * program solved by HiGHS. For small instances (≤ ~200 partitions, a handful of cells); it proves how far
 * the heuristic is from optimal.
 *
 * Variables: x[m] = 1 when candidate move m (p → c) is taken; z[m,s] = 1 when it runs at bandwidth share s
 * (s = the most moves on its source or target cell, made exact with one-hot move counts u[c,k]); load[c,t]
 * and the excess over each load-penalty knee e[c,t,j] (the convex piecewise-linear penalty); for each
 * relationship, d = 1 when the pair sits on different cells and q[g,h] ≥ 1 when it sits in regions g and h
 * (linearized products). Every coefficient comes from placement-cost.ts, as in the heuristic.
 */

export interface ExactSolveOptions extends PlannerOptions {
  /** Stop the MIP after this long and return the best plan found. @default 120 */
  readonly timeLimitSeconds?: number;
}

export interface ExactSolution {
  readonly plan: MovementPlan;
  /** True when HiGHS proved optimality (within 1e-9 relative gap). */
  readonly optimal: boolean;
  /** Lower bound on the optimal cost (dollars). */
  readonly lowerBound: number;
  /** The MIP's own objective, constant included: equals the evaluator's cost of the plan. */
  readonly modelCost: number;
  readonly seconds: number;
  readonly variables: number;
  readonly constraints: number;
}

/** The solver failed or gave no feasible plan. */
export class ExactSolverError extends PrestageError {}

// highs ships CommonJS typings for an ES module whose default export is the loader.
const loadHighs = (highsModule as unknown as { default: () => Promise<Highs> }).default;
let highsPromise: Promise<Highs> | undefined;
function highs(): Promise<Highs> {
  if (!highsPromise) highsPromise = loadHighs();
  return highsPromise;
}

/** Optimal movement plan (for small instances). */
export async function solveExact(input: PlannerInput, options?: ExactSolveOptions): Promise<MovementPlan> {
  return (await solveExactDetailed(input, options)).plan;
}

export async function solveExactDetailed(
  input: PlannerInput,
  options?: ExactSolveOptions,
): Promise<ExactSolution> {
  const model = compilePlacementModel(input, options);
  checkFeasibility(model);
  const base = new PlacementState(model);
  const candidates = generateCandidates(model, base, true);
  const lp = new LinearProgram();
  const L = model.limits.maxConcurrentMovesPerCell;
  const T = model.steps;
  const C = model.cellCount;
  const P = model.partitionCount;

  // Candidate moves the limits allow at all.
  interface Move {
    p: number;
    o: number;
    c: number;
    x: number;
    z: number[];
    offsets: number[];
  }
  const moves: Move[] = [];
  const movesOf: Move[][] = Array.from({ length: P }, () => []);
  const bytesBudget = model.limits.maxBytesPerCycle - model.inFlightBytes;
  for (let p = 0; p < P; p++) {
    for (let k = candidates.start[p]; k < candidates.start[p + 1]; k++) {
      const c = candidates.cell[k];
      const o = model.origin[p];
      if (model.inFlightCount[o] >= L || model.inFlightCount[c] >= L) continue;
      if (bytesBudget < 0 || moveBytes(model, p, c) > bytesBudget) continue;
      const move: Move = { p, o, c, x: -1, z: [], offsets: [] };
      moves.push(move);
      movesOf[p].push(move);
    }
  }

  // Which cells and partitions the program can change.
  const touched = new Uint8Array(C);
  for (const m of moves) {
    touched[m.o] = 1;
    touched[m.c] = 1;
  }
  const mobile = new Uint8Array(P);
  for (const m of moves) mobile[m.p] = 1;

  // Constant part of the objective: everything the moves cannot change.
  let offset = base.costs.locality + base.costs.drain;
  for (let c = 0; c < C; c++) {
    if (touched[c]) continue;
    for (let t = 0; t < T; t++) offset += loadPenalty(model, c, base.load[c * T + t]);
  }
  for (let i = 0; i < model.pairA.length; i++) {
    const a = model.pairA[i];
    const b = model.pairB[i];
    if (!mobile[a] && !mobile[b])
      offset += model.pairWeight[i] * pairPenaltyMs(model, model.origin[a], model.origin[b]);
  }

  // x, z and the locality / transfer / drain coefficients.
  for (const m of moves) {
    const { p, o, c } = m;
    const here = model.locFull[p * model.regionCount + model.cellRegion[o]];
    m.x = lp.addVar(
      moveTransferCost(model, p, c) + drainCost(model, p, c) - drainCost(model, p, o),
      0,
      1,
      true,
    );
    const lowest = Math.max(model.inFlightCount[o], model.inFlightCount[c]) + 1;
    for (let s = 1; s <= L; s++) {
      const f = moveDurationMs(model, p, s, c);
      m.offsets.push(f);
      m.z.push(s < lowest ? -1 : lp.addVar(localityCost(model, p, c, f) - here, 0, 1, true));
    }
    lp.addRow([[m.x, -1], ...m.z.filter((v) => v >= 0).map((v): [number, number] => [v, 1])], 0, 0);
  }
  for (let p = 0; p < P; p++) {
    if (movesOf[p].length > 1)
      lp.addRow(
        movesOf[p].map((m): [number, number] => [m.x, 1]),
        -Infinity,
        1,
      );
  }
  if (moves.length > 0) {
    lp.addRow(
      moves.map((m): [number, number] => [m.x, moveBytes(model, m.p, m.c) / 2 ** 30]),
      -Infinity,
      Math.max(0, bytesBudget) / 2 ** 30,
    );
  }

  // Move counts per cell (one-hot) and the bandwidth share of every move.
  const u: number[][] = Array.from({ length: C }, () => []);
  for (let c = 0; c < C; c++) {
    if (!touched[c]) continue;
    const terms: [number, number][] = [];
    const one: [number, number][] = [];
    for (let k = 0; k <= L; k++) {
      u[c][k] = k < model.inFlightCount[c] ? -1 : lp.addVar(0, 0, 1, true);
      if (u[c][k] >= 0) {
        terms.push([u[c][k], k]);
        one.push([u[c][k], 1]);
      }
    }
    for (const m of moves) if (m.o === c || m.c === c) terms.push([m.x, -1]);
    lp.addRow(terms, model.inFlightCount[c], model.inFlightCount[c]);
    lp.addRow(one, 1, 1);
  }
  const atMost = (c: number, s: number): [number, number][] =>
    u[c].slice(0, s + 1).flatMap((v): [number, number][] => (v >= 0 ? [[v, -1]] : []));
  for (const m of moves) {
    for (let s = 1; s <= L; s++) {
      const z = m.z[s - 1];
      if (z < 0) continue;
      lp.addRow([[z, 1], ...atMost(m.o, s)], -Infinity, 0);
      lp.addRow([[z, 1], ...atMost(m.c, s)], -Infinity, 0);
      const exact: [number, number][] = [[z, 1]];
      if (u[m.o][s] >= 0) exact.push([u[m.o][s], -1]);
      if (u[m.c][s] >= 0) exact.push([u[m.c][s], -1]);
      lp.addRow(exact, -Infinity, 0);
    }
  }

  // Load per touched cell and step (in units of the cell's capacity, for numerics), its hard limit, and
  // the convex penalty; bytes in GiB.
  const knees = model.kneeUtilization;
  const GiB = 2 ** 30;
  for (let c = 0; c < C; c++) {
    if (!touched[c]) continue;
    const cap = model.cellCapOps[c];
    const bytesRow: [number, number][] = [];
    for (const m of moves) {
      if (m.c === c) bytesRow.push([m.x, model.bytes[m.p] / GiB]);
      if (m.o === c) bytesRow.push([m.x, -model.bytes[m.p] / GiB]);
    }
    lp.addRow(bytesRow, -Infinity, (model.bytesLimit[c] - model.initialBytes[c]) / GiB);
    for (let t = 0; t < T; t++) {
      const load = lp.addVar(0, -Infinity, model.loadLimit[c * T + t] / cap, false);
      const row: [number, number][] = [[load, 1]];
      for (const m of moves) {
        const sign = m.c === c ? -1 : m.o === c ? 1 : 0;
        if (sign === 0) continue;
        const d = model.demandTotal[m.p * T + t] / cap;
        if (d === 0) continue;
        row.push([m.x, sign * d]);
        m.z.forEach((z, i) => {
          if (z < 0) return;
          const stay = 1 - presenceAt(model.stepMs, t, m.offsets[i]);
          if (stay > 0) row.push([z, -sign * d * stay]);
        });
      }
      lp.addRow(row, model.initialLoad[c * T + t] / cap, model.initialLoad[c * T + t] / cap);
      for (let j = 0; j < knees.length; j++) {
        const e = lp.addVar(model.kneeSlope[j] * cap, 0, Infinity, false);
        lp.addRow(
          [
            [e, 1],
            [load, -1],
          ],
          -knees[j],
          Infinity,
        );
      }
    }
  }

  // Relatedness: d (different cells) and q (region pair) per relationship with a mobile end.
  const R = model.regionCount;
  const cross = model.options.crossCellPenaltyMs;
  const placement = (p: number, cell: number): [number, number][] => {
    // X[p, cell] = [origin = cell] (1 − Σ x) + Σ_{m → cell} x, returned as terms; the constant is separate.
    const terms: [number, number][] = [];
    for (const m of movesOf[p]) {
      let coef = 0;
      if (m.c === cell) coef += 1;
      if (model.origin[p] === cell) coef -= 1;
      if (coef !== 0) terms.push([m.x, coef]);
    }
    return terms;
  };
  const atOrigin = (p: number, cell: number) => (model.origin[p] === cell ? 1 : 0);
  const cellsOf = (p: number) => new Set([model.origin[p], ...movesOf[p].map((m) => m.c)]);
  for (let i = 0; i < model.pairA.length; i++) {
    const a = model.pairA[i];
    const b = model.pairB[i];
    if (!mobile[a] && !mobile[b]) continue;
    const w = model.pairWeight[i];
    const d = lp.addVar(w * cross, 0, 1, false);
    const possible = new Set([...cellsOf(a), ...cellsOf(b)]);
    for (const cell of possible) {
      // d ≥ X[a,cell] − X[b,cell]
      const terms: [number, number][] = [[d, 1]];
      for (const [v, coef] of placement(a, cell)) terms.push([v, -coef]);
      for (const [v, coef] of placement(b, cell)) terms.push([v, coef]);
      lp.addRow(terms, atOrigin(a, cell) - atOrigin(b, cell), Infinity);
    }
    const regionsA = new Set([...cellsOf(a)].map((c) => model.cellRegion[c]));
    const regionsB = new Set([...cellsOf(b)].map((c) => model.cellRegion[c]));
    for (const g of regionsA) {
      for (const h of regionsB) {
        const lat = model.latency[g * R + h];
        if (lat === 0) continue;
        const q = lp.addVar(w * lat, 0, 1, false);
        // q ≥ XR[a,g] + XR[b,h] − 1 (− (1 − d) when g = h: both in g on different cells)
        const terms: [number, number][] = [[q, 1]];
        let constant = -1;
        for (let cell = 0; cell < C; cell++) {
          if (model.cellRegion[cell] === g) {
            for (const [v, coef] of placement(a, cell)) terms.push([v, -coef]);
            constant += atOrigin(a, cell);
          }
          if (model.cellRegion[cell] === h) {
            for (const [v, coef] of placement(b, cell)) terms.push([v, -coef]);
            constant += atOrigin(b, cell);
          }
        }
        if (g === h) {
          terms.push([d, -1]);
          constant -= 1;
        }
        lp.addRow(terms, constant, Infinity);
      }
    }
  }

  if (moves.length === 0) {
    const plan = assemblePlan(model, [], candidates);
    return {
      plan,
      optimal: true,
      lowerBound: plan.costAfter,
      modelCost: plan.costAfter,
      seconds: 0,
      variables: 0,
      constraints: 0,
    };
  }
  const solver = await highs();
  const timeLimit = options?.timeLimitSeconds ?? 120;
  const started = performance.now();
  const result = solver.withModel(lp.toModelData(solver.infinity), (hm) => {
    hm.options.set({
      output_flag: false,
      time_limit: timeLimit,
      mip_rel_gap: 1e-6,
      mip_abs_gap: 1e-6,
      mip_feasibility_tolerance: 1e-9,
      primal_feasibility_tolerance: 1e-9,
    });
    hm.run();
    const status = hm.getModelStatus();
    const hasSolution = Number(hm.info.get('primal_solution_status')) === 2;
    return {
      status,
      hasSolution,
      objective: hasSolution ? hm.getObjectiveValue() : Number.NaN,
      bound: lp.integer.some((v) => v) ? Number(hm.info.get('mip_dual_bound')) : hm.getObjectiveValue(),
      values: hasSolution ? hm.getSolution().colValue : new Float64Array(0),
    };
  });
  const seconds = (performance.now() - started) / 1000;
  if (!result.hasSolution) {
    throw new ExactSolverError(`HiGHS found no feasible plan (model status ${result.status})`);
  }
  const choices: MoveChoice[] = [];
  for (const m of moves) if (result.values[m.x] > 0.5) choices.push({ partition: m.p, cell: m.c });
  const plan = assemblePlan(model, choices, candidates);
  return {
    plan,
    optimal: result.status === 7,
    lowerBound: offset + (Number.isFinite(result.bound) ? result.bound : result.objective),
    modelCost: offset + result.objective,
    seconds,
    variables: lp.cost.length,
    constraints: lp.rowLower.length,
  };
}

/** A sparse LP/MIP built row by row (CSR), handed to HiGHS as arrays. */
class LinearProgram {
  readonly cost: number[] = [];
  readonly lower: number[] = [];
  readonly upper: number[] = [];
  readonly integer: boolean[] = [];
  readonly rowStart: number[] = [0];
  readonly rowIndex: number[] = [];
  readonly rowValue: number[] = [];
  readonly rowLower: number[] = [];
  readonly rowUpper: number[] = [];

  addVar(cost: number, lower: number, upper: number, integer: boolean): number {
    this.cost.push(cost);
    this.lower.push(lower);
    this.upper.push(upper);
    this.integer.push(integer);
    return this.cost.length - 1;
  }

  /** Add lower ≤ Σ coef × var ≤ upper; repeated variables are merged. */
  addRow(terms: readonly (readonly [number, number])[], lower: number, upper: number): void {
    const merged = new Map<number, number>();
    for (const [v, coef] of terms) merged.set(v, (merged.get(v) ?? 0) + coef);
    const entries = [...merged].filter(([, coef]) => coef !== 0).sort((a, b) => a[0] - b[0]);
    for (const [v, coef] of entries) {
      this.rowIndex.push(v);
      this.rowValue.push(coef);
    }
    this.rowStart.push(this.rowIndex.length);
    this.rowLower.push(lower);
    this.rowUpper.push(upper);
  }

  toModelData(infinity: number): ModelData {
    const clamp = (v: number) => (v === Infinity ? infinity : v === -Infinity ? -infinity : v);
    return {
      numCols: this.cost.length,
      numRows: this.rowLower.length,
      colCost: Float64Array.from(this.cost),
      colLower: Float64Array.from(this.lower, clamp),
      colUpper: Float64Array.from(this.upper, clamp),
      rowLower: Float64Array.from(this.rowLower, clamp),
      rowUpper: Float64Array.from(this.rowUpper, clamp),
      matrix: {
        format: 'csr' as const,
        numRows: this.rowLower.length,
        numCols: this.cost.length,
        starts: Int32Array.from(this.rowStart),
        indices: Int32Array.from(this.rowIndex),
        values: Float64Array.from(this.rowValue),
      },
      integrality: Int32Array.from(this.integer, (v) => (v ? 1 : 0)),
    };
  }
}
