import { describe, expect, it } from 'vitest';
import { LocalityMemo } from '../../../../src/domain/planning/locality-memo.ts';
import { localityCost, moveDurationMs } from '../../../../src/domain/planning/placement-cost.ts';
import { compilePlacementModel } from '../../../../src/domain/planning/placement-model.ts';
import { generatePlannerInstance } from '../../../../src/domain/planning/synthetic-instance.ts';
import { seededRandom } from '../../../../src/domain/seeded-random.ts';

const GiB = 2 ** 30;

/**
 * The memo stands in for localityCost inside the search: every answer must be the very number localityCost
 * gives (toBe: bit for bit), whatever the order of the calls and however often a partition's few slots are
 * overwritten.
 */
describe('LocalityMemo', () => {
  const model = compilePlacementModel(
    generatePlannerInstance({
      seed: 11,
      partitions: 60,
      regions: 3,
      cellsPerRegion: 2,
      utilization: 0.3,
      bytesUtilization: 0.3,
      misplacedFraction: 0.5,
      steps: 8,
      stepSeconds: 900,
      medianBytes: 20 * GiB,
      limits: { maxConcurrentMovesPerCell: 5, maxBytesPerCycle: 400 * GiB },
    }),
  );

  /** Every partition × cell × the completion offsets a move gets at shares 1..6, and a few odd ones. */
  function queries(): [number, number, number][] {
    const out: [number, number, number][] = [];
    for (let p = 0; p < model.partitionCount; p++) {
      for (let c = 0; c < model.cellCount; c++) {
        for (let share = 1; share <= 6; share++) out.push([p, c, moveDurationMs(model, p, share, c)]);
        out.push([p, c, 0], [p, c, -5], [p, c, 1], [p, c, model.stepMs * model.steps * 2]);
      }
    }
    return out;
  }

  it('answers exactly what localityCost computes, in any order, with slots overwritten', () => {
    const memo = new LocalityMemo(model);
    const all = queries();
    const random = seededRandom(3);
    let partial = 0;
    for (let i = 0; i < 40_000; i++) {
      // A query, another of the same partition (its slots fill and get overwritten), the first again.
      const perPartition = model.cellCount * 10;
      const [p, c, offset] = all[Math.floor(random() * all.length)];
      const near = all[p * perPartition + Math.floor(random() * perPartition)];
      for (const [qp, qc, qo] of [[p, c, offset], near, [p, c, offset]]) {
        const expected = localityCost(model, qp, qc, qo);
        expect(memo.cost(qp, qc, qo)).toBe(expected);
        if (expected !== model.locFull[qp * model.regionCount + model.cellRegion[qc]]) partial++;
      }
    }
    // Not vacuous: the partly-served steps (the path the memo keeps) are exercised.
    expect(partial).toBeGreaterThan(1000);
  });

  it('control: the offset is part of the key (the same partition and cell cost differently at two shares)', () => {
    let differing = 0;
    for (let p = 0; p < model.partitionCount; p++) {
      for (let c = 0; c < model.cellCount; c++) {
        const a = moveDurationMs(model, p, 1, c);
        const b = moveDurationMs(model, p, 4, c);
        if (localityCost(model, p, c, a) === localityCost(model, p, c, b)) continue;
        differing++;
        const memo = new LocalityMemo(model);
        expect(memo.cost(p, c, a)).toBe(localityCost(model, p, c, a));
        expect(memo.cost(p, c, b)).toBe(localityCost(model, p, c, b));
        expect(memo.cost(p, c, b)).not.toBe(localityCost(model, p, c, a));
      }
    }
    expect(differing).toBeGreaterThan(20);
  });
});
