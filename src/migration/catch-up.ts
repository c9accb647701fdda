import type { CellDataStore } from '../domain/data-plane/ports.ts';
import { hlcLowerBound } from '../domain/migration/hlc.ts';
import type { CatchUpResult } from '../domain/migration/migration-state.ts';
import { changeWindowMs } from '../domain/migration/routing-lease.ts';
import { mapBounded } from '../support/bounded-parallel.ts';
import type { MigrationDeps } from './migration-deps.ts';

export interface SyncPair {
  readonly partition: string;
  readonly shards: number;
  readonly from: CellDataStore;
  readonly to: CellDataStore;
}

export function initialCatchUp(sinceHlc: string): CatchUpResult {
  return {
    sinceHlc,
    roundStartedAtMs: null,
    resume: null,
    rounds: 0,
    changedInRound: 0,
    changedInLastRound: 0,
    itemsShipped: 0,
    caughtUp: false,
  };
}

/**
 * One (possibly partial) catch-up round: ship every item of `from` whose changes-index entry is at or above the
 * round's bound to `to`, with forward-only conditional writes (so order, duplicates and zombie retries cannot
 * move an item backwards). The index is read shard by shard in HLC order.
 *
 * Why the bounds are enough: an acknowledged write that lands at real time t carries an HLC of at least
 * t − maxRequest·(1+ρ) − skew (it took its HLC at most maxRequest before landing, on a clock at most skew
 * behind), and is in the index by t + indexLag. A round that starts at R reads the index after R, so it sees
 * every write that landed before R − indexLag; the next round's bound, R − changeWindow (the sum of the three),
 * is at or below the HLC of every acknowledged write that landed after that. By induction, once a round that
 * started at R completes, `to` holds every acknowledged write that landed on `from` before R − indexLag.
 *
 * Stops early when the item or time budget runs out, and resumes from per-shard cursors.
 */
export async function catchUpRound(
  deps: MigrationDeps,
  pair: SyncPair,
  previous: CatchUpResult,
  budget: { items: number; deadlineMono: number },
): Promise<CatchUpResult> {
  const starting = previous.resume === null;
  const roundStartedAtMs = starting ? deps.wallNow() : previous.roundStartedAtMs!;
  const cursors = starting
    ? Array.from({ length: pair.shards }, () => ({
        next: null as { key: string; hlc: string } | null,
        done: false,
      }))
    : previous.resume!.map((c) => ({ ...c }));
  let changed = starting ? 0 : previous.changedInRound;
  let shipped = 0;
  let examined = 0;
  const pageItems = deps.tuning.queryPageItems;
  const outOfBudget = () => examined >= budget.items || deps.monoNow() >= budget.deadlineMono;

  await mapBounded(cursors, deps.tuning.shardConcurrency, async (cursor, shard) => {
    while (!cursor.done && !outOfBudget()) {
      const page = await pair.from.queryChanges(pair.partition, shard, {
        sinceHlc: previous.sinceHlc,
        startAfter: cursor.next ?? undefined,
        limit: pageItems,
      });
      examined += page.changes.length;
      if (page.changes.length > 0) {
        // Ask the target which of these it already has (keys and HLCs only), so values cross regions once
        // even though consecutive rounds overlap by the change window.
        const held = await pair.to.probeVersions(page.changes.map((c) => c.address));
        const needed = page.changes.filter((c) => {
          const hlc = held.get(c.address.key);
          return hlc === undefined || hlc < c.hlc;
        });
        // The lag is what the target is missing, not what the overlapping window shows again.
        changed += needed.length;
        if (needed.length > 0) {
          const items = await pair.from.batchGet(needed.map((c) => c.address));
          const written = await mapBounded(items, deps.tuning.writeConcurrency, (item) =>
            pair.to.putIfNewer(item),
          );
          shipped += written.filter(Boolean).length;
        }
      }
      cursor.next = page.next ?? null;
      cursor.done = page.next === undefined;
    }
  });

  const complete = cursors.every((c) => c.done);
  if (!complete) {
    return {
      ...previous,
      roundStartedAtMs,
      resume: cursors,
      changedInRound: changed,
      itemsShipped: previous.itemsShipped + shipped,
      caughtUp: false,
    };
  }
  const rounds = previous.rounds + 1;
  return {
    sinceHlc: hlcLowerBound(roundStartedAtMs - changeWindowMs(deps.lease)),
    roundStartedAtMs: null,
    resume: null,
    rounds,
    changedInRound: 0,
    changedInLastRound: changed,
    itemsShipped: previous.itemsShipped + shipped,
    caughtUp: changed <= deps.tuning.catchUpLagItems || rounds >= deps.tuning.maxCatchUpRounds,
  };
}
