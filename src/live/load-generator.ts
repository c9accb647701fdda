import { performance } from 'node:perf_hooks';
import {
  formatSampleWeight,
  SAMPLE_WEIGHT_HEADER,
  type SampleWeight,
} from '../domain/data-plane/sample-weight.ts';
import {
  FOLDED_WEIGHT_HEADER,
  formatFoldedWeights,
  MAX_FOLDED_WEIGHTS,
  SERVED_BY_HEADER,
  SERVED_REGION_HEADER,
  TIMING_HEADER,
} from '../local/regional-listener.ts';
import type { RequestOutcome } from './live-measurements.ts';
import type { SampledRequest } from './request-sampler.ts';

/** The listener's `x-prestage-timing` header (`total=T,cell=C,routing=R`), or undefined. */
function parseTiming(header: string | null): RequestOutcome['server'] {
  if (!header) return undefined;
  const fields = Object.fromEntries(
    header.split(',').map((part) => {
      const [name, value] = part.split('=');
      return [name, Number(value)];
    }),
  );
  if (![fields.total, fields.cell, fields.routing].every(Number.isFinite)) return undefined;
  return {
    total: fields.total,
    cell: fields.cell,
    routing: fields.routing,
    ...(Number.isFinite(fields.calls) ? { calls: fields.calls, remoteCalls: fields.remote } : {}),
  };
}

function seriesOf(request: { partition: string; region: string }): string {
  return `${request.partition}\u0000${request.region}`;
}

/** Keys every partition is seeded with and that reads ask for (`k0`, `k1`, …). */
export function readKey(index: number): string {
  return `k${index}`;
}

/** Keys the load generator's writes go to, a few per partition, written one write at a time each. */
export const WRITE_KEYS_PER_PARTITION = 4;

const REQUEST_TIMEOUT_MS = 15_000;

interface WriteKeyState {
  busy: Promise<void> | undefined;
  /** The last acknowledged write: its sequence number and the version the server gave it. */
  acked?: { seq: number; version: number };
  /** Writes after the last acknowledged one whose outcome is unknown (no answer, or a 5xx other than a fence). */
  readonly ambiguous: Set<number>;
  /** Acknowledged versions went backwards or repeated: an acknowledged write was overwritten by an older one. */
  regressions: number;
}

export interface WriteCheck {
  readonly keysChecked: number;
  readonly writesAcked: number;
  /** Acknowledged writes whose effect is gone (the key reads an older state, or versions went back). */
  readonly writesLost: number;
  readonly problems: readonly string[];
}

/** Where the load generator reports each request's outcome (the live measurements, or a thread's outbox). */
export interface OutcomeRecorder {
  record(outcome: RequestOutcome): void;
  /** Writes answered 2xx so far. */
  readonly writesAcked: number;
}

export interface LoadGeneratorOptions {
  /** Each region's listener URL: a request from region r goes to r's listener. */
  readonly urls: ReadonlyMap<string, string>;
  /** Seeded read keys per partition. */
  readonly readKeysOf: (partition: string) => number;
  readonly measurements: OutcomeRecorder;
  /** Requests in flight at most; beyond it requests wait their turn (and their lateness is counted). */
  readonly maxInFlight: number;
  readonly random: () => number;
  /** A request sent more than this long (trace ms) after it was due counts as late. */
  readonly lateAfterTraceMs: number;
  /**
   * What becomes of a request that cannot be sent within `lateAfterTraceMs` of its due time (the in-flight limit
   * reached, or the thread stalled): `send-late` queues it and sends it late; `drop-and-fold` drops it and folds
   * the trace demand it stands for into the next request sent for its partition and region (the listener counts
   * it at its own instant: `FOLDED_WEIGHT_HEADER`), so the recorders' counts stay the trace's; `drop` drops it
   * and its weight (a negative control: the counts fall short). @default 'send-late'
   */
  readonly lateRequests?: 'send-late' | 'drop-and-fold' | 'drop';
  /**
   * Folded weights whose instants fall in the same bucket of this width (trace ms; the recorders' bucket) are
   * merged into one, at the earliest instant, so a header stays short. @default undefined: never merged
   */
  readonly foldBucketMs?: number;
}

/**
 * Sends the sampled requests as real HTTP requests through each region's listener and measures them: wall
 * latency from send to the whole response, and whether the cell that served it was in the region the request
 * arrived in (the listener's `x-prestage-served-region` header). Writes go to a few keys per partition, one
 * write at a time per key, so every acknowledged write can be checked at the end: its key must read the last
 * acknowledged value and version (or a later write whose outcome was unknown), and acknowledged versions must
 * only grow.
 */
