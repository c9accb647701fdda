import { describe, expect, it } from 'vitest';
import type { CapacityShortfall } from '../../../../src/domain/planning/movement-plan.ts';
import type { ScaleInCell } from '../../../../src/domain/planning/scale-in.ts';
import {
  assessScaleOuts,
  expectedExcess,
  expectedLoadPenaltyUsd,
  normalCdf,
  normalQuantile,
  resolveScaleOutOptions,
  type ScaleOutPartition,
} from '../../../../src/domain/planning/scale-out.ts';

const NOW = Date.UTC(2025, 0, 6, 12);
const STEP = 15 * 60_000;
const STEPS = 8;

const cell = (id: string, region = 'r'): ScaleInCell => ({
  id,
  region,
  status: 'ACTIVE',
  capacityOpsPerSec: 1000,
  hourPriceUsd: 0.25,
});

/** `n` partitions on cells a and b splitting `mean` ops/s, each with the same gap up to its upper forecast. */
function partitions(n: number, mean: number, gapEach: number, fromStep = 0): ScaleOutPartition[] {
  return Array.from({ length: n }, (_, i) => ({
    cell: i % 2 === 0 ? 'a' : 'b',
    mean: Array.from({ length: STEPS }, (_, t) => (t >= fromStep ? mean / n : 0)),
    upper: Array.from({ length: STEPS }, (_, t) => (t >= fromStep ? mean / n + gapEach : 0)),
  }));
}

const shortfall = (cellsNeeded = 1): CapacityShortfall => ({
  region: 'r',
  atMs: NOW + STEP,
  scaleOutByMs: NOW,
  peakDemandOpsPerSec: 2000,
  usableCapacityOpsPerSec: 1600,
  cellsNeeded,
});

const input = (parts: ScaleOutPartition[], need = 1) => ({
  nowMs: NOW,
  stepMs: STEP,
  cells: [cell('a'), cell('b')],
  partitions: parts,
  shortfalls: [shortfall(need)],
});

describe('normal distribution helpers', () => {
  it('inverts the cdf and prices the expected excess in closed form', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalQuantile(0.9)).toBeCloseTo(1.281552, 5);
    // No spread: the plain excess. At the mean: σ/√(2π).
    expect(expectedExcess(120, 0, 100)).toBe(20);
    expect(expectedExcess(80, 0, 100)).toBe(0);
    expect(expectedExcess(100, 10, 100)).toBeCloseTo(10 / Math.sqrt(2 * Math.PI), 9);
    // Far above the threshold the excess is the mean's; far below, nothing.
    expect(expectedExcess(200, 10, 100)).toBeCloseTo(100, 6);
    expect(expectedExcess(0, 10, 100)).toBeCloseTo(0, 9);
  });

  it('expected load penalty equals the planner knees on a certain load', () => {
    const o = resolveScaleOutOptions();
    // 1,800 ops/s on 2,000: knees 0.5 (1 ms), 0.7 (4 ms), 0.85 (20 ms) → 800 + 4 × 400 + 20 × 100 ms per second.
    const ms = 800 + 4 * 400 + 20 * 100;
    expect(expectedLoadPenaltyUsd(1800, 0, 2000, 3600, o)).toBeCloseTo((ms * 3600 * 0.05) / 1e6, 9);
  });
});

