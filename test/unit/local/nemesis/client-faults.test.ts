import { describe, expect, it } from 'vitest';
import type { CellDataStore, CellDataStores } from '../../../../src/domain/data-plane/ports.ts';
import type { StoredItem } from '../../../../src/domain/data-plane/stored-item.ts';
import { DroppedRequestError, withClientPathFaults } from '../../../../src/local/nemesis/client-faults.ts';

/** Stores that record which of their methods were called, per cell. */
function recordingStores(calls: string[]): CellDataStores {
  return {
    forCell: (cellId) =>
      ({
        cellId,
        getItem: async () => {
          calls.push(`${cellId}:getItem`);
          return undefined;
        },
        writeUserItem: async () => {
          calls.push(`${cellId}:writeUserItem`);
          return { applied: true, version: 1 };
        },
        putIfNewer: async () => {
          calls.push(`${cellId}:putIfNewer`);
          return true;
        },
        queryShard: async () => {
          calls.push(`${cellId}:queryShard`);
          return { items: [] };
        },
      }) as unknown as CellDataStore,
  };
}

const regionOfCell = (cell: string) => (cell.startsWith('eu') ? 'eu-west-1' : 'us-east-1');
const item = { partition: 'p', shard: 0, key: 'k' } as StoredItem;

describe('client path faults', () => {
  it('drops writes to cells of another region before they reach them, and only those', async () => {
    const calls: string[] = [];
    const stores = withClientPathFaults(recordingStores(calls), {
      region: 'us-east-1',
      regionOfCell,
      random: () => 0,
      dropRemoteWriteRate: 0.5,
    });
    await expect(stores.forCell('eu-c1').putIfNewer(item)).rejects.toBeInstanceOf(DroppedRequestError);
    await expect(stores.forCell('eu-c1').writeUserItem({} as never)).rejects.toBeInstanceOf(
      DroppedRequestError,
    );
    await stores.forCell('eu-c1').getItem(item);
    await stores.forCell('us-c1').putIfNewer(item);
    await stores.forCell('us-c1').queryShard('p', 0, { limit: 1 });
    expect(calls).toEqual(['eu-c1:getItem', 'us-c1:putIfNewer', 'us-c1:queryShard']);
  });

  it('drops at its rate and delays reads at theirs', async () => {
    const calls: string[] = [];
    const draws = [0.7, 0.2, 0.1, 0.5];
    const stores = withClientPathFaults(recordingStores(calls), {
      region: 'us-east-1',
      regionOfCell,
      random: () => draws.shift() ?? 0.99,
      dropRemoteWriteRate: 0.5,
      lateReads: { rate: 0.3, delayMs: 60 },
    });
    await stores.forCell('eu-c1').putIfNewer(item); // 0.7: sent
    await expect(stores.forCell('eu-c1').putIfNewer(item)).rejects.toThrow(/dropped/); // 0.2: dropped
    const started = Date.now();
    await stores.forCell('us-c1').getItem(item); // 0.1: late, by 60 ms × (1 + 0.5)
    expect(Date.now() - started).toBeGreaterThanOrEqual(85);
    expect(calls).toEqual(['eu-c1:putIfNewer', 'us-c1:getItem']);
  });

  it('returns the stores themselves when no fault is set', () => {
    const stores = recordingStores([]);
    expect(withClientPathFaults(stores, { region: 'us-east-1', regionOfCell, random: Math.random })).toBe(
      stores,
    );
  });
});