export class LoadGenerator {
  inFlight = 0;
  /** Requests sent later than due because `maxInFlight` were already in flight. */
  late = 0;
  /** Requests dropped because they could not be sent in time (`lateRequests` other than `send-late`). */
  dropped = 0;
  /** Requests sent at the end only to carry folded weights whose series had no later request. */
  foldCarriers = 0;
  /** Weights dropped and not yet sent on, by series (partition and region). */
  private readonly folds = new Map<string, { partition: string; region: string; weights: SampleWeight[] }>();
  private readonly options: LoadGeneratorOptions;
  private readonly queue: SampledRequest[] = [];
  private queueHead = 0;
  private readonly writeKeys = new Map<string, WriteKeyState>();
  private readonly idle = new Set<() => void>();
  private seq = 0;
  private writeCursor = 0;

  constructor(options: LoadGeneratorOptions) {
    this.options = options;
  }

  /** Queue requests (sorted by due time, after those already queued). */
  enqueue(requests: readonly SampledRequest[]): void {
    this.queue.push(...requests);
  }

  /** Requests queued and not sent yet. */
  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  /** Send every queued request due at or before `traceMs`, as far as the in-flight limit allows. */
  dispatchDue(traceMs: number): void {
    const dropping = (this.options.lateRequests ?? 'send-late') !== 'send-late';
    while (this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead];
      if (next.atTraceMs > traceMs) break;
      const late = traceMs - next.atTraceMs > this.options.lateAfterTraceMs;
      if (late && dropping) {
        this.queueHead += 1;
        this.drop(next);
        continue;
      }
      if (this.inFlight >= this.options.maxInFlight) break;
      this.queueHead += 1;
      if (late) this.late += 1;
      this.send(next, traceMs - next.atTraceMs);
    }
    if (this.queueHead > 4096) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  /**
   * The end of the window: drop every queued request due at or before `traceMs` (folding its weight, as a late
   * one), then send each series' folded weights that no later request took, one request per series. Returns
   * the requests sent for that. Under `send-late`, nothing.
   */
  foldRemaining(traceMs: number): number {
    if ((this.options.lateRequests ?? 'send-late') === 'send-late') return 0;
    while (this.queueHead < this.queue.length && this.queue[this.queueHead].atTraceMs <= traceMs) {
      this.drop(this.queue[this.queueHead]);
      this.queueHead += 1;
    }
    const sent = this.foldCarriers;
    for (const { partition, region, weights } of [...this.folds.values()]) {
      const [first] = weights;
      this.foldCarriers += 1;
      this.send({ atTraceMs: first.atMs!, partition, region, kind: 'read', standsFor: first }, 0);
    }
    return this.foldCarriers - sent;
  }

  /** A request that cannot be sent in time: counted, and under `drop-and-fold` its weight kept for its series. */
  private drop(request: SampledRequest): void {
    this.dropped += 1;
    if (this.options.lateRequests !== 'drop-and-fold' || !request.standsFor) return;
    const id = seriesOf(request);
    let fold = this.folds.get(id);
    if (!fold) {
      fold = { partition: request.partition, region: request.region, weights: [] };
      this.folds.set(id, fold);
    }
    const weight = {
      reads: request.standsFor.reads,
      writes: request.standsFor.writes,
      atMs: request.atTraceMs,
    };
    const width = this.options.foldBucketMs;
    const last = fold.weights.at(-1);
    const sameBucket =
      last !== undefined &&
      width !== undefined &&
      Math.floor(last.atMs! / width) === Math.floor(weight.atMs / width);
    if (sameBucket || (last !== undefined && fold.weights.length >= MAX_FOLDED_WEIGHTS)) {
      // Merged at the earlier instant: within one bucket the count lands where it would have; past the cap
      // (a series dropped more than MAX_FOLDED_WEIGHTS times in a row) it lands in an earlier bucket, never lost.
      fold.weights[fold.weights.length - 1] = {
        reads: last!.reads + weight.reads,
        writes: last!.writes + weight.writes,
        atMs: last!.atMs,
      };
    } else fold.weights.push(weight);
  }

  /** Drop what is queued (a stop); requests in flight finish. */
  dropQueued(): number {
    const dropped = this.queued;
    this.queue.length = 0;
    this.queueHead = 0;
    return dropped;
  }

