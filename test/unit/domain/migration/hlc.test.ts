import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareHlc,
  decodeHlc,
  encodeHlc,
  HybridLogicalClock,
  hlcLowerBound,
  hlcWallMs,
} from '../../../../src/domain/migration/hlc.ts';
import { assertProperty } from '../../../support/property.ts';

const hlcArb = fc.record({
  wallMs: fc.integer({ min: 0, max: 10 ** 14 }),
  logical: fc.integer({ min: 0, max: 999_999 }),
  node: fc.stringMatching(/^[a-z0-9]{1,8}$/),
});

describe('hybrid logical clock', () => {
  it('encodes so that string order is (wall, logical, node) order, and decodes back', () => {
    assertProperty(
      fc.property(hlcArb, hlcArb, (a, b) => {
        const tuple =
          a.wallMs - b.wallMs || a.logical - b.logical || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
        expect(Math.sign(compareHlc(encodeHlc(a), encodeHlc(b)))).toBe(Math.sign(tuple));
        expect(decodeHlc(encodeHlc(a))).toEqual(a);
      }),
    );
  });

  it('lower bounds sit at or below every HLC of that millisecond and above earlier ones', () => {
    assertProperty(
      fc.property(hlcArb, (a) => {
        expect(encodeHlc(a) >= hlcLowerBound(a.wallMs)).toBe(true);
        expect(encodeHlc(a) < hlcLowerBound(a.wallMs + 1)).toBe(true);
        expect(hlcWallMs(encodeHlc(a))).toBe(a.wallMs);
      }),
    );
  });

  it('ticks strictly upwards even when the physical clock stalls or goes back', () => {
    assertProperty(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 200 }), (steps) => {
        let now = 1_000_000;
        const clock = new HybridLogicalClock('n1', () => now);
        let previous = '';
        for (const step of steps) {
          now += step;
          const next = clock.tick();
          expect(next > previous).toBe(true);
          previous = next;
        }
      }),
    );
  });

  it('after observing a remote HLC, the next tick is above it (a slow clock still wins the next write)', () => {
    assertProperty(
      fc.property(hlcArb, fc.integer({ min: 0, max: 10 ** 14 }), (remote, localNow) => {
        const clock = new HybridLogicalClock('local', () => localNow);
        const seen = encodeHlc(remote);
        clock.observe(seen);
        expect(clock.tick() > seen).toBe(true);
      }),
    );
  });

  it('rejects node ids that would break the encoding', () => {
    expect(() => new HybridLogicalClock('has.dot')).toThrow(RangeError);
    expect(() => decodeHlc('nope')).toThrow(RangeError);
  });
});
