/**
 * A seasonal index profile (expected value ÷ level, by position in a cycle) at a chosen resolution.
 * Slots are `slotMs` wide and read with linear interpolation between slot centres, so a 30-minute profile
 * serves 5-minute buckets smoothly and pools six noisy buckets per slot. Each slot is a weighted running
 * mean of the ratios it has seen, turning into an EWMA of `ratePerCycle` per cycle once warm.
 * `locate` stores the position in fields instead of returning an object, so reads allocate nothing.
 */
export class SeasonalProfile {
  readonly periodMs: number;
  readonly slots: number;
  private readonly intervalMs: number;
  private readonly slotMs: number;
  private readonly obsRate: number;
  readonly values: Float64Array;
  readonly weights: Float64Array;
  private i0 = 0;
  private i1 = 0;
  private frac = 0;
  /** When the interval divides the period: the position of each bucket of one period, precomputed. */
  private readonly periodBuckets: number;
  private readonly table: PositionTable | undefined;

  constructor(periodMs: number, intervalMs: number, resolutionMs: number, ratePerCycle: number) {
    this.periodMs = periodMs;
    this.intervalMs = intervalMs;
    this.slotMs = Math.max(intervalMs, Math.min(resolutionMs, periodMs));
    this.slots = Math.ceil(periodMs / this.slotMs);
    this.obsRate = ratePerCycle / (this.slotMs / intervalMs);
    this.values = new Float64Array(this.slots);
    this.weights = new Float64Array(this.slots);
    this.periodBuckets = periodMs % intervalMs === 0 ? periodMs / intervalMs : 0;
    this.table =
      this.periodBuckets > 0 ? positionTable(periodMs, intervalMs, this.slotMs, this.slots) : undefined;
  }

  /** Position the profile at bucket `index` (0-based from the series start). */
  locate(index: number): void {
    const table = this.table;
    if (table !== undefined) {
      const p = index % this.periodBuckets;
      this.i0 = table.i0[p];
      this.i1 = table.i1[p];
      this.frac = table.frac[p];
      return;
    }
    const x = (((index * this.intervalMs) % this.periodMs) + this.intervalMs / 2) / this.slotMs - 0.5;
    let i0 = Math.floor(x);
    this.frac = x - i0;
    if (i0 < 0) i0 += this.slots;
    let i1 = i0 + 1;
    if (i1 >= this.slots) i1 -= this.slots;
    this.i0 = i0;
    this.i1 = i1;
  }

  /** Interpolated index at the located position; NaN when neither neighbouring slot has data. */
  value(): number {
    const w0 = this.weights[this.i0] > 0 ? 1 - this.frac : 0;
    const w1 = this.weights[this.i1] > 0 ? this.frac : 0;
    const total = w0 + w1;
    if (total < 1e-9) return Number.NaN;
    return (w0 * this.values[this.i0] + w1 * this.values[this.i1]) / total;
  }

  /** Move the located slots toward `ratio`, each in proportion to its interpolation weight. */
  update(ratio: number): void {
    this.updateSlot(this.i0, 1 - this.frac, ratio);
    this.updateSlot(this.i1, this.frac, ratio);
  }

  private updateSlot(i: number, w: number, ratio: number): void {
    if (w <= 0) return;
    this.weights[i] += w;
    const total = this.weights[i];
    const a = Math.min(1, Math.max(this.obsRate * w, w / total));
    this.values[i] += a * (ratio - this.values[i]);
  }

  /** Whether every slot has been seen at least once. */
  complete(): boolean {
    for (let i = 0; i < this.slots; i++) if (this.weights[i] === 0) return false;
    return true;
  }

  /** Mean of the seen slots (NaN if none). */
  mean(): number {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < this.slots; i++) {
      if (this.weights[i] > 0) {
        sum += this.values[i];
        count++;
      }
    }
    return count > 0 ? sum / count : Number.NaN;
  }

  divideBy(factor: number): void {
    for (let i = 0; i < this.slots; i++) this.values[i] /= factor;
  }
}

interface PositionTable {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly frac: Float64Array;
}

/** Shared by every profile with the same geometry (thousands of series use a handful). */
const tables = new Map<string, PositionTable>();

function positionTable(periodMs: number, intervalMs: number, slotMs: number, slots: number): PositionTable {
  const key = `${periodMs}/${intervalMs}/${slotMs}`;
  const cached = tables.get(key);
  if (cached) return cached;
  const n = periodMs / intervalMs;
  const table = { i0: new Int32Array(n), i1: new Int32Array(n), frac: new Float64Array(n) };
  for (let p = 0; p < n; p++) {
    const x = (p * intervalMs + intervalMs / 2) / slotMs - 0.5;
    let i0 = Math.floor(x);
    table.frac[p] = x - i0;
    if (i0 < 0) i0 += slots;
    table.i0[p] = i0;
    table.i1[p] = i0 + 1 >= slots ? i0 + 1 - slots : i0 + 1;
  }
  tables.set(key, table);
  return table;
}
