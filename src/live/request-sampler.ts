import type { AccessCount } from '../domain/data-plane/ports.ts';
import { seededRandom } from '../domain/seeded-random.ts';
import type { DemandTrace } from '../domain/simulation/demand-trace.ts';

/** One request the load generator sends: who asks (its region) for what, and when in the trace. */
export interface SampledRequest {
  /** Trace instant the request is due, epoch ms. */
  readonly atTraceMs: number;
  readonly partition: string;
  readonly region: string;
  readonly kind: 'read' | 'write';
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

  constructor(trace: DemandTrace, requestScale: number, seed = 0x11fe) {
    RequestSampler.validateScale(requestScale);
    this.trace = trace;
    this.requestScale = requestScale;
    const width = trace.partitions.length * trace.regions.length;
    // Start every series half-way to its first request, so low-rate series are not all late or all early.
    this.carryReads = new Float64Array(width).fill(0.5);
    this.carryWrites = new Float64Array(width).fill(0.5);
    this.random = seededRandom(seed);
  }

  private static validateScale(scale: number): void {
    if (!(Number.isFinite(scale) && scale > 0)) {
      throw new RangeError(`requestScale must be a positive number, got ${scale}`);
    }
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
   * What the interceptors' access recorders would have counted had these requests been sent over buckets
   * [from, to): one count per partition × region × recorder bucket, per region (the region the requests arrived
   * in, where each region's recorder writes). Advances the sampler as sending would.
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
          const reads = this.take(this.carryReads, series, trace.reads[index]);
          const writes = this.take(this.carryWrites, series, trace.writes[index]);
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

/** Total requests (reads + writes) the trace makes over buckets [from, to). */
export function traceRequests(trace: DemandTrace, fromBucket: number, toBucket: number): number {
  const width = trace.partitions.length * trace.regions.length;
  let total = 0;
  for (let i = fromBucket * width; i < toBucket * width; i++) total += trace.reads[i] + trace.writes[i];
  return total * (trace.bucketMs / 1000);
}