  /** Resolves when no request is in flight. */
  async whenIdle(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  private send(request: SampledRequest, lateTraceMs: number): void {
    this.inFlight += 1;
    const folded = this.takeFolds(request);
    const work =
      request.kind === 'read'
        ? this.read(request, lateTraceMs, folded)
        : this.write(request, lateTraceMs, folded);
    void work.finally(() => {
      this.inFlight -= 1;
      if (this.inFlight > 0) return;
      const waiting = [...this.idle];
      this.idle.clear();
      for (const wake of waiting) wake();
    });
  }

  /** The weights dropped in this request's series since its last request, which it now carries (the first of them if it has none of its own). */
  private takeFolds(request: SampledRequest): readonly SampleWeight[] {
    const id = seriesOf(request);
    const fold = this.folds.get(id);
    if (!fold) return [];
    this.folds.delete(id);
    // A request sent only to carry folds declares the first as its own weight (see foldRemaining).
    return request.standsFor === fold.weights[0] ? fold.weights.slice(1) : fold.weights;
  }

  /**
   * The client header, and the sample weight a counted request declares with the trace instant it stands for
   * (its due time, however late it is sent), so the listeners' recorders count it in that instant's bucket; and
   * the weights of the requests of its series dropped before it, each with its own instant.
   */
  private headersOf(request: SampledRequest, folded: readonly SampleWeight[]): Record<string, string> {
    const weight = request.standsFor ? { ...request.standsFor, atMs: request.atTraceMs } : undefined;
    return {
      'x-prestage-client': `lg-${request.region}`,
      ...(weight ? { [SAMPLE_WEIGHT_HEADER]: formatSampleWeight(weight) } : {}),
      ...(folded.length > 0 ? { [FOLDED_WEIGHT_HEADER]: formatFoldedWeights(folded) } : {}),
    };
  }

  /**
   * What a request's outcome weighs in the measurements: the trace requests it stands for, with those of the
   * requests of its series it carries the weights of (dropped, they were not measured).
   */
  private weightOf(request: SampledRequest, folded: readonly SampleWeight[]): number {
    const own = request.standsFor ? request.standsFor.reads + request.standsFor.writes : 1;
    return folded.reduce((sum, w) => sum + w.reads + w.writes, own);
  }

  private urlOf(region: string, partition: string, key: string): string {
    return `${this.options.urls.get(region)}/v1/partitions/${encodeURIComponent(partition)}/items/${encodeURIComponent(key)}`;
  }

  /** What an outcome carries besides the figures: for diagnosing where a request's time went. */
  private diagnosticsOf(
    request: SampledRequest,
    lateTraceMs: number,
    response: { servedBy: string | null; timing: string | null },
  ): Pick<RequestOutcome, 'carrier' | 'sentLateTraceMs' | 'server' | 'servedBy'> {
    const timing = parseTiming(response.timing);
    return {
      carrier: request.carrier === true,
      sentLateTraceMs: Math.max(0, lateTraceMs),
      ...(timing ? { server: timing } : {}),
      ...(response.servedBy ? { servedBy: response.servedBy } : {}),
    };
  }

  private async read(
    request: SampledRequest,
    lateTraceMs: number,
    folded: readonly SampleWeight[],
  ): Promise<void> {
    const keys = this.options.readKeysOf(request.partition);
    const key = readKey(Math.floor(this.options.random() * keys));
    const started = performance.now();
    const response = await this.http(this.urlOf(request.region, request.partition, key), {
      method: 'GET',
      headers: this.headersOf(request, folded),
    });
    const { status, servedRegion } = response;
    this.options.measurements.record({
      ...this.diagnosticsOf(request, lateTraceMs, response),
      region: request.region,
      kind: 'read',
      weight: this.weightOf(request, folded),
      atTraceMs: request.atTraceMs,
      latencyMs: performance.now() - started,
      status,
      local: servedRegion === request.region,
    });
  }

  private writeKeyState(partition: string, index: number): WriteKeyState {
    const id = `${partition}\u0000${index}`;
    let state = this.writeKeys.get(id);
    if (!state) {
      state = { busy: undefined, ambiguous: new Set(), regressions: 0 };
      this.writeKeys.set(id, state);
    }
    return state;
  }

  private async write(
    request: SampledRequest,
    lateTraceMs: number,
    folded: readonly SampleWeight[],
  ): Promise<void> {
    // The first free key of the partition, starting from a rotating index; all busy: wait for one.
    this.writeCursor = (this.writeCursor + 1) % WRITE_KEYS_PER_PARTITION;
    let index = this.writeCursor;
    for (let i = 0; i < WRITE_KEYS_PER_PARTITION; i++) {
      const candidate = (this.writeCursor + i) % WRITE_KEYS_PER_PARTITION;
      if (!this.writeKeyState(request.partition, candidate).busy) {
        index = candidate;
        break;
      }
    }
    const state = this.writeKeyState(request.partition, index);
    while (state.busy) await state.busy;
    let release: () => void = () => undefined;
    state.busy = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await this.writeOnce(request, index, state, lateTraceMs, folded);
    } finally {
      state.busy = undefined;
      release();
    }
  }

