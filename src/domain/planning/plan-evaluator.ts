import { InputValidationError } from '../errors.ts';
import type { PlannerInput } from './movement-plan.ts';
import { moveDurationMs, type TermCosts } from './placement-cost.ts';
import { compilePlacementModel, isMovable, type PlacementModel } from './placement-model.ts';
import { PlacementState } from './placement-state.ts';
import type { PlannerOptions } from './planner-options.ts';

/** A chosen move by index: partition p goes to cell c. */
export interface MoveChoice {
  readonly partition: number;
  readonly cell: number;
}

export interface AppliedMoveSet {
  readonly state: PlacementState;
  /** Bandwidth share and completion offset per choice, in the order given. */
  readonly shares: Int32Array;
  readonly offsetsMs: Float64Array;
}

/**
 * Apply a set of moves the way the objective defines it: all start now, each completes after
 * `moveDurationMs(share)` where share = the most moves (in flight + planned) on its source or target cell.
 * Throws InputValidationError for a move the planner could never make (locked partition, unknown or
 * non-target cell, a partition twice).
 */
export function applyMoveSet(model: PlacementModel, choices: readonly MoveChoice[]): AppliedMoveSet {
  const state = new PlacementState(model);
  const counts = model.inFlightCount.slice();
  const seen = new Set<number>();
  choices.forEach(({ partition: p, cell: c }, i) => {
    const field = `moves[${i}]`;
    if (seen.has(p)) {
      throw new InputValidationError({ field }, `partition '${model.partitionIds[p]}' is moved twice`);
    }
    seen.add(p);
    if (!isMovable(model, p)) {
      throw new InputValidationError(
        { field },
        `partition '${model.partitionIds[p]}' may not move now (in flight or cooling down)`,
      );
    }
    if (model.targetable[c] !== 1 || c === model.origin[p]) {
      throw new InputValidationError(
        { field },
        `cell '${model.cellIds[c]}' is not a valid target for '${model.partitionIds[p]}'`,
      );
    }
    counts[model.origin[p]]++;
    counts[c]++;
  });
  const shares = new Int32Array(choices.length);
  const offsetsMs = new Float64Array(choices.length);
  choices.forEach(({ partition: p, cell: c }, i) => {
    shares[i] = Math.max(counts[model.origin[p]], counts[c]);
    offsetsMs[i] = moveDurationMs(model, p, shares[i], c);
    state.applyMove(p, c, offsetsMs[i]);
  });
  return { state, shares, offsetsMs };
}

/** Hard-constraint and limit violations of an applied move set (empty when the plan is valid). */
export function findViolations(model: PlacementModel, state: PlacementState): string[] {
  const out: string[] = [];
  const limit = model.limits.maxConcurrentMovesPerCell;
  for (let c = 0; c < model.cellCount; c++) {
    const planned = state.moveCount[c] - model.inFlightCount[c];
    if (planned > 0 && state.moveCount[c] > limit) {
      out.push(`maxConcurrentMovesPerCell: cell '${model.cellIds[c]}' has ${state.moveCount[c]} moves`);
    }
    if (planned > 0 && !state.cellWithinLimits(c)) {
      out.push(`headroom: cell '${model.cellIds[c]}' exceeds its capacity limit`);
    }
  }
  if (
    state.bytesMoved > model.limits.maxBytesPerCycle * (1 + 1e-12) &&
    state.bytesMoved > model.inFlightBytes
  ) {
    out.push(`maxBytesPerCycle: ${state.bytesMoved} bytes in motion`);
  }
  return out;
}

export interface PlanEvaluation {
  /** Objective after the moves, dollars over the horizon. */
  readonly cost: number;
  readonly terms: TermCosts;
  /** Objective with no move. */
  readonly costBefore: number;
  readonly violations: readonly string[];
}

/**
 * The shared evaluator: the objective of a set of moves (by id) on an input. The gap benchmark and the
 * tests score the heuristic's and the ILP's plans with it.
 */
export function evaluatePlan(
  input: PlannerInput,
  moves: readonly { readonly partition: string; readonly to: string }[],
  options?: PlannerOptions,
): PlanEvaluation {
  const model = compilePlacementModel(input, options);
  return evaluateChoices(
    model,
    moves.map((move, i) => {
      const partition = model.partitionIndex.get(move.partition);
      const cell = model.cellIndex.get(move.to);
      if (partition === undefined) {
        throw new InputValidationError(
          { field: `moves[${i}].partition` },
          `unknown partition '${move.partition}'`,
        );
      }
      if (cell === undefined) {
        throw new InputValidationError({ field: `moves[${i}].to` }, `unknown cell '${move.to}'`);
      }
      return { partition, cell };
    }),
  );
}

export function evaluateChoices(model: PlacementModel, choices: readonly MoveChoice[]): PlanEvaluation {
  const before = new PlacementState(model).total();
  const { state } = applyMoveSet(model, choices);
  return {
    cost: state.total(),
    terms: { ...state.costs },
    costBefore: before,
    violations: findViolations(model, state),
  };
}
