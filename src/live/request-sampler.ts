import type { AccessCount } from '../domain/data-plane/ports.ts';
import type { SampleWeight } from '../domain/data-plane/sample-weight.ts';
import { seededRandom } from '../domain/seeded-random.ts';
import type { DemandTrace } from '../domain/simulation/demand-trace.ts';
import type { LiveWindow } from './live-input.ts';

/** One request the load generator sends: who asks (its region) for what, and when in the trace. */
export interface SampledRequest {
  /** Trace instant the request is due, epoch ms. */
  readonly atTraceMs: number;
  readonly partition: string;
  readonly region: string;
  readonly kind: 'read' | 'write';
  /**
   * The trace's requests this one stands for, which the access recorder counts in its place (the
   * `x-prestage-sample-weight` header; see `SampleWeight`). Absent: the request counts as one.
   */
  readonly standsFor?: SampleWeight;
  /** Counted mode: a carrier (the sample had no request in this series and recorder bucket; see `carrierScale`). */
  readonly carrier?: true;
}

export interface RequestSamplerOptions {
  /** @default 0x11fe */
  readonly seed?: number;
  /**
   * The access recorders' bucket (ms, a multiple of the trace's bucket). When set, the sampler is *counted*:
   * every request carries what it stands for (`standsFor`), so that the recorders count the trace's exact
   * demand per partition × region × bucket, and every series with demand in a recorder bucket gets at least one
   * request there (a carrier). Without it the recorders count the sample, which at one request per hundreds of
   * thousands is mostly zeros: forecasts learned from it are noise (measured: the simulated predictive policy
   * fed those counts ends more remote than static).
   */
  readonly countingBucketMs?: number;
  /**
   * Counted mode, the carriers' budget: a series whose recorder bucket the sample missed gets a carrier with
   * probability min(1, C × carrierScale), C its trace requests there, weighted C divided by that probability, so
   * the counts stay unbiased, and exact wherever the probability is 1 (the busier series, which carry most of
   * the demand). `carrierScaleFor` picks the scale for a number of carriers. @default Infinity: a carrier
   * wherever there is demand
   */
  readonly carrierScale?: number;
}

/**
 * Turns a trace's demand (mean ops/s per bucket, partition, region, reads and writes apart) into the requests one
 * machine sends: `requestScale` requests per request of the trace. Each series keeps the fraction it could not
 * send yet and carries it to its next bucket (systematic sampling), so over any stretch the requests sent are
 * the trace's count times the scale, to within one per series, and the read/write mix, the regions' shares
 * and the daily shape are the trace's. Deterministic: the same trace and scale give the same requests.
 */
export class RequestSampler {
  readonly trace: DemandTrace;
  readonly requestScale: number;
  private readonly carryReads: Float64Array;
  private readonly carryWrites: Float64Array;
  private readonly random: () => number;
  readonly countingBucketMs: number | undefined;
  readonly carrierScale: number;
  /** Counted mode: requests already drawn for buckets of the current recorder bucket, by trace bucket. */
  private readonly drawn = new Map<number, SampledRequest[]>();

  constructor(trace: DemandTrace, requestScale: number, options: RequestSamplerOptions = {}) {
    RequestSampler.validateScale(requestScale);
    RequestSampler.validateCountingBucket(trace, options.countingBucketMs);
    this.trace = trace;
    this.requestScale = requestScale;
    this.countingBucketMs = options.countingBucketMs;
    this.carrierScale = options.carrierScale ?? Number.POSITIVE_INFINITY;
    RequestSampler.validateCarrierScale(this.carrierScale);
    const width = trace.partitions.length * trace.regions.length;
    // Start every series half-way to its first request, so low-rate series are not all late or all early.
    this.carryReads = new Float64Array(width).fill(0.5);
    this.carryWrites = new Float64Array(width).fill(0.5);
    this.random = seededRandom(options.seed ?? 0x11fe);
  }

