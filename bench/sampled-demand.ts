import type { DemandTrace } from '../src/domain/simulation/demand-trace.ts';
import type { RequestSampler } from '../src/live/request-sampler.ts';

const HOUR = 3_600_000;

/**
 * The demand the live recorders count from a sampler's requests, as ops/s per trace bucket: each request at the
 * weight it stands for, in the hour it arrives in (the recorders' bucket), spread evenly over that hour's buckets.
 * Shared by the live diagnostics (live-observation.ts, live-scaling-diag.ts).
 */
export function countedDemand(trace: DemandTrace, sampler: RequestSampler): DemandTrace {
  const width = trace.partitions.length * trace.regions.length;
  const bucketSeconds = trace.bucketMs / 1000;
  const reads = new Float64Array(trace.reads.length);
  const writes = new Float64Array(trace.writes.length);
  const perHour = HOUR / trace.bucketMs;
  const series = new Map(
    trace.partitions.flatMap((p, i) =>
      trace.regions.map((r, j) => [`${p}\u0000${r}`, i * trace.regions.length + j]),
    ),
  );
  for (let b = 0; b < trace.bucketCount; b++) {
    for (const q of sampler.requestsOf(b)) {
      const k = series.get(`${q.partition}\u0000${q.region}`)!;
      const w = q.standsFor ?? {
        reads: q.kind === 'read' ? 1 / sampler.requestScale : 0,
        writes: q.kind === 'write' ? 1 / sampler.requestScale : 0,
      };
      const at = q.atTraceMs - (q.atTraceMs % HOUR);
      const first = Math.max(0, Math.round((at - trace.startMs) / trace.bucketMs));
      for (let j = 0; j < perHour && first + j < trace.bucketCount; j++) {
        reads[(first + j) * width + k] += w.reads / perHour / bucketSeconds;
        writes[(first + j) * width + k] += w.writes / perHour / bucketSeconds;
      }
    }
  }
  return { ...trace, reads, writes };
}
