import { canaryPointOf } from '../data-plane/key-hash.ts';
import type { PartitionRecord } from '../data-plane/partition-record.ts';

/** Where a read goes. `newest` reads every listed cell and returns the state with the highest HLC. */
export type ReadRoute =
  | { readonly kind: 'one'; readonly cell: string }
  | { readonly kind: 'newest'; readonly cells: readonly [string, string]; readonly repair: boolean };

/**
 * Where a write goes. `mirrored` writes the primary, then copies the result to the mirror (forward-only); the
 * write is acknowledged only once the mirror holds it (or a newer state).
 */
export type WriteRoute =
  | { readonly kind: 'primary'; readonly cell: string }
  | { readonly kind: 'mirrored'; readonly primary: string; readonly mirror: string }
  | { readonly kind: 'fenced' };

/**
 * Route a read. While reads shift, a key is sent to the target when its sticky canary point is below the read
 * weight, so a key never flips back as the weight grows. `sampleRepair` (drawn by the caller) turns the read
 * into a read-repair: both copies are read, the newer is returned, the older repaired.
 */
export function routeRead(record: PartitionRecord, key: string, sampleRepair: boolean): ReadRoute {
  const { routing } = record;
  switch (routing.phase) {
    case 'stable':
    case 'preparing':
    case 'mirroring':
    case 'switched':
      return { kind: 'one', cell: record.cell };
    case 'shifting': {
      const peer = routing.peer!;
      if (sampleRepair) return { kind: 'newest', cells: [record.cell, peer], repair: true };
      return { kind: 'one', cell: canaryPointOf(key) < routing.readWeight ? peer : record.cell };
    }
    case 'fenced':
      // The primary may still receive late writes from interceptors whose leases are running out, and the
      // peer may already be ahead after a reverse cutover: the newer of the two copies is always right.
      return { kind: 'newest', cells: [record.cell, routing.peer!], repair: false };
  }
}

export function routeWrite(record: PartitionRecord): WriteRoute {
  const { routing } = record;
  switch (routing.phase) {
    case 'stable':
    case 'preparing':
    case 'switched':
      return { kind: 'primary', cell: record.cell };
    case 'mirroring':
    case 'shifting':
      return { kind: 'mirrored', primary: record.cell, mirror: routing.peer! };
    case 'fenced':
      return { kind: 'fenced' };
  }
}
