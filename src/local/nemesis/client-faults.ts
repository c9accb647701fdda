import type { CellDataStore, CellDataStores } from '../../domain/data-plane/ports.ts';
import { sleep } from './run-support.ts';

/**
 * Faults on one client's path to the cells, as a wrapper around the data stores that client uses (the migration
 * steps and the other clients use the stores unwrapped). They act before a request reaches its table, which is
 * what makes them differ from the storage nemesis: nothing is applied and nothing is read until they let go.
 */
export interface ClientPathFaults {
  /** The cell's region, to tell requests that leave this client's region from those that do not. */
  readonly regionOfCell: (cellId: string) => string;
  /** This client's region. */
  readonly region: string;
  /** Uniform draws in [0, 1). */
  readonly random: () => number;
  /**
   * Share of writes to a cell in another region that never reach it (a flaky link between regions): the request
   * fails at once with a connection error and is not applied. Reads are not dropped.
   */
  readonly dropRemoteWriteRate?: number;
  /**
   * Share of reads (GetItem) that reach the table only after a pause of `delayMs` (up to twice that): a GC
   * pause or a starved CPU between routing a read and sending it, a throttled GetItem sent again after the
   * SDK's backoff. The read returns the table's state when it finally arrives.
   */
  readonly lateReads?: { readonly rate: number; readonly delayMs: number };
}

/** A connection that failed before the request was sent: certainly not applied, reported like the SDK does. */
export class DroppedRequestError extends Error {
  readonly code = 'ECONNREFUSED';
  constructor(cellId: string) {
    super(`connect ECONNREFUSED: the request to ${cellId} was dropped before it reached the table (nemesis)`);
    this.name = 'NetworkingError';
  }
}

/** The stores one faulty client sees; without any fault set, the stores themselves. */
export function withClientPathFaults(stores: CellDataStores, faults: ClientPathFaults): CellDataStores {
  const dropRate = faults.dropRemoteWriteRate ?? 0;
  const late = faults.lateReads;
  if (dropRate <= 0 && !(late && late.rate > 0)) return stores;
  const wrapped = new Map<string, CellDataStore>();
  return {
    forCell(cellId) {
      let store = wrapped.get(cellId);
      if (!store) {
        store = faultyStore(stores.forCell(cellId), cellId, faults);
        wrapped.set(cellId, store);
      }
      return store;
    },
  };
}

function faultyStore(inner: CellDataStore, cellId: string, faults: ClientPathFaults): CellDataStore {
  const remote = faults.regionOfCell(cellId) !== faults.region;
  const drop = () => remote && faults.random() < (faults.dropRemoteWriteRate ?? 0);
  const late = faults.lateReads;
  // Object.create keeps every other method (and `this` inside them) on the real store.
  const store = Object.create(inner) as CellDataStore;
  return Object.assign(store, {
    async getItem(address: Parameters<CellDataStore['getItem']>[0]) {
      if (late && faults.random() < late.rate) await sleep(late.delayMs * (1 + faults.random()));
      return inner.getItem(address);
    },
    async writeUserItem(...args: Parameters<CellDataStore['writeUserItem']>) {
      if (drop()) throw new DroppedRequestError(cellId);
      return inner.writeUserItem(...args);
    },
    async putIfNewer(...args: Parameters<CellDataStore['putIfNewer']>) {
      if (drop()) throw new DroppedRequestError(cellId);
      return inner.putIfNewer(...args);
    },
  });
}