  private async writeOnce(
    request: SampledRequest,
    index: number,
    state: WriteKeyState,
    lateTraceMs: number,
    folded: readonly SampleWeight[],
  ): Promise<void> {
    const seq = ++this.seq;
    const started = performance.now();
    const response = await this.http(this.urlOf(request.region, request.partition, `w${index}`), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...this.headersOf(request, folded) },
      body: JSON.stringify({ seq, partition: request.partition, region: request.region }),
    });
    const latencyMs = performance.now() - started;
    const { status, servedRegion, body } = response;
    if (status === 200) {
      const version = Number((JSON.parse(body) as { version: number }).version);
      if (state.acked && version <= state.acked.version) state.regressions += 1;
      state.acked = { seq, version };
      state.ambiguous.clear();
    } else if (status === 0 || (status >= 500 && !/PARTITION_FENCED/.test(body))) {
      // No answer, or a failure that may have applied: the key may read this write later.
      state.ambiguous.add(seq);
    }
    this.options.measurements.record({
      ...this.diagnosticsOf(request, lateTraceMs, response),
      region: request.region,
      kind: 'write',
      weight: this.weightOf(request, folded),
      atTraceMs: request.atTraceMs,
      latencyMs,
      status,
      local: servedRegion === request.region,
    });
  }

  private async http(
    url: string,
    init: RequestInit,
  ): Promise<{
    status: number;
    servedRegion: string | null;
    servedBy: string | null;
    timing: string | null;
    body: string;
  }> {
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const body = await response.text();
      return {
        status: response.status,
        servedRegion: response.headers.get(SERVED_REGION_HEADER),
        servedBy: response.headers.get(SERVED_BY_HEADER),
        timing: response.headers.get(TIMING_HEADER),
        body,
      };
    } catch {
      return { status: 0, servedRegion: null, servedBy: null, timing: null, body: '' };
    }
  }

  /** Read back every key written and check it holds what was acknowledged (see the class comment). */
  async checkWrites(readUrl: (partition: string) => string): Promise<WriteCheck> {
    const problems: string[] = [];
    let lost = 0;
    let acked = 0;
    const entries = [...this.writeKeys].filter(([, s]) => s.acked);
    const concurrency = 16;
    for (let i = 0; i < entries.length; i += concurrency) {
      await Promise.all(
        entries.slice(i, i + concurrency).map(async ([id, state]) => {
          const [partition, index] = id.split('\u0000');
          const expected = state.acked!;
          acked += 1;
          lost += state.regressions;
          if (state.regressions > 0) problems.push(`${partition}/w${index}: acknowledged versions went back`);
          const { status, body } = await this.http(
            `${readUrl(partition)}/v1/partitions/${encodeURIComponent(partition)}/items/w${index}`,
            { method: 'GET' },
          );
          if (status !== 200) {
            lost += 1;
            problems.push(
              `${partition}/w${index}: read back ${status}, expected version ${expected.version}`,
            );
            return;
          }
          const read = JSON.parse(body) as { value: { seq: number }; version: number };
          const same = read.version === expected.version && read.value.seq === expected.seq;
          const later = read.version > expected.version && state.ambiguous.has(read.value.seq);
          if (!same && !later) {
            lost += 1;
            problems.push(
              `${partition}/w${index}: reads seq ${read.value.seq} v${read.version}, acknowledged seq ${expected.seq} v${expected.version}`,
            );
          }
        }),
      );
    }
    return {
      keysChecked: acked,
      writesAcked: this.options.measurements.writesAcked,
      writesLost: lost,
      problems,
    };
  }
}
