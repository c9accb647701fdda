import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rangeBucketOf } from '../../../../src/domain/data-plane/key-hash.ts';
import { differingRanges, ShardChecksums } from '../../../../src/domain/migration/range-checksum.ts';
import { assertProperty } from '../../../support/property.ts';

const itemArb = fc.record({
  key: fc.string({ minLength: 1, maxLength: 12 }),
  hlc: fc.stringMatching(/^\d{6}$/),
  deleted: fc.boolean(),
});

function checksums(items: { key: string; hlc: string; deleted: boolean }[]) {
  const sums = new ShardChecksums();
  for (const item of items) sums.add(rangeBucketOf(item.key), item.key, item.hlc, item.deleted);
  return sums.ranges;
}

describe('range checksums', () => {
  it('do not depend on the order items are read in', () => {
    assertProperty(
      fc.property(
        fc.uniqueArray(itemArb, { selector: (i) => i.key, maxLength: 60 }),
        fc.integer(),
        (items, seed) => {
          const shuffled = [...items].sort(
            (a, b) => ((a.key.charCodeAt(0) * seed) % 7) - ((b.key.charCodeAt(0) * seed) % 7),
          );
          expect(differingRanges(checksums(items), checksums(shuffled))).toEqual([]);
        },
      ),
    );
  });

  it('flag exactly the range of a missing, stale or resurrected item', () => {
    assertProperty(
      fc.property(
        fc.uniqueArray(itemArb, { selector: (i) => i.key, minLength: 1, maxLength: 60 }),
        fc.nat(),
        fc.constantFrom('missing', 'stale', 'tombstone'),
        (items, pick, change) => {
          const victim = items[pick % items.length];
          const other = items
            .filter((i) => i !== victim)
            .concat(
              change === 'missing'
                ? []
                : change === 'stale'
                  ? [{ ...victim, hlc: `${victim.hlc}x` }]
                  : [{ ...victim, deleted: !victim.deleted }],
            );
          expect(differingRanges(checksums(items), checksums(other))).toEqual([rangeBucketOf(victim.key)]);
        },
      ),
    );
  });
});