  private static validateScale(scale: number): void {
    if (!(Number.isFinite(scale) && scale > 0)) {
      throw new RangeError(`requestScale must be a positive number, got ${scale}`);
    }
  }

  private static validateCarrierScale(scale: number): void {
    if (!(scale > 0)) throw new RangeError(`carrierScale must be a positive number, got ${scale}`);
  }

  private static validateCountingBucket(trace: DemandTrace, bucketMs: number | undefined): void {
    if (bucketMs === undefined) return;
    if (!(Number.isInteger(bucketMs) && bucketMs > 0 && bucketMs % trace.bucketMs === 0)) {
      throw new RangeError(
        `countingBucketMs must be a positive multiple of the trace's bucket (${trace.bucketMs} ms), got ${bucketMs}`,
      );
    }
  }

  /** Whether every request carries the demand it stands for (see `RequestSamplerOptions.countingBucketMs`). */
  get counted(): boolean {
    return this.countingBucketMs !== undefined;
  }

  /** The start of the recorder bucket trace bucket `bucket` falls in (as the recorders bucket their clock). */
  private recorderBucketOf(bucket: number, recorderBucketMs: number): number {
    const at = this.trace.startMs + bucket * this.trace.bucketMs;
    return at - (at % recorderBucketMs);
  }

  /** Requests the trace's demand makes in one series and bucket, as this sampler counts them. */
  private take(carry: Float64Array, index: number, opsPerSec: number): number {
    const expected = carry[index] + opsPerSec * (this.trace.bucketMs / 1000) * this.requestScale;
    const n = Math.floor(expected);
    carry[index] = expected - n;
    return n;
  }

  /** The requests of bucket `bucket`, spread over the bucket in a shuffled order, sorted by due time. */
  requestsOf(bucket: number): SampledRequest[] {
    if (this.countingBucketMs !== undefined) return this.countedRequestsOf(bucket, this.countingBucketMs);
    return this.sampledRequestsOf(bucket);
  }

  private sampledRequestsOf(bucket: number): SampledRequest[] {
    const { trace } = this;
    const out: SampledRequest[] = [];
    const P = trace.partitions.length;
    const R = trace.regions.length;
    const bucketStart = trace.startMs + bucket * trace.bucketMs;
    for (let p = 0; p < P; p++) {
      for (let r = 0; r < R; r++) {
        const series = p * R + r;
        const index = bucket * P * R + series;
        const reads = this.take(this.carryReads, series, trace.reads[index]);
        const writes = this.take(this.carryWrites, series, trace.writes[index]);
        for (let i = 0; i < reads + writes; i++) {
          out.push({
            atTraceMs: bucketStart + Math.floor(this.random() * trace.bucketMs),
            partition: trace.partitions[p],
            region: trace.regions[r],
            kind: i < reads ? 'read' : 'write',
          });
        }
      }
    }
    return out.sort((a, b) => a.atTraceMs - b.atTraceMs);
  }

