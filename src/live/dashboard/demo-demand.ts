/**
 * The made-up world behind the dashboard's demo run (demo-snapshots.ts): three regions with their round trips,
 * and 80 partitions whose demand follows each region's local daytime, most of it from a home region (a few
 * split between two, so their predicted region follows the clock). Deterministic (seeded).
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const BUCKET_MS = 15 * MINUTE;
export const REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1'] as const;
const UTC_OFFSET_HOURS = [-5, 0, 9];
/** Round trips between regions (ms), as the bundled topology has them; local requests take LOCAL_MS. */
export const RTT_MS = [
  [0, 80, 145],
  [80, 0, 212],
  [145, 212, 0],
];
export const LOCAL_MS = 6;
const PARTITIONS = 80;

export interface DemoPartition {
  readonly id: string;
  readonly home: number;
  /** Each region's share of the partition's demand. */
  readonly shares: readonly number[];
  readonly peakOpsPerSec: number;
  readonly sizeBytes: number;
}

/** A small deterministic generator (mulberry32), so every run of the demo is the same. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Demand's daily shape in a region's local time: low at night, a peak in the afternoon. */
export function daytime(region: number, atMs: number): number {
  const hour = (((atMs / HOUR + UTC_OFFSET_HOURS[region]) % 24) + 24) % 24;
  return 0.25 + Math.max(0, Math.sin(((hour - 7) / 24) * 2 * Math.PI)) ** 1.5;
}

export function makePartitions(): DemoPartition[] {
  const next = random(7);
  return Array.from({ length: PARTITIONS }, (_, i) => {
    const home = Math.floor(next() * 3);
    // A few partitions are shared between two regions, so their predicted region follows the clock.
    const split = next() < 0.15;
    const shares = REGIONS.map((_, r) =>
      r === home ? (split ? 0.5 : 0.78) : r === (home + 1) % 3 && split ? 0.42 : split ? 0.08 : 0.11,
    );
    return {
      id: `p-${String(i).padStart(3, '0')}`,
      home,
      shares,
      peakOpsPerSec: Math.round(15 * Math.exp(next() * 2.6)),
      sizeBytes: Math.round(2 ** 30 * (0.5 + next() * 6)),
    };
  });
}

export function demand(p: DemoPartition, region: number, atMs: number): number {
  return p.peakOpsPerSec * p.shares[region] * daytime(region, atMs);
}

/** The region the next few hours' demand comes from most. */
export function predictedRegion(p: DemoPartition, atMs: number): number {
  let best = 0;
  let bestOps = -1;
  for (let r = 0; r < REGIONS.length; r++) {
    let ops = 0;
    for (let h = 0; h < 6; h++) ops += demand(p, r, atMs + h * HOUR);
    if (ops > bestOps) {
      best = r;
      bestOps = ops;
    }
  }
  return best;
}
