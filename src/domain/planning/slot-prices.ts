import type { CandidateMoves } from './candidate-moves.ts';
import type { PlacementModel } from './placement-model.ts';

/** Lagrangian prices of the throttles: dollars per move slot on each cell, and per byte of the cycle budget. */
export interface ThrottlePrices {
  readonly cell: Float64Array;
  readonly perByte: number;
}

/** Subgradient iterations for the throttle prices. */
const PRICE_ITERATIONS = 40;

/**
 * Prices for the per-cell concurrency limit and the bytes budget from a Lagrangian relaxation on the
 * standalone gains: each partition takes its best priced candidate; prices rise on over-used cells (and
 * bytes) and fall on idle ones. A greedy keyed by priced gains then spends scarce slots on moves that use
 * them best (weighted b-matching), which plain gain order does not.
 */
export function slotPrices(model: PlacementModel, cand: CandidateMoves): ThrottlePrices {
  const C = model.cellCount;
  const P = model.partitionCount;
  const L = model.limits.maxConcurrentMovesPerCell;
  const budget = model.limits.maxBytesPerCycle;
  const cell = new Float64Array(C);
  let perByte = 0;
  let gainSum = 0;
  let count = 0;
  for (let k = 0; k < cand.gain.length; k++) {
    if (cand.gain[k] > 0) {
      gainSum += cand.gain[k];
      count++;
    }
  }
  if (count === 0) return { cell, perByte };
  const scale = gainSum / count;
  const used = new Float64Array(C);
  for (let it = 0; it < PRICE_ITERATIONS; it++) {
    used.set(model.inFlightCount);
    let bytes = model.inFlightBytes;
    for (let p = 0; p < P; p++) {
      let best = 0;
      let bestCell = -1;
      const o = model.origin[p];
      for (let k = cand.start[p]; k < cand.start[p + 1]; k++) {
        const v = cand.gain[k] - cell[o] - cell[cand.cell[k]] - perByte * model.bytes[p];
        if (v > best) {
          best = v;
          bestCell = cand.cell[k];
        }
      }
      if (bestCell >= 0) {
        used[o]++;
        used[bestCell]++;
        bytes += model.bytes[p];
      }
    }
    const step = scale / (2 + it);
    for (let c = 0; c < C; c++) cell[c] = Math.max(0, cell[c] + (step * (used[c] - L)) / Math.max(1, L));
    if (budget > 0)
      perByte = Math.max(0, perByte + (step * (bytes - budget)) / budget / Math.max(1, budget / 8));
  }
  return { cell, perByte };
}
