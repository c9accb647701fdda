import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../../../src/domain/errors.ts';
import { estimatedDeltaBytes } from '../../../../src/domain/planning/cold-copies.ts';
import type {
  MovementPlan,
  PlannerInput,
  PlannerPartition,
} from '../../../../src/domain/planning/movement-plan.ts';
import { planMoves as planMovesByDefault } from '../../../../src/domain/planning/placement-planner.ts';
import type { PlannerOptions } from '../../../../src/domain/planning/planner-options.ts';
import { cell, GiB, NOW, partition, plannerInput, topology } from './planner-fixtures.ts';

/** Retained copies are off by default (issue 12: on until they pass the scenario suite); these tests turn them on. */
function planMoves(input: PlannerInput, options: PlannerOptions = {}): MovementPlan {
  return planMovesByDefault(input, { retainColdCopies: true, ...options });
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Retained copies in the planner: the per-move retain decision, delta-priced moves to a cell holding a copy,
 * the words of the plan, and the garbage collection of copies by age, staleness and storage budget.
 */

/** A partition on use1-a whose demand (ops/s per region) has moved to eu-west-1. */
function leaving(demand: Record<string, number>, extra: Partial<PlannerPartition> = {}): PlannerPartition {
  return partition('p', 'use1-a', demand, extra);
}

describe('planMoves: the retain decision', () => {
  /** 10 GiB, 1% writes: a copy's delta stays a few percent of the partition over the 12 h to a move back. */
  const readMostly = { sizeBytes: 10 * GiB, writeFraction: 0.01 };

  it('keeps the source as a cold copy when the source region still sends nearly as much as the target', () => {
    // A daily regional peak: eu-west-1 is ahead now, us-east-1 still sends 80% of that and takes over again.
    const plan = planMoves(plannerInput([leaving({ 'eu-west-1': 500, 'us-east-1': 400 }, readMostly)]));
    expect(plan.moves.map((m) => [m.partition, m.to.slice(0, 4)])).toEqual([['p', 'euw1']]);
    expect(plan.moves[0].retainSource).toBe(true);
    expect(plan.moves[0].notes).toEqual([
      expect.stringMatching(/^keeps a cold copy on use1-a \(move back p≈0\.80,/),
    ]);
  });

  it('does not keep a copy when the source region sends nothing (a misplaced partition never comes back)', () => {
    const plan = planMoves(plannerInput([leaving({ 'eu-west-1': 500 }, readMostly)]));
    expect(plan.moves).toHaveLength(1);
    expect(plan.moves[0].retainSource).toBe(false);
    expect(plan.moves[0].notes).toBeUndefined();
  });

  it('does not keep a copy when a move back is less likely than its storage is dear', () => {
    // p = 0.2: 0.2 × $0.02 per GB saved against 0.2 × 12 h + 0.8 × 1 day of storage at $0.25 per GB-month.
    const plan = planMoves(plannerInput([leaving({ 'eu-west-1': 500, 'us-east-1': 100 }, readMostly)]));
    expect(plan.moves[0].retainSource).toBe(false);
    // The same move retains when storage is (nearly) free.
    const cheap = planMoves(plannerInput([leaving({ 'eu-west-1': 500, 'us-east-1': 100 }, readMostly)]), {
      storageCostPerGBMonth: 0.001,
    });
    expect(cheap.moves[0].retainSource).toBe(true);
  });

  it('does not keep a copy of a move inside one region (load relief: nothing says when the load returns)', () => {
    const input = plannerInput(
      [partition('hot', 'use1-a', { 'us-east-1': 5000 }), partition('warm', 'use1-a', { 'us-east-1': 4000 })],
      { topology: topology([cell('use1-a', 'us-east-1', 10_000), cell('use1-b', 'us-east-1', 10_000)]) },
    );
    const plan = planMoves(input);
    expect(plan.moves).toHaveLength(1);
    expect(plan.moves[0].retainSource).toBe(false);
  });

  it('never retains when the option is off', () => {
    const plan = planMoves(plannerInput([leaving({ 'eu-west-1': 500, 'us-east-1': 400 }, readMostly)]), {
      retainColdCopies: false,
    });
    expect(plan.moves[0].retainSource).toBe(false);
  });
});

describe('planMoves: delta-priced moves to a cold copy', () => {
  /** Writes 100 ops/s × 0.2 = 20/s; 1 h since the watermark × 1 KiB per write = 72,000 KiB ≈ 70.3 MiB. */
  const copyAge = HOUR;
  const expectedDelta = estimatedDeltaBytes(20, copyAge, GiB, 1024);

  it('moves to the cell holding the copy, ships only the delta, and says so in its notes', () => {
    const input = plannerInput([
      leaving({ 'eu-west-1': 100 }, { coldCopies: [{ cell: 'euw1-b', watermarkMs: NOW - copyAge }] }),
    ]);
    const plan = planMoves(input);
    expect(plan.moves).toHaveLength(1);
    const move = plan.moves[0];
    // euw1-a and euw1-b are alike but for the copy: the copy's cell wins on transfer and copy time.
    expect(move.to).toBe('euw1-b');
    expect(move.bytes).toBeCloseTo(expectedDelta, 6);
    expect(expectedDelta).toBeLessThan(0.1 * GiB);
    expect(move.delta).toEqual({ sizeBytes: GiB, watermarkMs: NOW - copyAge });
    expect(move.notes).toContain('delta move, ~70.3 MiB');
    // Priced as the delta: the transfer term is the delta's, well below the full partition's $0.02 + overhead.
    const full = planMoves(plannerInput([leaving({ 'eu-west-1': 100 })]));
    expect(full.moves[0].bytes).toBe(GiB);
    expect(-(move.reasons.transferCost ?? 0)).toBeLessThan(-(full.moves[0].reasons.transferCost ?? 0));
    expect(move.expectedDurationMs).toBeLessThan(full.moves[0].expectedDurationMs);
  });

  it('takes a measured delta from the data plane over its own estimate', () => {
    const plan = planMoves(
      plannerInput([
        leaving(
          { 'eu-west-1': 100 },
          { coldCopies: [{ cell: 'euw1-b', watermarkMs: NOW - copyAge, deltaBytes: 5 * 2 ** 20 }] },
        ),
      ]),
    );
    expect(plan.moves[0].bytes).toBe(5 * 2 ** 20);
    expect(plan.moves[0].notes).toContain('delta move, ~5.0 MiB');
  });

  it('a copy on a busy cell is priced as a full move: the quiet cell of the region wins (issue 12 overload)', () => {
    // euw1-b holds the copy but a resident keeps it at 60% (above the 50% first knee); euw1-a is idle.
    const copy = { coldCopies: [{ cell: 'euw1-b', watermarkMs: NOW - copyAge }] };
    const busy = partition('resident', 'euw1-b', { 'eu-west-1': 6000 });
    const plan = planMoves(plannerInput([leaving({ 'eu-west-1': 100 }, copy), busy]));
    const move = plan.moves.find((m) => m.partition === 'p');
    expect(move?.to).toBe('euw1-a');
    expect(move?.bytes).toBe(GiB);
    // With no limit on the discount the delta's few cents pick the busy cell, as before the rule.
    const unlimited = planMoves(plannerInput([leaving({ 'eu-west-1': 100 }, copy), busy]), {
      coldCopyDiscountUtilization: Number.POSITIVE_INFINITY,
    });
    expect(unlimited.moves.find((m) => m.partition === 'p')?.to).toBe('euw1-b');
  });

  it('a copy too stale to be worth it is priced as a full move, and dropped', () => {
    // 3 days old: beyond the 1-day maximum age.
    const plan = planMoves(
      plannerInput([
        leaving({ 'eu-west-1': 100 }, { coldCopies: [{ cell: 'euw1-b', watermarkMs: NOW - 3 * DAY }] }),
      ]),
    );
    expect(plan.moves[0].bytes).toBe(GiB);
    expect(plan.moves[0].delta).toBeUndefined();
    expect(plan.coldCopyDrops).toEqual([{ partition: 'p', cell: 'euw1-b', bytes: GiB, reason: 'age' }]);
  });

  it('the delta makes a move back worth it where a full copy is not: the hysteresis sees the cheaper move', () => {
    // A locality gain of about $0.079 over the horizon: a full copy costs $0.07 ($0.02 + $0.05 overhead) and
    // leaves less than the $0.021 threshold; a 1 MiB delta costs $0.05 and clears it.
    const demand = { 'eu-west-1': 6.2, 'us-east-1': 1.55 };
    expect(planMoves(plannerInput([leaving(demand)])).moves).toEqual([]);
    const withCopy = planMoves(
      plannerInput([
        leaving(demand, {
          coldCopies: [{ cell: 'euw1-a', watermarkMs: NOW - HOUR, deltaBytes: 2 ** 20 }],
        }),
      ]),
    );
    expect(withCopy.moves.map((m) => m.to)).toEqual(['euw1-a']);
  });

  it('rejects a copy on an unknown cell or with a bad watermark, naming the field', () => {
    const bad = (copy: { cell: string; watermarkMs: number; deltaBytes?: number }) => () =>
      planMoves(plannerInput([leaving({ 'eu-west-1': 100 }, { coldCopies: [copy] })]));
    expect(bad({ cell: 'nowhere', watermarkMs: NOW })).toThrow(InputValidationError);
    expect(bad({ cell: 'nowhere', watermarkMs: NOW })).toThrow(/partitions\[0\]\.coldCopies\[0\]\.cell/);
    expect(bad({ cell: 'euw1-a', watermarkMs: Number.NaN })).toThrow(/coldCopies\[0\]\.watermarkMs/);
    expect(bad({ cell: 'euw1-a', watermarkMs: NOW, deltaBytes: -1 })).toThrow(/coldCopies\[0\]\.deltaBytes/);
  });
});

describe('planMoves: garbage collection of cold copies', () => {
  /** Partitions at home with no reason to move, each with a copy in eu-west-1 of the given age. */
  function resting(ages: readonly number[], sizeBytes = GiB): PlannerPartition[] {
    return ages.map((age, i) =>
      partition(
        `p${i}`,
        'use1-a',
        { 'us-east-1': 10 },
        {
          sizeBytes,
          coldCopies: [{ cell: 'euw1-a', watermarkMs: NOW - age }],
        },
      ),
    );
  }

  /** The fixture's 2 regions: the stored-bytes ceiling (0.2× the primaries there) lifted, to test the rest alone. */
  const noCeiling = { storedBytesCeilingShare: 1 };

  it('keeps young copies within the budget, and drops by age', () => {
    const plan = planMoves(plannerInput(resting([HOUR, 3 * DAY])), noCeiling);
    expect(plan.moves).toEqual([]);
    expect(plan.coldCopyDrops).toEqual([{ partition: 'p1', cell: 'euw1-a', bytes: GiB, reason: 'age' }]);
  });

  it('drops a copy whose delta is beyond the share worth keeping (stale)', () => {
    const plan = planMoves(
      plannerInput([
        partition(
          'busy',
          'use1-a',
          { 'us-east-1': 10 },
          {
            coldCopies: [{ cell: 'euw1-a', watermarkMs: NOW - HOUR, deltaBytes: 0.6 * GiB }],
          },
        ),
      ]),
    );
    expect(plan.coldCopyDrops).toEqual([{ partition: 'busy', cell: 'euw1-a', bytes: GiB, reason: 'stale' }]);
  });

  it('keeps the copies within the storage budget, dropping the oldest first', () => {
    // Four 1 GiB copies against a budget of 0.5 × 4 GiB of primaries: the two oldest go.
    const plan = planMoves(plannerInput(resting([1 * HOUR, 4 * HOUR, 2 * HOUR, 3 * HOUR])), noCeiling);
    expect(plan.coldCopyDrops?.map((d) => [d.partition, d.reason])).toEqual([
      ['p1', 'budget'],
      ['p3', 'budget'],
    ]);
  });

  it('keeps primaries and copies within the stored-bytes ceiling: with 2 regions, copies hold 0.2× the primaries', () => {
    // Ten 1 GiB primaries, ten 1 GiB copies in eu-west-1. Full replication stores 20 GiB; the 0.6 ceiling leaves
    // 12 GiB, so 2 GiB of copies (below the 0.5 share's 5 GiB): the 8 oldest go.
    const ages = Array.from({ length: 10 }, (_, i) => (i + 1) * HOUR);
    const plan = planMoves(plannerInput(resting(ages)));
    expect(plan.coldCopyDrops?.map((d) => d.partition).sort()).toEqual(
      ['p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9'].sort(),
    );
    expect(new Set(plan.coldCopyDrops?.map((d) => d.reason))).toEqual(new Set(['budget']));
    // Negative control: without the ceiling only the 0.5 share binds, and 5 copies stay.
    expect(planMoves(plannerInput(resting(ages)), noCeiling).coldCopyDrops).toHaveLength(5);
    // With a third region the ceiling (3 × 0.6 − 1 = 0.8× the primaries) is looser than the share: 5 stay.
    const threeRegions = topology(
      [cell('use1-a', 'us-east-1'), cell('euw1-a', 'eu-west-1'), cell('apne1-a', 'ap-northeast-1')],
      {
        regions: {
          'us-east-1': { utcOffsetHours: -5 },
          'eu-west-1': { utcOffsetHours: 0 },
          'ap-northeast-1': { utcOffsetHours: 9 },
        },
        latencyMs: {
          'us-east-1': { 'eu-west-1': 80, 'ap-northeast-1': 150 },
          'eu-west-1': { 'ap-northeast-1': 220 },
        },
      },
    );
    expect(planMoves(plannerInput(resting(ages), { topology: threeRegions })).coldCopyDrops).toHaveLength(5);
  });

  it("keeps each cell's primaries and copies below its byte limit", () => {
    // euw1-a holds 30 GiB of primaries in 40 GiB at 0.8 headroom: 2 GiB of room, so one of two 1.5 GiB copies goes.
    const cells = [cell('use1-a', 'us-east-1'), cell('euw1-a', 'eu-west-1', 10_000, 40 * GiB)];
    const home = Array.from({ length: 20 }, (_, i) =>
      partition(`e${i}`, 'euw1-a', { 'eu-west-1': 1 }, { sizeBytes: 1.5 * GiB }),
    );
    const plan = planMoves(
      plannerInput([...home, ...resting([HOUR, 2 * HOUR], 1.5 * GiB)], { topology: topology(cells) }),
      { coldCopyBudgetShare: 1, ...noCeiling },
    );
    expect(plan.coldCopyDrops).toEqual([
      { partition: 'p1', cell: 'euw1-a', bytes: 1.5 * GiB, reason: 'budget' },
    ]);
  });

  it('drops copies on a draining cell, and never the copy a move of this plan lands on', () => {
    const plan = planMoves(
      plannerInput(
        [
          partition(
            'back',
            'use1-a',
            { 'eu-west-1': 100 },
            { coldCopies: [{ cell: 'euw1-b', watermarkMs: NOW - HOUR }] },
          ),
          partition(
            'idle',
            'use1-a',
            { 'us-east-1': 10 },
            { coldCopies: [{ cell: 'euw1-a', watermarkMs: NOW - HOUR }] },
          ),
        ],
        { cellStatus: { 'euw1-a': 'DRAINING' } },
      ),
    );
    expect(plan.moves.map((m) => [m.partition, m.to])).toEqual([['back', 'euw1-b']]);
    expect(plan.coldCopyDrops).toEqual([
      { partition: 'idle', cell: 'euw1-a', bytes: GiB, reason: 'cellLeaving' },
    ]);
  });
});
