import { describe, expect, it } from 'vitest';
import type { CapacityShortfall } from '../../../../src/domain/planning/movement-plan.ts';
import {
  regionsHeldFromScaleIn,
  triggerShortfalls,
} from '../../../../src/domain/scaling/shortfall-trigger.ts';

const NOW = Date.UTC(2024, 0, 1);
const NEXT = NOW + 3_600_000;
const shortfall = (region: string, scaleOutByMs: number, cellsNeeded = 1): CapacityShortfall => ({
  region,
  atMs: scaleOutByMs + 20 * 60_000,
  scaleOutByMs,
  peakDemandOpsPerSec: 1000,
  usableCapacityOpsPerSec: 800,
  cellsNeeded,
});

describe('triggerShortfalls', () => {
  it('confirms a due shortfall only when its region was due in the previous cycle too', () => {
    const shortfalls = [shortfall('east', NOW + 10 * 60_000), shortfall('west', NOW - 60_000)];
    const first = triggerShortfalls({ shortfalls, nextCycleMs: NEXT });
    expect(first).toEqual({ shortRegions: ['east', 'west'], confirmed: [] });
    const second = triggerShortfalls({ shortfalls, nextCycleMs: NEXT, previous: { shortRegions: ['west'] } });
    expect(second.confirmed.map((s) => s.region)).toEqual(['west']);
    expect(second.shortRegions).toEqual(['east', 'west']);
  });

  it('is not due while its latest start falls after the next cycle, nor when it needs no cell', () => {
    const later = triggerShortfalls({
      shortfalls: [shortfall('east', NEXT + 1), shortfall('west', NOW, 0)],
      nextCycleMs: NEXT,
      previous: { shortRegions: ['east', 'west'] },
    });
    expect(later).toEqual({ shortRegions: [], confirmed: [] });
    // Exactly at the next cycle it is due (a later start would come after it).
    const atNext = triggerShortfalls({ shortfalls: [shortfall('east', NEXT)], nextCycleMs: NEXT });
    expect(atNext.shortRegions).toEqual(['east']);
  });

  it('holds back from scale-in every region short now and every region scaling out', () => {
    const trigger = triggerShortfalls({ shortfalls: [shortfall('west', NOW)], nextCycleMs: NEXT });
    expect(regionsHeldFromScaleIn(trigger, ['east', 'west'])).toEqual(['east', 'west']);
    expect(regionsHeldFromScaleIn(trigger, [])).toEqual(['west']);
  });
});
