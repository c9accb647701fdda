import type { AccessCount, AccessStatsRepository, CoAccessCount } from '../domain/data-plane/ports.ts';

/**
 * Access counts as the profiler reads them: each region's interceptors record what arrived there in that
 * region's table (no cross-region write on the request path), and the profiler reads every region's table and
 * puts the counts together. Counts carry their region, so nothing is counted twice. `add` writes to one region's
 * table (`writer`), for callers that record in one place (seeding tests, a single-region deployment).
 */
export class MultiRegionAccessStats implements AccessStatsRepository {
  private readonly writer: AccessStatsRepository;
  private readonly byRegion: ReadonlyMap<string, AccessStatsRepository>;

  /**
   * The counters of many partitions in exactly these buckets, every region, by key (present when every regional
   * table can be read by key). Each region's table is asked for that region's counters; the writer's table for
   * every region's, since `add` puts any region's counters there.
   */
  readonly countsInBuckets?: (
    partitions: readonly string[],
    bucketStartsMs: readonly number[],
  ) => Promise<AccessCount[]>;

  constructor(writer: AccessStatsRepository, byRegion: ReadonlyMap<string, AccessStatsRepository>) {
    this.writer = writer;
    this.byRegion = byRegion;
    const all = [...byRegion.keys()];
    if ([...byRegion.values()].every((repository) => repository.countsByKey)) {
      this.countsInBuckets = async (partitions, bucketStartsMs) => {
        const perRegion = await Promise.all(
          [...byRegion].map(([region, repository]) =>
            repository.countsByKey!(partitions, bucketStartsMs, repository === writer ? all : [region]),
          ),
        );
        return perRegion.flat();
      };
    }
  }

  add(counts: readonly AccessCount[], coAccess: readonly CoAccessCount[]): Promise<void> {
    return this.writer.add(counts, coAccess);
  }

  async countsFor(partition: string, sinceMs?: number): Promise<AccessCount[]> {
    const perRegion = await Promise.all(
      [...this.byRegion.values()].map((repository) => repository.countsFor(partition, sinceMs)),
    );
    return perRegion.flat();
  }

  async coAccessFor(partition: string, sinceMs?: number): Promise<CoAccessCount[]> {
    const perRegion = await Promise.all(
      [...this.byRegion.values()].map((repository) => repository.coAccessFor(partition, sinceMs)),
    );
    return perRegion.flat();
  }
}