describe('assessScaleOuts', () => {
  it('buys a cell when the mean itself runs past the capacity for the horizon', () => {
    const [verdict] = assessScaleOuts(input(partitions(10, 2200, 20)));
    expect(verdict.cells).toBe(1);
    expect(verdict.benefitUsd).toBeGreaterThan(verdict.costUsd);
    // 12 h of a $0.25 cell.
    expect(verdict.costUsd).toBeCloseTo(3, 9);
  });

  it('declines when only the upper quantiles, added up, exceed the headroom: many partitions diversify', () => {
    // Mean 1,000 ops/s on 2,000; each of 20 partitions' upper is 60 ops/s above its mean: 2,200 ops/s summed.
    const parts = partitions(20, 1000, 60);
    const [diversified] = assessScaleOuts(input(parts), { errorCorrelation: 0 });
    expect(diversified.cells).toBe(0);
    expect(diversified.benefitUsd).toBeLessThan(diversified.costUsd);
    // Taken as one error (ρ = 1), the same forecast is worth a cell.
    const [correlated] = assessScaleOuts(input(parts), { errorCorrelation: 1 });
    expect(correlated.benefitUsd).toBeGreaterThan(diversified.benefitUsd);
  });

  it('charges the hours the cell runs: a longer hold declines what a short one buys', () => {
    const parts = partitions(10, 1900, 20);
    const [short] = assessScaleOuts(input(parts), { holdMs: 3_600_000 });
    const [long] = assessScaleOuts(input(parts), { holdMs: 48 * 3_600_000 });
    expect(short.cells).toBe(1);
    expect(long.cells).toBe(0);
    expect(long.benefitUsd).toBeCloseTo(short.benefitUsd, 9);
  });

  it('buys no more cells than the marginal one pays for, and at most what the shortfall needs', () => {
    const parts = partitions(10, 3000, 20);
    const [verdict] = assessScaleOuts(input(parts, 2), { holdMs: 3_600_000 });
    expect(verdict.cells).toBe(2);
    const [capped] = assessScaleOuts(input(parts, 1), { holdMs: 3_600_000 });
    expect(capped.cells).toBe(1);
  });

  it('counts only the steps after a new cell could be provisioned', () => {
    // Demand past capacity in the last two steps only.
    const late = partitions(10, 2400, 0, STEPS - 2);
    const [inTime] = assessScaleOuts(input(late), { provisionMs: 15 * 60_000, holdMs: 3_600_000 });
    const [tooLate] = assessScaleOuts(input(late), { provisionMs: STEPS * STEP, holdMs: 3_600_000 });
    expect(inTime.cells).toBe(1);
    expect(tooLate.benefitUsd).toBe(0);
    expect(tooLate.cells).toBe(0);
  });

  describe('locality: partitions kept away from home', () => {
    // Region r hosts 1,000 ops/s on two cells, diversified enough to decline on load alone (ρ = 0); region s's
    // cell c hosts partitions whose demand comes from r, 100 ms away.
    const latencyMs = { r: { s: 100 } };
    const hostedInR = partitions(20, 1000, 60);
    const away = (mean: number, upper: number, from: Record<string, number> = { r: mean }) => ({
      cell: 'c',
      mean: Array.from({ length: STEPS }, () => mean),
      upper: Array.from({ length: STEPS }, () => upper),
      demand: Object.fromEntries(
        Object.entries(from).map(([region, ops]) => [region, Array.from({ length: STEPS }, () => ops)]),
      ),
      writeFraction: 0.2,
    });
    const withAway = (
      parts: ScaleOutPartition[],
      need = 1,
      latencies: typeof latencyMs | null = latencyMs,
    ) => ({
      ...input([...hostedInR, ...parts], need),
      cells: [cell('a'), cell('b'), cell('c', 's')],
      ...(latencies && { latencyMs: latencies }),
    });
    const o = { errorCorrelation: 0, localityMs: 12 * 3_600_000 };
    // The planner's price of 50 ops/s served 100 ms away for one 15-min step: 900 s × 50 × 100 ms × 1.2 × $0.05/M.
    const stepUsd = (900 * 50 * 100 * 1.2 * 0.05) / 1e6;

    it('buys the cell that lets them come home, priced as the planner prices their latency over the hold', () => {
      const parts = [away(50, 60), away(50, 60)];
      const [verdict] = assessScaleOuts(withAway(parts), o);
      expect(verdict.cells).toBe(1);
      // Both fit the new cell's room (0.8 × 3,000 − 2,200 = 200 ops/s); 12 h at the horizon's rate.
      expect(verdict.localityUsd).toBeCloseTo(2 * stepUsd * 48, 6);
      // Negative control: the same cluster without latencies declines, as on load alone.
      const [blind] = assessScaleOuts(withAway(parts, 1, null), o);
      expect(blind.cells).toBe(0);
      expect(blind.localityUsd).toBe(0);
      const [off] = assessScaleOuts(withAway(parts), { ...o, localityMs: 0 });
      expect(off.cells).toBe(0);
      // Off by default (it did not pay on the scenario suite's tuning half).
      const [byDefault] = assessScaleOuts(withAway(parts), { errorCorrelation: 0 });
      expect(byDefault.localityUsd).toBe(0);
    });

    it('counts only the partitions that fit the room the cells add below the headroom', () => {
      // 300 ops/s of upper forecast does not fit one new cell's 200 ops/s of room; two cells leave 1,000.
      const big = [away(250, 300)];
      const [one] = assessScaleOuts(withAway(big, 1), o);
      expect(one.localityUsd).toBe(0);
      expect(one.cells).toBe(0);
      const [two] = assessScaleOuts(withAway(big, 2), o);
      expect(two.cells).toBe(2);
      expect(two.localityUsd).toBeCloseTo(5 * stepUsd * 48, 6);
    });

    it('leaves out partitions whose demand is best served where they are', () => {
      // 50 ops/s from r but 60 from s: the planner's locality keeps it in s.
      const [verdict] = assessScaleOuts(withAway([away(110, 120, { r: 50, s: 60 })]), o);
      expect(verdict.localityUsd).toBe(0);
      expect(verdict.cells).toBe(0);
    });
  });

  it('rejects options out of range', () => {
    expect(() => resolveScaleOutOptions({ localityMs: -1 })).toThrow(/localityMs/);
    expect(() => resolveScaleOutOptions({ headroom: 0 })).toThrow(/headroom/);
    expect(() => resolveScaleOutOptions({ errorCorrelation: 2 })).toThrow(/errorCorrelation/);
    expect(() => resolveScaleOutOptions({ upperLevel: 0.4 })).toThrow(/upperLevel/);
  });
});
