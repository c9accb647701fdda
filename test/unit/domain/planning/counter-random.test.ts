import { describe, expect, it } from 'vitest';
import { CounterRandom } from '../../../../src/domain/planning/counter-random.ts';
import { seededRandom } from '../../../../src/domain/seeded-random.ts';

/**
 * The planner's restarts used seededRandom; CounterRandom must give the same numbers, draw for draw, or the
 * plans change. `skip` + `drawAt` must give the draws the skipped run would have, and leave the stream where
 * drawing them would have left it.
 */
describe('CounterRandom', () => {
  const seeds = [0, 1, 0x5eed + 2000, 0xffffffff, 2 ** 31 + 12_345];

  it('draws seededRandom’s sequence', () => {
    for (const seed of seeds) {
      const reference = seededRandom(seed);
      const random = new CounterRandom(seed);
      for (let i = 0; i < 10_000; i++) expect(random.next()).toBe(reference());
    }
  });

  it('skip(n) then drawAt(base, i) gives the skipped draws, and the stream goes on after them', () => {
    for (const seed of seeds) {
      const reference = seededRandom(seed);
      const random = new CounterRandom(seed);
      // Interleave draws and skips of varied lengths (past 2^32 / step, so the counter wraps).
      for (const count of [0, 1, 7, 2000, 150_000, 3]) {
        const skipped = Array.from({ length: count }, () => reference());
        const base = random.skip(count);
        for (let i = 0; i < count; i++) expect(CounterRandom.drawAt(base, i)).toBe(skipped[i]);
        for (let i = 0; i < 5; i++) expect(random.next()).toBe(reference());
      }
    }
  });

  it('control: an off-by-one index or a stream left behind is caught', () => {
    const reference = seededRandom(99);
    const random = new CounterRandom(99);
    const skipped = Array.from({ length: 10 }, () => reference());
    const base = random.skip(10);
    expect(CounterRandom.drawAt(base, 1)).not.toBe(skipped[0]);
    expect(CounterRandom.drawAt(base, 0)).toBe(skipped[0]);
    // Not skipping leaves the stream 10 draws behind.
    expect(new CounterRandom(99).next()).not.toBe(reference());
  });
});
