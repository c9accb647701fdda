/**
 * Hybrid logical clock (Kulkarni et al., 2014): a physical millisecond timestamp plus a logical counter and a
 * node id. Every write to a data item carries one, and the data tables only accept a write whose HLC is above
 * the item's current one, so per item the HLC order is the write order, on every cell.
 *
 * Encoded as a fixed-width string so that DynamoDB string comparison (conditions, the `changes` GSI sort key)
 * is HLC order: `<wall ms, 15 digits>.<logical, 6 digits>.<node>`.
 */
export interface Hlc {
  readonly wallMs: number;
  readonly logical: number;
  readonly node: string;
}

const WALL_DIGITS = 15;
const LOGICAL_DIGITS = 6;
const MAX_LOGICAL = 10 ** LOGICAL_DIGITS - 1;
const NODE_PATTERN = /^[a-z0-9]{1,16}$/;

export function encodeHlc(hlc: Hlc): string {
  return `${String(hlc.wallMs).padStart(WALL_DIGITS, '0')}.${String(hlc.logical).padStart(LOGICAL_DIGITS, '0')}.${hlc.node}`;
}

export function decodeHlc(text: string): Hlc {
  const match = /^(\d{15})\.(\d{6})\.([a-z0-9]{1,16})$/.exec(text);
  if (!match) throw new RangeError(`not an encoded HLC: '${text}'`);
  return { wallMs: Number(match[1]), logical: Number(match[2]), node: match[3] };
}

/**
 * The smallest encoded HLC at or after `wallMs`: every HLC whose wall time is ≥ wallMs compares ≥ it.
 * Watermarks are bounds of this kind.
 */
export function hlcLowerBound(wallMs: number): string {
  return String(Math.max(0, Math.floor(wallMs))).padStart(WALL_DIGITS, '0');
}

/** Wall-clock milliseconds of an encoded HLC or of a bound made by hlcLowerBound. */
export function hlcWallMs(encoded: string): number {
  return Number(encoded.slice(0, WALL_DIGITS));
}

export function compareHlc(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One clock per process (interceptor, step handler). `nowMs` is injected so tests control time. */
export class HybridLogicalClock {
  private wallMs = 0;
  private logical = 0;
  readonly node: string;
  private readonly nowMs: () => number;

  constructor(node: string, nowMs: () => number = Date.now) {
    if (!NODE_PATTERN.test(node))
      throw new RangeError(`HLC node id must match ${NODE_PATTERN}, got '${node}'`);
    this.node = node;
    this.nowMs = nowMs;
  }

  /** A new timestamp for a local event (a write), strictly above every timestamp this clock issued or saw. */
  tick(): string {
    const physical = this.nowMs();
    if (physical > this.wallMs) {
      this.wallMs = physical;
      this.logical = 0;
    } else {
      this.bumpLogical();
    }
    return encodeHlc({ wallMs: this.wallMs, logical: this.logical, node: this.node });
  }

  /** Merge a timestamp seen elsewhere (an item's HLC that refused our write), so the next tick is above it. */
  observe(encoded: string): void {
    const remote = decodeHlc(encoded);
    const physical = this.nowMs();
    if (physical > this.wallMs && physical > remote.wallMs) {
      this.wallMs = physical;
      this.logical = 0;
    } else if (remote.wallMs > this.wallMs) {
      this.wallMs = remote.wallMs;
      this.logical = remote.logical;
    } else if (remote.wallMs === this.wallMs) {
      this.logical = Math.max(this.logical, remote.logical);
    }
  }

  private bumpLogical(): void {
    if (this.logical >= MAX_LOGICAL) {
      // The counter is exhausted within one millisecond: borrow the next millisecond (still monotonic).
      this.wallMs += 1;
      this.logical = 0;
    } else {
      this.logical += 1;
    }
  }
}
