import { describe, expect, it } from 'vitest';
import type {
  ColdCopy,
  ColdCopyDrop,
  MovementPlan,
  PlannedMove,
  PlannerInput,
} from '../../../../src/domain/planning/movement-plan.ts';
import { simulatePolicy } from '../../../../src/domain/simulation/backtest.ts';
import {
  DEFAULT_SIMULATION_OPTIONS,
  type SimulationInput,
} from '../../../../src/domain/simulation/simulation-options.ts';
import { buildInput, MIN, T0, testDeps, twoRegionTopology } from './simulation-fixtures.ts';

/**
 * Retained cold copies in the simulator: a move told to retain its source leaves the bytes there as a copy
 * (stored bytes count it), the planner sees the copy with its watermark, a move back to it copies only the
 * writes since (the partition's writes × `writeBytes`) at the migration bandwidth, and dropped copies (by
 * the plan, or with a retired cell) leave the stored bytes.
 */

const BUCKET = 15 * MIN;
const SIZE = 60e6;
/** 10 writes/s (all from the east) at the simulator's 1 KiB per write: 9,216,000 bytes of delta per bucket. */
const WRITES = 10;
const DELTA_PER_BUCKET = WRITES * 900 * DEFAULT_SIMULATION_OPTIONS.writeBytes;

function input(buckets: number, scalingEvents: unknown[] = []): SimulationInput {
  return buildInput(
    twoRegionTopology({ scalingEvents }),
    [{ id: 'p', sizeBytes: SIZE, cell: 'e1' }],
    buckets,
    BUCKET,
    (_t, _p, r) => (r === 0 ? [5, WRITES] : [5, 0]),
  );
}

interface ScriptStep {
  readonly move?: { readonly to: string; readonly retainSource?: boolean };
  readonly drops?: readonly ColdCopyDrop[];
}

/** A planner that plays a script, one step per planning cycle, and records what it was given. */
function scripted(steps: Readonly<Record<number, ScriptStep>>) {
  const seen: { nowMs: number; cell: string; coldCopies: readonly ColdCopy[] | undefined }[] = [];
  const planMoves = (plannerInput: PlannerInput): MovementPlan => {
    const cycle = seen.length;
    const p = plannerInput.partitions[0];
    seen.push({ nowMs: plannerInput.nowMs, cell: p.cell, coldCopies: p.coldCopies && [...p.coldCopies] });
    const step = steps[cycle] ?? {};
    const moves: PlannedMove[] = step.move
      ? [
          {
            partition: 'p',
            from: p.cell,
            to: step.move.to,
            bytes: SIZE,
            priority: 1,
            startByMs: plannerInput.nowMs,
            deadlineMs: plannerInput.nowMs,
            expectedDurationMs: 0,
            benefit: 1,
            reasons: {},
            retainSource: step.move.retainSource ?? false,
          },
        ]
      : [];
    return {
      createdAtMs: plannerInput.nowMs,
      moves,
      costBefore: 0,
      costAfter: 0,
      deferred: {},
      capacityForecast: [],
      coldCopyDrops: step.drops ?? [],
    };
  };
  return { seen, deps: { ...testDeps, planMoves } };
}

const options = { ...DEFAULT_SIMULATION_OPTIONS, warmupMs: 0, horizonMs: 30 * MIN };

describe('ClusterSimulator: retained cold copies', () => {
  it('retains the source, shows the copy to the planner, and a move back copies only the writes since', () => {
    const { seen, deps } = scripted({
      0: { move: { to: 'w1', retainSource: true } },
      4: { move: { to: 'e1' } },
    });
    const result = simulatePolicy(input(6), 'oracle', deps, options);
    // 60 MB at 1 MB/s: the cutover is 60 s in, and the copy's watermark is the cutover.
    const watermarkMs = T0 + 60_000;
    expect(seen[1]).toEqual({ nowMs: T0 + BUCKET, cell: 'w1', coldCopies: [{ cell: 'e1', watermarkMs }] });
    expect(seen[4].coldCopies).toEqual([{ cell: 'e1', watermarkMs }]);
    // Back on e1, the copy is the primary; w1 kept nothing (that move did not retain).
    expect(seen[5]).toMatchObject({ cell: 'e1', coldCopies: undefined });
    // Bucket 0's writes count from its end (a copy retained inside a bucket sees that bucket's writes as delta).
    const delta = 4 * DELTA_PER_BUCKET;
    expect(delta).toBeLessThan(SIZE);
    expect(result.metrics.moves).toBe(2);
    expect(result.metrics.bytesMoved).toBeCloseTo(SIZE + delta, 0);
    expect(result.details.deltaMoves).toBe(1);
    // Stored: both cells from the first move's start until the move back's cutover (delta / 1 MB/s after bucket 4).
    const backAtS = 4 * 900 + delta / 1e6;
    const totalS = 6 * 900;
    expect(result.metrics.storedBytesAvg).toBeCloseTo(
      (2 * SIZE * backAtS + SIZE * (totalS - backAtS)) / totalS,
      0,
    );
    // The copy alone: from the first cutover (within its sub-step) until the move back lands on it.
    const coldS = result.details.coldCopyBytesAvg * (totalS / SIZE);
    expect(coldS).toBeGreaterThan(backAtS - 120);
    expect(coldS).toBeLessThan(backAtS);
  });

  it('a move without retain removes its source, as before', () => {
    const { seen, deps } = scripted({ 0: { move: { to: 'w1' } }, 2: { move: { to: 'e1' } } });
    const result = simulatePolicy(input(4), 'oracle', deps, options);
    expect(seen[1].coldCopies).toBeUndefined();
    expect(result.metrics.bytesMoved).toBeCloseTo(2 * SIZE, 0);
    expect(result.details.deltaMoves).toBe(0);
    expect(result.details.coldCopyBytesAvg).toBe(0);
  });

  it("a dropped copy leaves the cell's stored bytes, and the planner no longer sees it", () => {
    const drop: ColdCopyDrop = { partition: 'p', cell: 'e1', bytes: SIZE, reason: 'age' };
    const { seen, deps } = scripted({ 0: { move: { to: 'w1', retainSource: true } }, 2: { drops: [drop] } });
    const result = simulatePolicy(input(4), 'oracle', deps, options);
    expect(seen[2].coldCopies).toHaveLength(1);
    expect(seen[3].coldCopies).toBeUndefined();
    expect(result.details.coldCopiesDropped).toBe(1);
    // Two copies of the partition from the first move's start until the drop at the start of bucket 2.
    expect(result.metrics.storedBytesAvg).toBeCloseTo((2 * SIZE * 2 * 900 + SIZE * 2 * 900) / (4 * 900), 0);
  });

  it('a copy on a cell that retires goes with its table', () => {
    const at = new Date(T0 + 2 * BUCKET).toISOString();
    const { seen, deps } = scripted({ 0: { move: { to: 'w1', retainSource: true } } });
    const result = simulatePolicy(
      input(4, [{ at, action: 'remove', cellId: 'e1' }]),
      'oracle',
      deps,
      options,
    );
    // e1 holds no primary: it retires at once when removed, and its copy is gone with it.
    expect(seen[2].coldCopies).toBeUndefined();
    expect(result.details.cellsRetired).toBe(1);
    expect(result.metrics.storedBytesAvg).toBeCloseTo((2 * SIZE * 2 * 900 + SIZE * 2 * 900) / (4 * 900), -5);
  });
});