  /**
   * Counted mode: the first call for a recorder bucket draws the whole of it from `bucket` on (earlier buckets of
   * it were history, counted exactly by `countsOver`): the systematic sample, then, per series, a carrier
   * request when the sample has none but the trace has demand, and every request of the series weighted by an
   * equal share of the series' exact reads and writes there. Requests are kept until their bucket is asked for.
   */
  private countedRequestsOf(bucket: number, recorderBucketMs: number): SampledRequest[] {
    const ready = this.drawn.get(bucket);
    if (ready) {
      this.drawn.delete(bucket);
      return ready;
    }
    const { trace } = this;
    const P = trace.partitions.length;
    const R = trace.regions.length;
    const recorderBucket = this.recorderBucketOf(bucket, recorderBucketMs);
    let last = bucket;
    while (
      last + 1 < trace.bucketCount &&
      this.recorderBucketOf(last + 1, recorderBucketMs) === recorderBucket
    )
      last += 1;
    const seconds = trace.bucketMs / 1000;
    const spanStart = trace.startMs + bucket * trace.bucketMs;
    const spanMs = (last - bucket + 1) * trace.bucketMs;
    const byBucket = new Map<number, SampledRequest[]>();
    for (let b = bucket; b <= last; b++) byBucket.set(b, []);
    const series: { b: number; atTraceMs: number; kind: 'read' | 'write'; carrier?: true }[] = [];
    for (let p = 0; p < P; p++) {
      for (let r = 0; r < R; r++) {
        const k = p * R + r;
        let reads = 0;
        let writes = 0;
        series.length = 0;
        for (let b = bucket; b <= last; b++) {
          const index = b * P * R + k;
          reads += trace.reads[index] * seconds;
          writes += trace.writes[index] * seconds;
          const nReads = this.take(this.carryReads, k, trace.reads[index]);
          const nWrites = this.take(this.carryWrites, k, trace.writes[index]);
          const start = trace.startMs + b * trace.bucketMs;
          for (let i = 0; i < nReads + nWrites; i++) {
            series.push({
              b,
              atTraceMs: start + Math.floor(this.random() * trace.bucketMs),
              kind: i < nReads ? 'read' : 'write',
            });
          }
        }
        if (reads + writes <= 0) continue;
        let inclusion = 1;
        if (series.length === 0) {
          inclusion = Math.min(1, (reads + writes) * this.carrierScale);
          if (inclusion < 1 && this.random() >= inclusion) continue;
          const atTraceMs = spanStart + Math.floor(this.random() * spanMs);
          const b = bucket + Math.floor((atTraceMs - spanStart) / trace.bucketMs);
          series.push({ b, atTraceMs, kind: reads >= writes ? 'read' : 'write', carrier: true });
        }
        const share = inclusion * series.length;
        const standsFor = { reads: reads / share, writes: writes / share };
        for (const q of series) {
          byBucket.get(q.b)!.push({
            atTraceMs: q.atTraceMs,
            partition: trace.partitions[p],
            region: trace.regions[r],
            kind: q.kind,
            standsFor,
            ...(q.carrier ? { carrier: true as const } : {}),
          });
        }
      }
    }
    for (const [b, requests] of byBucket) {
      requests.sort((x, y) => x.atTraceMs - y.atTraceMs);
      if (b !== bucket) this.drawn.set(b, requests);
    }
    return byBucket.get(bucket)!;
  }

  /**
   * What the interceptors' access recorders would have counted had these requests been sent over buckets
   * [from, to): one count per partition × region × recorder bucket, per region (the region the requests arrived
   * in, where each region's recorder writes). Counted mode: the trace's exact reads and writes, in trace units.
   * Advances the sampler as sending would.
   */
  countsOver(fromBucket: number, toBucket: number, recorderBucketMs: number): Map<string, AccessCount[]> {
    const { trace } = this;
    const P = trace.partitions.length;
    const R = trace.regions.length;
    const merged = new Map<
      string,
      { count: number; writes: number; bucketStartMs: number; p: number; r: number }
    >();
    for (let b = fromBucket; b < toBucket; b++) {
      const at = trace.startMs + b * trace.bucketMs;
      const recorderBucket = at - (at % recorderBucketMs);
      for (let p = 0; p < P; p++) {
        for (let r = 0; r < R; r++) {
          const series = p * R + r;
          const index = b * P * R + series;
          const sampledReads = this.take(this.carryReads, series, trace.reads[index]);
          const sampledWrites = this.take(this.carryWrites, series, trace.writes[index]);
          // Counted: the trace's own reads and writes, which is what the requests' weights add up to.
          const reads = this.counted ? trace.reads[index] * (trace.bucketMs / 1000) : sampledReads;
          const writes = this.counted ? trace.writes[index] * (trace.bucketMs / 1000) : sampledWrites;
          if (reads + writes === 0) continue;
          const key = `${series}:${recorderBucket}`;
          const entry = merged.get(key);
          if (entry) {
            entry.count += reads + writes;
            entry.writes += writes;
          } else merged.set(key, { count: reads + writes, writes, bucketStartMs: recorderBucket, p, r });
        }
      }
    }
    const byRegion = new Map<string, AccessCount[]>(trace.regions.map((region) => [region, []]));
    for (const e of merged.values()) {
      byRegion.get(trace.regions[e.r])!.push({
        partition: trace.partitions[e.p],
        region: trace.regions[e.r],
        bucketStartMs: e.bucketStartMs,
        count: e.count,
        writes: e.writes,
      });
    }
    return byRegion;
  }
}

