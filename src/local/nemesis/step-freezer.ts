import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-dynamodb';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { seededRandom } from '../../domain/seeded-random.ts';

/** One simulated Lambda invocation, carried by AsyncLocalStorage into every promise it starts. */
export interface FreezerInvocation {
  readonly functionName: string;
  /** A sandbox that stalls mid-invocation (see StepStall). */
  readonly stall?: StepStall;
  /** The handler has returned (or thrown); work it left pending may still run. */
  ended: boolean;
  /** The sandbox is frozen: the invocation's leftover work waits at its next storage request. */
  frozen: boolean;
}

/**
 * Stalls of one invocation's sandbox (a long GC pause, a starved CPU): at each of its `atRequests`-th data-table
 * requests the invocation stops, and every data-table request it makes meanwhile waits too. It resumes mid-work,
 * with what it read before the stall.
 */
export interface StepStall {
  /** 1-based request numbers, increasing: [1] stalls before the first data-table request. */
  readonly atRequests: readonly number[];
  /** How long a stall lasts; with `until`, how long it goes on once `until` holds. */
  readonly forMs: number;
  /** A stall lasts until this holds (checked every 10 ms), then `forMs` more, and at most `maxMs` in all. */
  readonly until?: () => boolean;
  /** @default 30 s */
  readonly maxMs?: number;
}

interface Invocation extends FreezerInvocation {
  dataRequests: number;
  /** The stall in progress, if any: the data-table requests of the invocation wait for it. */
  stalled?: Promise<void>;
  /** The later invocation whose sandbox thawed this one: the leftover work now runs, and freezes, with it. */
  adoptedBy?: Invocation;
  thaw?: { readonly promise: Promise<void>; readonly release: () => void };
}

export interface StepFreezerCounts {
  invocations: number;
  /** Invocations that ended frozen. */
  frozenInvocations: number;
  /** Frozen invocations released by a later invocation of the same function (or thawAll). */
  thawed: number;
  /** Storage requests (before sending or after receiving) that had to wait for a thaw. */
  requestsHeld: number;
  /** Stalls of step sandboxes (StepStall). */
  stalls: number;
}

export interface StepFreezerOptions {
  /** @default seededRandom(1) */
  readonly random?: () => number;
  /** Probability that an invocation's sandbox freezes when its handler returns. @default 0 */
  readonly freezeRate?: number;
  /**
   * Thawed leftover work joins the invocation that thawed it and freezes again when that one ends frozen, as it
   * does in a real sandbox (one sandbox runs one invocation at a time; everything in it freezes together).
   * @default true
   */
  readonly refreeze?: boolean;
}

/**
 * A model of the Lambda sandbox freeze. When a handler returns (or throws) while promises it started are still
 * pending, Lambda freezes the sandbox: that work resumes only when the same function is invoked again, possibly
 * minutes later and on behalf of another execution (a copy page still writing after its step "finished", a
 * lease renewal arriving after the lease expired). `run` wraps an invocation; `gate` is called by I/O paths
 * (see attachFreezeGate) and waits while the calling invocation is frozen.
 *
 * Which sandbox is reused is simplified: the next invocation of the function thaws every frozen invocation of
 * that function.
 */
export class StepFreezer {
  readonly counts: StepFreezerCounts = {
    invocations: 0,
    frozenInvocations: 0,
    thawed: 0,
    requestsHeld: 0,
    stalls: 0,
  };
  private readonly storage = new AsyncLocalStorage<Invocation>();
  private readonly frozenByFunction = new Map<string, Invocation[]>();
  private readonly random: () => number;
  private readonly refreeze: boolean;
  private rate = 0;

  constructor(options: StepFreezerOptions = {}) {
    this.random = options.random ?? seededRandom(1);
    this.refreeze = options.refreeze ?? true;
    this.freezeRate = options.freezeRate ?? 0;
  }

  get freezeRate(): number {
    return this.rate;
  }

