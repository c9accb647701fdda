import { DisjointSets } from '../disjoint-sets.ts';

/**
 * Which partitions' forecast errors burst together, measured.
 *
 * One correlation for every pair (error-correlation.ts) misses the structure the real-series traces have: bursts hit
 * the partitions fed by one source at once and leave the others alone, so the pooled ρ̂ is about 0.1 while a cell
 * holding three partitions of one source takes their three bursts together. The planner aggregates the gaps to
 * the upper forecast linearly within a group and diversifies them across groups (placement-model.ts), so the groups
 * are what it needs.
 *
 * A partition bursts in a sample when its error (actual − forecast) exceeds `burstZ` of its own error spread (an
 * exponentially weighted root mean square). Two partitions are linked when they burst together in at least
 * `linkShare` of the bursts of the one that bursts less, over at least `minCoBursts` joint bursts (forgetting at the
 * same half-life); a group is a connected component of the links. Pairs are counted only among the partitions that
 * burst in a sample, at most `maxBurstsPerSample` of them (the largest), so a sample costs O(b²) for b bursts, not
 * O(P²); a market-wide shock where every partition bursts is left to the per-cell correlation.
 */
export interface CoBurstOptions {
  /** Samples after which a burst weighs half as much as the newest. */
  readonly halfLifeSamples: number;
  /** No groups before this many samples. */
  readonly minSamples: number;
  /** A burst: an error above this many times the partition's error spread. @default 1.5 */
  readonly burstZ?: number;
  /** Linked when joint bursts are at least this share of the rarer partition's bursts. @default 0.5 */
  readonly linkShare?: number;
  /** Linked only after this many joint bursts (forgotten at the same rate). @default 3 */
  readonly minCoBursts?: number;
  /** Pairs are counted among at most this many bursting partitions per sample, the largest. @default 64 */
  readonly maxBurstsPerSample?: number;
}

interface PairCount {
  value: number;
  at: number;
}

export class CoBurstEstimator {
  private readonly squares: Float64Array;
  private readonly bursts: Float64Array;
  private readonly burstAt: Float64Array;
  private readonly pairs = new Map<number, PairCount>();
  private readonly decay: number;
  private readonly burstZ: number;
  private readonly linkShare: number;
  private readonly minCoBursts: number;
  private readonly maxBurstsPerSample: number;
  private weight = 0;
  private samples = 0;

  constructor(
    private readonly partitions: number,
    private readonly options: CoBurstOptions,
  ) {
    this.validateOptions();
    this.squares = new Float64Array(partitions);
    this.bursts = new Float64Array(partitions);
    this.burstAt = new Float64Array(partitions);
    this.decay = 0.5 ** (1 / options.halfLifeSamples);
    this.burstZ = options.burstZ ?? 1.5;
    this.linkShare = options.linkShare ?? 0.5;
    this.minCoBursts = options.minCoBursts ?? 3;
    this.maxBurstsPerSample = options.maxBurstsPerSample ?? 64;
  }

  private validateOptions(): void {
    const o = this.options;
    if (!(o.halfLifeSamples > 0)) throw new RangeError('co-burst halfLifeSamples must be > 0');
    if (!(o.minSamples >= 1)) throw new RangeError('co-burst minSamples must be >= 1');
    if (o.burstZ !== undefined && !(o.burstZ > 0)) throw new RangeError('co-burst burstZ must be > 0');
    if (o.linkShare !== undefined && !(o.linkShare > 0 && o.linkShare <= 1))
      throw new RangeError('co-burst linkShare must be in (0, 1]');
    if (o.minCoBursts !== undefined && !(o.minCoBursts > 0))
      throw new RangeError('co-burst minCoBursts must be > 0');
    if (o.maxBurstsPerSample !== undefined && !(o.maxBurstsPerSample >= 2))
      throw new RangeError('co-burst maxBurstsPerSample must be >= 2');
  }

  /** One sample: each partition's forecast error (actual − forecast); a non-finite error is no sample for it. */
  observe(errors: ArrayLike<number>): void {
    const P = this.partitions;
    if (errors.length !== P) throw new RangeError(`expected ${P} partitions`);
    const d = this.decay;
    this.weight = d * this.weight + 1;
    const now = ++this.samples;
    const bursting: number[] = [];
    const size: number[] = [];
    for (let p = 0; p < P; p++) {
      const e = errors[p];
      if (!Number.isFinite(e)) continue;
      // The spread before this sample: a burst is judged against the past, not against itself.
      const spread = Math.sqrt(this.squares[p] / Math.max(this.weight - 1, 1e-12));
      this.squares[p] = d * this.squares[p] + e * e;
      if (now > 1 && spread > 0 && e > this.burstZ * spread) {
        bursting.push(p);
        size.push(e / spread);
        this.bursts[p] = this.bursts[p] * d ** (now - this.burstAt[p]) + 1;
        this.burstAt[p] = now;
      }
    }
    let chosen = bursting;
    if (bursting.length > this.maxBurstsPerSample) {
      const order = bursting.map((_, i) => i).sort((a, b) => size[b] - size[a] || a - b);
      chosen = order.slice(0, this.maxBurstsPerSample).map((i) => bursting[i]);
    }
    for (let i = 0; i < chosen.length; i++) {
      for (let j = i + 1; j < chosen.length; j++) {
        const key = pairKey(chosen[i], chosen[j], P);
        const pair = this.pairs.get(key);
        if (pair) {
          pair.value = pair.value * d ** (now - pair.at) + 1;
          pair.at = now;
        } else this.pairs.set(key, { value: 1, at: now });
      }
    }
  }

  /**
   * Per partition, its group's index (groups numbered from 0 in order of their first partition), or -1 when it is
   * linked to none; undefined before `minSamples`.
   */
  groups(): Int32Array | undefined {
    if (this.samples < this.options.minSamples) return undefined;
    const P = this.partitions;
    const now = this.samples;
    const d = this.decay;
    const sets = new DisjointSets(P);
    const linked = new Uint8Array(P);
    for (const [key, pair] of this.pairs) {
      const joint = pair.value * d ** (now - pair.at);
      if (joint < this.minCoBursts) {
        // Forgotten: it can no longer link, and keeping it would grow the map without bound.
        if (joint < 1e-3) this.pairs.delete(key);
        continue;
      }
      const a = Math.floor(key / P);
      const b = key % P;
      const rarer = Math.min(
        this.bursts[a] * d ** (now - this.burstAt[a]),
        this.bursts[b] * d ** (now - this.burstAt[b]),
      );
      if (joint < this.linkShare * rarer) continue;
      linked[a] = 1;
      linked[b] = 1;
      sets.union(a, b);
    }
    const out = new Int32Array(P).fill(-1);
    const index = new Map<number, number>();
    for (let p = 0; p < P; p++) {
      if (!linked[p]) continue;
      const r = sets.find(p);
      let g = index.get(r);
      if (g === undefined) {
        g = index.size;
        index.set(r, g);
      }
      out[p] = g;
    }
    return out;
  }
}

function pairKey(a: number, b: number, P: number): number {
  return a < b ? a * P + b : b * P + a;
}
