/**
 * The planner's seeded stream: the same numbers as `seededRandom` (mulberry32, seeded-random.ts), draw for
 * draw, with its counter exposed, so a run of draws can be skipped and any one of them computed on demand.
 *
 * mulberry32's state is a counter that grows by a constant per draw, and each draw is a hash of it; so the
 * i-th draw after a point is a function of the counter at that point and i. The greedy after a perturbation
 * jitters every partition's key with one draw per partition, in partition order, but reads the jitter of the
 * few partitions it queues: `skip(P)` and `drawAt(base, p)` give those same numbers without computing the
 * thousands it would not read, and leave the stream where P draws would have left it.
 */
export class CounterRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next draw in [0, 1): seededRandom(seed)'s sequence. */
  next(): number {
    this.state = (this.state + STEP) >>> 0;
    return mix(this.state);
  }

  /** Skip `count` draws; returns the counter before them, for `drawAt`. */
  skip(count: number): number {
    const base = this.state;
    this.state = (base + Math.imul(count, STEP)) >>> 0;
    return base;
  }

  /** The `i`-th draw (0-based) after the counter `base` (as returned by `skip`). */
  static drawAt(base: number, i: number): number {
    return mix((base + Math.imul(i + 1, STEP)) >>> 0);
  }
}

/** mulberry32's increment per draw. */
const STEP = 0x6d2b79f5;

/** mulberry32's output for counter value `a` (seeded-random.ts, after its increment). */
function mix(a: number): number {
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