/**
 * The carrier scale (see `RequestSamplerOptions.carrierScale`) that sends about `carriers` carriers over buckets
 * [from, to): found by bisection over the series' recorder-bucket counts that the sample at `requestScale`
 * would mostly miss (less than one sampled request). Infinity when a carrier everywhere fits the budget.
 */
export function carrierScaleFor(
  trace: DemandTrace,
  fromBucket: number,
  toBucket: number,
  countingBucketMs: number,
  requestScale: number,
  carriers: number,
): number {
  const width = trace.partitions.length * trace.regions.length;
  const seconds = trace.bucketMs / 1000;
  const missed: number[] = [];
  const sums = new Float64Array(width);
  let open = Number.NaN;
  const close = () => {
    for (let k = 0; k < width; k++) {
      if (sums[k] > 0 && sums[k] * requestScale < 1) missed.push(sums[k]);
      sums[k] = 0;
    }
  };
  for (let b = fromBucket; b < toBucket; b++) {
    const at = trace.startMs + b * trace.bucketMs;
    const recorderBucket = at - (at % countingBucketMs);
    if (recorderBucket !== open) {
      close();
      open = recorderBucket;
    }
    for (let k = 0; k < width; k++)
      sums[k] += (trace.reads[b * width + k] + trace.writes[b * width + k]) * seconds;
  }
  close();
  if (missed.length <= carriers) return Number.POSITIVE_INFINITY;
  const expected = (scale: number) => missed.reduce((n, c) => n + Math.min(1, c * scale), 0);
  let low = 0;
  let high = 1;
  while (expected(high) < carriers) high *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (expected(mid) < carriers) low = mid;
    else high = mid;
  }
  return high;
}

/** Carriers per wall second `prestage up` sends at most: every series-hour of the bundled trace. */
export const DEFAULT_CARRIERS_PER_SECOND = 340;

/**
 * The sampler `prestage up` replays a window with: counted in the recorders' buckets, with the carriers' scale
 * that sends about `carriersPerSecond` carriers a wall second over the window.
 */
export function countedSamplerFor(
  trace: DemandTrace,
  window: Pick<LiveWindow, 'startBucket' | 'endBucket' | 'startMs' | 'endMs' | 'speed' | 'requestScale'>,
  countingBucketMs: number,
  carriersPerSecond: number = DEFAULT_CARRIERS_PER_SECOND,
): RequestSampler {
  const wallSeconds = (window.endMs - window.startMs) / window.speed / 1000;
  const carrierScale = carrierScaleFor(
    trace,
    window.startBucket,
    window.endBucket,
    countingBucketMs,
    window.requestScale,
    carriersPerSecond * wallSeconds,
  );
  return new RequestSampler(trace, window.requestScale, { countingBucketMs, carrierScale });
}

/** Total requests (reads + writes) the trace makes over buckets [from, to). */
export function traceRequests(trace: DemandTrace, fromBucket: number, toBucket: number): number {
  const width = trace.partitions.length * trace.regions.length;
  let total = 0;
  for (let i = fromBucket * width; i < toBucket * width; i++) total += trace.reads[i] + trace.writes[i];
  return total * (trace.bucketMs / 1000);
}
