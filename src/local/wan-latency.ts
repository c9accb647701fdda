import type { CellDataStore, CellDataStores } from '../domain/data-plane/ports.ts';
import { estimateLatencyMs } from '../planner-service/region-latency.ts';

/** How far apart the local regions are: `off` (all local), `real` (estimated RTTs), or `real` scaled. */
export type WanLatency = { readonly kind: 'off' } | { readonly kind: 'scaled'; readonly factor: number };

export const REAL_WAN_LATENCY: WanLatency = { kind: 'scaled', factor: 1 };

/** Round trip between two regions under a WAN setting, in ms (0 within a region). */
export function wanRoundTripMs(latency: WanLatency, from: string, to: string): number {
  if (latency.kind === 'off' || from === to) return 0;
  return estimateLatencyMs(from, to) * latency.factor;
}

/** Parse `--wan-latency off|real|<scale factor>`; undefined when the value is none of those. */
export function parseWanLatency(value: string): WanLatency | undefined {
  if (value === 'off') return { kind: 'off' };
  if (value === 'real') return REAL_WAN_LATENCY;
  if (!/^\d+(\.\d+)?$/.test(value)) return undefined;
  const factor = Number(value);
  return factor >= 0 && factor <= 10 ? { kind: 'scaled', factor } : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The cells as an interceptor in `fromRegion` reaches them: every call to a cell in another region costs one
 * inter-region round trip, half on the way there (before DynamoDB applies anything) and half on the way back,
 * so a client measures locality in its own latency, and a write's outcome is decided mid-trip as it is in AWS.
 */
export class WanDelayedStores implements CellDataStores {
  /** Calls that crossed regions (each paid one round trip). */
  crossRegionCalls = 0;
  private readonly inner: CellDataStores;
  private readonly delayed = new Map<string, CellDataStore>();
  private readonly roundTripMs: (cellId: string) => number;

  constructor(inner: CellDataStores, roundTripMs: (cellId: string) => number) {
    this.inner = inner;
    this.roundTripMs = roundTripMs;
  }

  forCell(cellId: string): CellDataStore {
    const store = this.inner.forCell(cellId);
    const rtt = this.roundTripMs(cellId);
    if (rtt <= 0) return store;
    let delayed = this.delayed.get(cellId);
    if (!delayed) {
      delayed = delayStore(store, rtt, () => {
        this.crossRegionCalls += 1;
      });
      this.delayed.set(cellId, delayed);
    }
    return delayed;
  }
}

function delayStore(store: CellDataStore, rttMs: number, onTrip: () => void): CellDataStore {
  const half = rttMs / 2;
  const trip =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      onTrip();
      await sleep(half);
      const result = await call(...args);
      await sleep(half);
      return result;
    };
  return {
    cellId: store.cellId,
    counters: store.counters,
    itemSize: (item) => store.itemSize(item),
    getItem: trip((address) => store.getItem(address)),
    batchGet: trip((addresses) => store.batchGet(addresses)),
    probeVersions: trip((addresses) => store.probeVersions(addresses)),
    writeUserItem: trip((write, options) => store.writeUserItem(write, options)),
    putIfNewer: trip((item, options) => store.putIfNewer(item, options)),
    deleteIfUnchanged: trip((address, hlc) => store.deleteIfUnchanged(address, hlc)),
    replaceIfUnchanged: trip((item, expectedHlc) => store.replaceIfUnchanged(item, expectedHlc)),
    batchPut: trip((items, options) => store.batchPut(items, options)),
    batchDelete: trip((addresses, options) => store.batchDelete(addresses, options)),
    queryShard: trip((partition, shard, options) => store.queryShard(partition, shard, options)),
    queryChanges: trip((partition, shard, options) => store.queryChanges(partition, shard, options)),
  };
}