  set freezeRate(rate: number) {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`freezeRate must be from 0 to 1, got ${rate}`);
    this.rate = rate;
  }

  /** Invocations frozen now, waiting for their function's next invocation. */
  get frozenCount(): number {
    let count = 0;
    for (const list of this.frozenByFunction.values()) count += list.length;
    return count;
  }

  /** The invocation the caller runs in, if any (for diagnostics). */
  current(): FreezerInvocation | undefined {
    return this.storage.getStore();
  }

  /**
   * Called before each data-table request: counts the calling invocation's request and waits while its sandbox is
   * stalled (or while the stall this request starts lasts). Immediate outside `run` or without a stall.
   */
  async stallPoint(): Promise<void> {
    const invocation = this.storage.getStore();
    const stall = invocation?.stall;
    if (!invocation || !stall) return;
    invocation.dataRequests += 1;
    if (stall.atRequests.includes(invocation.dataRequests)) {
      this.counts.stalls += 1;
      const previous = invocation.stalled;
      invocation.stalled = (async () => {
        await previous;
        await stallFor(stall);
      })();
    }
    await invocation.stalled;
  }

  /**
   * Run one invocation of `functionName`: first thaw the function's frozen invocations (their leftover work
   * resumes alongside this one), then run `fn` in a fresh context; when it settles, freeze that context with
   * probability freezeRate. With `stall`, the invocation's sandbox stalls (see StepStall).
   */
  async run<T>(functionName: string, fn: () => Promise<T>, options: { stall?: StepStall } = {}): Promise<T> {
    const invocation: Invocation = {
      functionName,
      ended: false,
      frozen: false,
      dataRequests: 0,
      ...(options.stall ? { stall: options.stall } : {}),
    };
    this.counts.invocations += 1;
    this.thawFunction(functionName, invocation);
    try {
      return await this.storage.run(invocation, fn);
    } finally {
      // Before the caller sees the result: Lambda freezes the sandbox as the response leaves it.
      invocation.ended = true;
      if (this.rate > 0 && this.random() < this.rate) this.freeze(invocation);
    }
  }

  /** Wait while the calling invocation (or the one that adopted it) is frozen; immediate outside `run`. */
  async gate(): Promise<void> {
    const invocation = this.storage.getStore();
    if (!invocation) return;
    let held = false;
    for (;;) {
      const owner = this.ownerOf(invocation);
      if (!owner.frozen || !owner.thaw) return;
      if (!held) {
        held = true;
        this.counts.requestsHeld += 1;
      }
      // The owner may be thawed into another invocation that is itself frozen by then: check again.
      await owner.thaw.promise;
    }
  }

  /** Release every frozen invocation for good (shutdown); set freezeRate to 0 first to stop new freezes. */
  thawAll(): void {
    const lists = [...this.frozenByFunction.values()];
    this.frozenByFunction.clear();
    for (const list of lists) for (const invocation of list) this.release(invocation, undefined);
  }

  private freeze(invocation: Invocation): void {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    invocation.frozen = true;
    invocation.thaw = { promise, release };
    const list = this.frozenByFunction.get(invocation.functionName);
    if (list) list.push(invocation);
    else this.frozenByFunction.set(invocation.functionName, [invocation]);
    this.counts.frozenInvocations += 1;
  }

  private thawFunction(functionName: string, by: Invocation): void {
    const list = this.frozenByFunction.get(functionName);
    if (!list) return;
    this.frozenByFunction.delete(functionName);
    for (const invocation of list) this.release(invocation, this.refreeze ? by : undefined);
  }

  private release(invocation: Invocation, adoptedBy: Invocation | undefined): void {
    invocation.frozen = false;
    // A pointer from old to new (never a list from new to old), so finished work is garbage-collected.
    invocation.adoptedBy = adoptedBy;
    const thaw = invocation.thaw;
    invocation.thaw = undefined;
    this.counts.thawed += 1;
    thaw?.release();
  }

  /** The invocation whose sandbox the given one's work now runs in (path-compressed). */
  private ownerOf(invocation: Invocation): Invocation {
    let owner = invocation;
    while (owner.adoptedBy) owner = owner.adoptedBy;
    if (invocation.adoptedBy && invocation.adoptedBy !== owner) invocation.adoptedBy = owner;
    return owner;
  }
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function stallFor(stall: StepStall): Promise<void> {
  const giveUpAt = performance.now() + (stall.maxMs ?? 30_000);
  if (stall.until) {
    while (!stall.until() && performance.now() < giveUpAt) await pause(10);
  }
  await pause(Math.max(0, Math.min(stall.forMs, giveUpAt - performance.now())));
}

export const FREEZE_GATE_MIDDLEWARE = 'prestageFreezeGate';

const gated = new WeakMap<DynamoDBClient, StepFreezer>();

/**
 * Hold every SDK attempt of `client` at `freezer.gate()` before it is sent and after its response (or error)
 * arrives. Placed in the finalizeRequest step at low priority, i.e. inside the retry loop: a frozen sandbox
 * stops between attempts too. Applies to every table: a frozen process does no I/O at all.
 */
export function attachFreezeGate(client: DynamoDBClient, freezer: StepFreezer): void {
  const existing = gated.get(client);
  if (existing === freezer) return;
  if (existing) throw new Error('another StepFreezer is already attached to this client');
  gated.set(client, freezer);
  const middleware: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
    (next) => async (args) => {
      await freezer.gate();
      try {
        return await next(args);
      } finally {
        await freezer.gate();
      }
    };
  client.middlewareStack.add(middleware, {
    step: 'finalizeRequest',
    priority: 'low',
    name: FREEZE_GATE_MIDDLEWARE,
  });
}
