/**
 * The clock port of the control loop: what "now" is for the demand, the access recorder's buckets, the
 * profiler's cycles and forecasts, the planner's plans and ExecutePlan's deadlines. In AWS it is the wall clock
 * (`WALL_CLOCK`, what the handlers default to with `Date.now`); under `prestage up` it is a `TraceClock` that
 * replays a recorded trace faster than real time. The data plane's safety timing (routing leases, HLCs, cutover
 * waits) never reads this port: it stays on the wall clock, because its guarantees are about real elapsed time.
 */
export interface Clock {
  /** Epoch milliseconds. */
  nowMs(): number;
  /**
   * This clock's reading at a past wall-clock instant: the data plane stamps what it records (a migration's
   * commit, a fence's last touch) on the wall clock, and the control loop compares those stamps with its own now.
   */
  fromWallMs(wallMs: number): number;
}

export const WALL_CLOCK: Clock = { nowMs: () => Date.now(), fromWallMs: (wallMs) => wallMs };

/** A trace clock's origin and state, as sent to another thread. */
export interface TraceClockState {
  readonly originTraceMs: number;
  readonly originWallMs: number;
  readonly speed: number;
  readonly running: boolean;
}

/**
 * A compressed clock over a trace: `speed` trace milliseconds pass per wall millisecond while it runs. It can be
 * held at one instant (the warm-up, while the loop places data before the measured window) and then run from
 * there. Reading it never goes backwards.
 */
export class TraceClock implements Clock {
  readonly speed: number;
  private readonly wallNow: () => number;
  private originTraceMs: number;
  private originWallMs: number;
  private running = false;
  private last = Number.NEGATIVE_INFINITY;

  constructor(startTraceMs: number, speed: number, wallNow: () => number = Date.now) {
    TraceClock.validateSpeed(speed);
    this.speed = speed;
    this.wallNow = wallNow;
    this.originTraceMs = startTraceMs;
    this.originWallMs = wallNow();
  }

  private static validateSpeed(speed: number): void {
    if (!(Number.isFinite(speed) && speed > 0)) {
      throw new RangeError(`the trace clock's speed must be a positive number, got ${speed}`);
    }
  }

  nowMs(): number {
    const now = this.running
      ? this.originTraceMs + (this.wallNow() - this.originWallMs) * this.speed
      : this.originTraceMs;
    // Float rounding across a hold/run switch must not step back.
    this.last = Math.max(this.last, Math.floor(now));
    return this.last;
  }

  /**
   * The trace instant at wall instant `wallMs`, as far as this clock knows: exact since it last ran or was held;
   * before that, the instant it ran or was held from (the warm-up holds the clock at a few instants, so its
   * stamps land within one hold of their true trace time); never later than now.
   */
  fromWallMs(wallMs: number): number {
    const now = this.nowMs();
    if (!this.running || wallMs <= this.originWallMs) return Math.min(now, this.originTraceMs);
    return Math.min(now, Math.floor(this.originTraceMs + (wallMs - this.originWallMs) * this.speed));
  }

  /** What another thread needs to read the same clock (the wall clock is the machine's, shared by threads). */
  state(): TraceClockState {
    return {
      originTraceMs: this.originTraceMs,
      originWallMs: this.originWallMs,
      speed: this.speed,
      running: this.running,
    };
  }

  /** A clock on another thread that reads as `state`'s owner does (until the owner holds or runs again). */
  static following(state: TraceClockState, wallNow: () => number = Date.now): TraceClock {
    const clock = new TraceClock(state.originTraceMs, state.speed, wallNow);
    clock.originWallMs = state.originWallMs;
    clock.running = state.running;
    return clock;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Stop at `traceMs` (at least where the clock already is) until `run`. */
  holdAt(traceMs: number): void {
    this.originTraceMs = Math.max(traceMs, this.nowMs());
    this.running = false;
  }

  /** Run from where the clock is held (or keep running). */
  run(): void {
    if (this.running) return;
    this.originWallMs = this.wallNow();
    this.running = true;
  }

  /** Wall milliseconds until the clock reaches `traceMs` (0 if it has, Infinity while held before it). */
  wallMsUntil(traceMs: number): number {
    const ahead = traceMs - this.nowMs();
    if (ahead <= 0) return 0;
    return this.running ? ahead / this.speed : Number.POSITIVE_INFINITY;
  }
}
