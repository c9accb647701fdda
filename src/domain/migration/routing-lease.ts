/**
 * Routing leases: the timing rules that let a cutover use only single-item conditional writes (no
 * transactions, no streams), and their assumptions. See docs/migration.md for the full argument.
 *
 * Assumptions (each one is a configuration value below):
 * 1. An interceptor uses a cached routing entry only while `leaseTtlMs` have not passed on its monotonic clock
 *    since it *sent* the read that fetched it (the read is strongly consistent).
 * 2. An interceptor acknowledges a data write only if DynamoDB answered it within `maxRequestMs` of the moment
 *    it took the write's HLC (just before sending it).
 *    A write that lands later is never acknowledged. Unconditional bulk writers (copy pages) hold a writer
 *    lease instead, and DynamoDB applies a request within `maxRequestMs` of its arrival or never.
 * 3. Monotonic clocks run at a rate within `clockDriftRate` of real time; wall clocks of any two hosts
 *    differ by at most `maxClockSkewMs`.
 * 4. An item written to a data table usually appears in its `changes` index within `indexLagMs` (0 on
 *    dynalite; DynamoDB's GSIs are eventually consistent, usually well under a second). This one is a
 *    performance assumption only: catch-up uses it to size its overlap, and nothing that decides correctness
 *    trusts it (the cutover switches only after an exact verify of the frozen source).
 */
export interface RoutingLeaseConfig {
  readonly leaseTtlMs: number;
  readonly maxRequestMs: number;
  readonly maxClockSkewMs: number;
  readonly clockDriftRate: number;
  readonly indexLagMs: number;
}

/**
 * The AWS defaults. W = (2 s + 1 s)·1.001 + 1 s ≈ 4 s of refused writes at most per cutover (plus the final
 * catch-up and verify), for half a strongly consistent read per second per hot partition per interceptor
 * instance ($0.16 a month at on-demand prices). 5 s / 3 s cost 9 s per cutover; BENCHMARKS.md, "Cutover
 * unavailability", has the trade-off. A write DynamoDB has not answered within 1 s is answered 503 (in doubt).
 */
export const DEFAULT_ROUTING_LEASE: RoutingLeaseConfig = {
  leaseTtlMs: 2_000,
  maxRequestMs: 1_000,
  maxClockSkewMs: 1_000,
  clockDriftRate: 0.001,
  indexLagMs: 2_000,
};

/**
 * The lease terms a partition's record carries: every client routing with the record honours the shorter of
 * these and its own settings, and every migration of the partition waits with the longer. So the cutover's
 * argument holds however a client was configured (another version, another environment variable, an embedded
 * client with its own idea), and the terms can only be raised: a migration's `acquire` writes the longer of the
 * record's and its own.
 */
export interface LeaseTerms {
  readonly leaseTtlMs: number;
  readonly maxRequestMs: number;
}

export function leaseTermsOf(config: RoutingLeaseConfig): LeaseTerms {
  return { leaseTtlMs: config.leaseTtlMs, maxRequestMs: config.maxRequestMs };
}

/** What a client may use: its own settings, shortened to the record's terms. */
export function clientLease(config: RoutingLeaseConfig, terms: LeaseTerms | undefined): RoutingLeaseConfig {
  if (!terms) return config;
  return {
    ...config,
    leaseTtlMs: Math.min(config.leaseTtlMs, terms.leaseTtlMs),
    maxRequestMs: Math.min(config.maxRequestMs, terms.maxRequestMs),
  };
}

/** What a migration must assume: its own settings, lengthened to the record's terms. */
export function migrationLease(
  config: RoutingLeaseConfig,
  terms: LeaseTerms | undefined,
): RoutingLeaseConfig {
  if (!terms) return config;
  return {
    ...config,
    leaseTtlMs: Math.max(config.leaseTtlMs, terms.leaseTtlMs),
    maxRequestMs: Math.max(config.maxRequestMs, terms.maxRequestMs),
  };
}

/**
 * Time elapsed since an instant taken on both clocks: the larger of the two. A monotonic clock stops while a
 * host is suspended (a laptop lid, a paused VM), the wall clock does not; a wall clock can be stepped back by
 * NTP, the monotonic clock cannot. Taking the larger never overstates how fresh a lease is.
 */
export function elapsedMs(startMono: number, startWall: number, nowMono: number, nowWall: number): number {
  return Math.max(nowMono - startMono, nowWall - startWall);
}

/** May a client still route with an entry whose fetch began `elapsed` ms ago (see elapsedMs)? */
export function isLeaseValid(elapsed: number, config: RoutingLeaseConfig): boolean {
  return elapsed < config.leaseTtlMs;
}

/**
 * How long the cutover waits after its fence committed before the final catch-up and the exact verify of the
 * frozen source. Every write an interceptor acknowledges was sent while its lease was valid (before fence +
 * TTL·(1+ρ)), and answered within maxRequest·(1+ρ), so it landed by then. The wait is checked against wall
 * clocks on another host, hence the skew. No index lag: the switch does not trust the `changes` index (the
 * final verify compares the frozen source with the target item by item), so a lagging GSI costs time, never
 * data. The same wait separates `mirroring` from the first shifted read.
 */
export function cutoverWaitMs(config: RoutingLeaseConfig): number {
  const drift = 1 + config.clockDriftRate;
  return Math.ceil(config.leaseTtlMs * drift + config.maxRequestMs * drift + config.maxClockSkewMs);
}

/**
 * How far before a point in time a catch-up must look in the `changes` index. An acknowledged write took its
 * HLC at most maxRequest·(1+ρ) before it landed (the acknowledgement rule counts from the HLC tick), on a clock
 * at most `skew` behind: one that landed at real time t carries an HLC of at least t − maxRequest·(1+ρ) − skew,
 * and is visible in the index by t + indexLag.
 */
export function changeWindowMs(config: RoutingLeaseConfig): number {
  return Math.ceil(
    config.maxClockSkewMs + config.indexLagMs + config.maxRequestMs * (1 + config.clockDriftRate),
  );
}

/**
 * End (epoch ms, on the writer's wall clock) of a lease for an unconditional writer that stops sending at
 * `startMs + budgetMs`: requests sent before then land within maxRequest; readers on other hosts may be
 * `maxClockSkewMs` ahead.
 */
export function writerLeaseEndMs(startWallMs: number, budgetMs: number, config: RoutingLeaseConfig): number {
  const drift = 1 + config.clockDriftRate;
  return Math.ceil(startWallMs + budgetMs * drift + config.maxRequestMs * drift + config.maxClockSkewMs);
}

/** Retry-After for a fenced write: the time left until the switch can happen, at least one second. */
export function fencedRetryAfterSeconds(
  fencedAtMs: number | undefined,
  nowMs: number,
  config: RoutingLeaseConfig,
) {
  if (fencedAtMs === undefined) return 1;
  const remaining = fencedAtMs + cutoverWaitMs(config) - nowMs;
  return Math.max(1, Math.ceil(remaining / 1000));
}
