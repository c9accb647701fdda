import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellDataStore, CellDataStores } from '../../../src/domain/data-plane/ports.ts';
import { type MigrationState, migrationInputSchema } from '../../../src/domain/migration/migration-state.ts';
import type { EmbeddedCluster } from '../../../src/local/embedded-cluster.ts';
import type { MigrationDeps } from '../../../src/migration/migration-deps.ts';
import { acquire, copy, createReplica } from '../../../src/migration/migration-steps.ts';
import { migrationRunner } from '../../support/migration-harness.ts';
import { clientOn, startTestCluster } from '../../support/test-cluster.ts';

const ITEMS = 120;
const PAGE = 10;

/** Stores whose every Query page "takes" `pageMs` on the step's monotonic clock (no real sleeping). */
function slowQueryStores(
  stores: CellDataStores,
  clock: { offsetMs: number },
  pageMs: number,
): CellDataStores {
  const wrap = (store: CellDataStore): CellDataStore =>
    new Proxy(store, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === 'queryShard') {
          return async (...args: Parameters<CellDataStore['queryShard']>) => {
            const page = await target.queryShard(...args);
            clock.offsetMs += pageMs;
            return page;
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return { forCell: (cellId: string) => wrap(stores.forCell(cellId)) };
}

describe('copy step progress', () => {
  let cluster: EmbeddedCluster;
  beforeAll(async () => {
    cluster = await startTestCluster(['us-east-1', 'eu-west-1'], 1);
  });
  afterAll(async () => {
    await cluster.close();
  });

  it('writes at least one page per invocation when one page takes longer than stepBudgetMs', async () => {
    const client = clientOn(cluster);
    for (let i = 0; i < ITEMS; i++) await client.put('slow-pages', `k-${i}`, { i });
    const before = (await cluster.partitions.get('slow-pages'))!;
    const target = cluster.cellIds().find((c) => c !== before.cell)!;

    const { deps: base } = migrationRunner(cluster, {
      tuning: { stepBudgetMs: 1, queryPageItems: PAGE, copyItemsPerInvocation: 1_000 },
    });
    const clock = { offsetMs: 0 };
    // One page "takes" far longer than the budget and the lease's request time together.
    const pageMs = 100 * (base.tuning.stepBudgetMs + base.lease.maxRequestMs);
    const deps: MigrationDeps = {
      ...base,
      stores: slowQueryStores(base.stores, clock, pageMs),
      monoNow: () => base.monoNow() + clock.offsetMs,
    };

    let state: MigrationState = {
      input: migrationInputSchema.parse({ partition: 'slow-pages', targetCell: target }),
      migrationId: 'copy-progress-1',
      startedAt: new Date().toISOString(),
    };
    state = { ...state, acquire: await acquire(deps, state) };
    state = { ...state, replica: await createReplica(deps, state) };

    const copiedPerInvocation: number[] = [];
    for (let invocation = 0; invocation < 50 && !state.copy?.done; invocation++) {
      const result = await copy(deps, state);
      copiedPerInvocation.push(result.itemsCopied - (state.copy?.itemsCopied ?? 0));
      state = { ...state, copy: result };
    }

    expect(state.copy?.done).toBe(true);
    expect(state.copy?.itemsCopied).toBe(ITEMS);
    // Every invocation made progress: at least one page, never a spin that copies nothing.
    for (const copied of copiedPerInvocation) expect(copied).toBeGreaterThan(0);
    // The budget did bind: a page per shard per invocation, so the copy took several invocations.
    expect(copiedPerInvocation.length).toBeGreaterThan(1);

    const targetStore = cluster.stores.forCell(target);
    let onTarget = 0;
    for (let shard = 0; shard < before.shards; shard++) {
      let after: string | undefined;
      do {
        const page = await targetStore.queryShard('slow-pages', shard, { startAfter: after, limit: 100 });
        onTarget += page.items.length;
        after = page.lastKey;
      } while (after !== undefined);
    }
    expect(onTarget).toBe(ITEMS);
  });
});
