import { NEMESIS_LEASE, type NemesisRunOptions } from './nemesis-options.ts';

/** Every storage fault at once, at rates that still let migrations finish in seconds. */
export const FULL_STORAGE_NEMESIS = {
  throttleRate: 0.03,
  lostResponseRate: 0.05,
  indexLagMs: 3_000,
  latencySpikeRate: 0.02,
  latencySpikeMs: 300,
  freezeRate: 0.2,
  replicationLagMs: 600,
} as const;

/** The client faults: skew beyond the budget, a host suspended longer than a lease, a longer-lease config. */
export const FAULTY_CLIENTS: NemesisRunOptions['faultyClients'] = [
  { skewMs: 3_000 },
  { suspend: { everyMs: 1_500, forMs: 800 } },
  { leaseTtlMs: 5_000 },
];

type Scenario = Omit<NemesisRunOptions, 'seed' | 'durationMs'>;

/**
 * Lease settings for attacks that are not on the lease rules: long enough that a loaded 2-core machine, where a
 * request can take hundreds of milliseconds, still answers reads within their lease and writes within their
 * deadline, so the attack sees a busy workload however slow the machine.
 */
const SLOW_MACHINE_LEASE = { ...NEMESIS_LEASE, leaseTtlMs: 1_000, maxRequestMs: 1_500 };

/**
 * A protection, the scenario that attacks it, and the switch that turns it off. With the protection on the
 * checker must find nothing; with it off it must report `expect` (the negative control: the suite can fail).
 */
export interface ProtectionAttack {
  readonly protection: string;
  readonly attack: Scenario;
  readonly unsafe: NonNullable<NemesisRunOptions['unsafe']>;
  /** Anomaly classes the checker reports when the protection is off (at least one of them). */
  readonly expect: readonly string[];
  /**
   * Whether one short run catches the loss every time. A control that needs a rare interleaving runs in the
   * bench only, over many seeds, where its detection rate is reported, and not in CI, where a miss would be a
   * flaky failure. Every attack here now forces its interleaving (targeted faults, zombie stalls until a stage,
   * a workload that lasts until the attacked migrations ended), so all of them run in CI.
   */
  readonly reliableInOneRun: boolean;
}

export const PROTECTION_ATTACKS: readonly ProtectionAttack[] = [
  {
    protection: 'reads shift only after the leases of source-only writers ran out (mirroring phase wait)',
    // Clients keep `preparing` (writes to the source alone) for up to 4 s after mirroring starts: longer than a
    // verify and the read shift take even on a loaded machine, so source-only writes land after the pass has read
    // their keys and go on after reads shifted, while readers that refreshed their routing read the target.
    // The index lags, so the shift's catch-up cannot mask the gap.
    attack: {
      lease: { ...NEMESIS_LEASE, leaseTtlMs: 4_000 },
      partitions: 3,
      keysPerPartition: 2,
      writers: 6,
      readers: 4,
      canaryPlans: [[1]],
      // As long as a lease: every reader refreshes its routing, and reads the target, before the fence.
      canaryWaitMs: 4_000,
      storage: { indexLagMs: 15_000 },
      minMigrationsEnded: 3,
      // The lease waits (4.4 s) are done inline; a 3 s Task timeout would retry them as zombies.
      taskTimeoutSeconds: 10,
    },
    unsafe: { skipMirrorWait: true },
    expect: ['staleRead'],
    reliableInOneRun: true,
  },
  {
    protection: 'no switch and no read shift trusts the changes index: exact verifies against the source',
    // The index hides every write for 15 s, far beyond `indexLagMs`: catch-up sees none of the writes made
    // during the copy. Many keys, so such a write is often not healed by a later mirrored write of its key.
    attack: {
      partitions: 2,
      keysPerPartition: 40,
      writers: 6,
      readers: 2,
      canaryPlans: [[]],
      // 15 s: longer than a migration takes from copy to switch even on a loaded machine.
      storage: { indexLagMs: 15_000 },
      minMigrationsEnded: 3,
    },
    unsafe: { trustChangesIndex: true },
    expect: ['lost', 'staleRead'],
    reliableInOneRun: true,
  },
  {
    protection: 'a write whose mirror to the migration target failed is not acknowledged',
    // Partitions move across regions, and every appender's link to the other region drops half of its writes
    // before they arrive: while writes are mirrored, an appender in the source's region writes the source and
    // often fails to mirror to the target. The index lags, so the shift's catch-up rounds do not carry such a
    // write; all reads go to the target for 2.5 s, and appenders, reading there too, cannot overwrite the key
    // (their If-Match version is behind), so the key stays stale on the target until a sampled read repair or
    // the cutover's exact verify. Six readers read every key many times in that window, and the workload lasts
    // until both migrations have ended, however slow the machine.
    attack: {
      // Long leases and request deadlines (not what is attacked), so a loaded machine still serves reads and
      // acknowledges writes: with 150 ms leases a slow machine answers most reads after their lease and retries.
      lease: SLOW_MACHINE_LEASE,
      partitions: 2,
      keysPerPartition: 12,
      writers: 0,
      readers: 6,
      faultyClients: Array.from({ length: 6 }, () => ({ dropRemoteWriteRate: 0.5 })),
      crossRegionMoves: true,
      minMigrationsEnded: 2,
      canaryPlans: [[1]],
      canaryWaitMs: 2_500,
      storage: { indexLagMs: 5_000 },
    },
    unsafe: { client: { acknowledgeUnmirroredWrites: true } },
    expect: ['staleRead', 'lost'],
    reliableInOneRun: true,
  },
  {
    protection:
      'a conditional write refused after an SDK retry is diagnosed by its own HLC, never reported refused',
    attack: { storage: { lostResponseRate: 0.3 } },
    unsafe: { trustRetriedRefusals: true },
    expect: ['phantom', 'duplicated', 'lost'],
    reliableInOneRun: true,
  },
  {
    protection: 'a read answered after its routing lease ran out is sent again',
    // Half the reads of six readers reach the table 4 to 8 s after they were routed (a GC pause, a throttled
    // GetItem sent again after the SDK's backoff): longer than a cutover takes from the fence to the removal
    // of the source's items, even on a loaded machine. A read routed to the source just before the fence then arrives after the source was
    // emptied and finds nothing. Every migration removes its source, and the workload lasts until two have ended.
    attack: {
      partitions: 1,
      keysPerPartition: 2,
      writers: 3,
      readers: 2,
      faultyReaders: Array.from({ length: 6 }, () => ({ lateReads: { rate: 0.5, delayMs: 4_000 } })),
      retainSource: false,
      minMigrationsEnded: 2,
      canaryPlans: [[]],
    },
    unsafe: { client: { trustLateReads: true } },
    expect: ['staleRead', 'lost'],
    reliableInOneRun: true,
  },
  {
    protection: 'leases are timed on the wall clock too (a suspended host does not trust an expired lease)',
    // One partition, always moving, and six hosts (three per region) that sleep through whole migrations with a
    // fresh entry.
    attack: {
      partitions: 1,
      keysPerPartition: 3,
      canaryPlans: [[]],
      faultyClients: [300, 350, 400, 450, 500, 550].map((everyMs) => ({
        suspend: { everyMs, forMs: 3_000 },
      })),
      // However slow the machine, the workload spans two whole migrations.
      minMigrationsEnded: 2,
    },
    unsafe: { client: { monotonicClockOnly: true } },
    expect: ['lost', 'staleRead'],
    reliableInOneRun: true,
  },
  {
    protection: 'clients honour the lease terms on the partition record, whatever their own configuration',
    attack: {
      // Two partitions moved twice each: a client's first fetch can land while the first move of its partition is
      // already mirroring (those writes reach the target too), so the loss comes from the second move, after the
      // client has cached the routing of the first.
      partitions: 2,
      keysPerPartition: 3,
      // Six clients configured with leases longer than the run: a client that ignores the record's terms keeps the
      // routing it fetched before the first migration and writes to the source after the switch. With 5 s or 20 s
      // leases the attack depended on timing: on a loaded machine (load average 9-11) the switch came after the
      // client's lease had run out and its refetch was already fenced, and the control caught 0/4, then 1/3.
      faultyClients: Array.from({ length: 6 }, () => ({ leaseTtlMs: 600_000 })),
      // The source is kept as a cold copy, so a stale client's compare-and-set still finds the items there after
      // the switch and is acknowledged (a removed source answers its If-Match with a conflict, which loses
      // nothing, and left the loss to a write landing in the short window before the removal).
      retainSource: true,
      minMigrationsEnded: 4,
    },
    unsafe: { client: { ignoreLeaseTerms: true } },
    expect: ['lost', 'staleRead', 'notPrefix'],
    reliableInOneRun: true,
  },
  {
    protection:
      'lease waits count from when every region can read the routing change (replica confirmation), not its commit',
    // Clients in both regions read routing from their own region's replica; replication falls 2 to 4 s behind,
    // longer than the cutover's wait, so a client in the lagging region still fetches the unfenced routing
    // after the wait and writes to the source after the switch.
    attack: {
      partitions: 2,
      keysPerPartition: 3,
      writers: 8,
      readers: 6,
      canaryPlans: [[1]],
      canaryWaitMs: 800,
      storage: { replicationLagMs: 4_000 },
      // Four moves, not two: with two, seed 9071 moved nothing while a lagging replica served a reader (0 caught).
      minMigrationsEnded: 4,
    },
    unsafe: { skipReplicaConfirmation: true },
    expect: ['lost', 'staleRead'],
    reliableInOneRun: true,
  },
  {
    protection:
      'destructive repairs touch only states older than the invocation that found them (the young bound)',
    // The first Verify invocation hangs past its Task timeout and comes back as a zombie once the retry has
    // started: while the retry starts mirroring and verifies, the zombie enters the stage too (its retry already
    // looked for repair windows), opens its repair window, and stalls before its first data read until 2 s after
    // the migration has switched to the target and begun removing the source. It resumes within its window (a long
    // budget, as in AWS, where a step may write for 30 s and a cutover takes seconds) and compares the new
    // primary with the old source, which lacks every write acknowledged since the switch: the primary's newer
    // states look like never-acknowledged ones. The source's removal waits for that window (retried every 200 ms,
    // as the state machine would, rather than give up).
    attack: {
      // Long leases (not what is attacked), so a loaded machine acknowledges writes after the switch.
      lease: SLOW_MACHINE_LEASE,
      partitions: 1,
      keysPerPartition: 6,
      writers: 6,
      readers: 2,
      canaryPlans: [[]],
      maxMigrations: 1,
      minMigrationsEnded: 1,
      zombie: { task: 'Verify', stall: { atRequests: [1], forMs: 2_000 }, untilStage: 'removeSource' },
      tuning: { stepBudgetMs: 30_000, maxInlineWaitMs: 3_000 },
      retryIntervalMs: 200,
      // Room for the retry's verify on a loaded machine, where it can take 3 s (its timeout would roll back).
      taskTimeoutSeconds: 6,
    },
    unsafe: { ignoreRepairYoungBound: true },
    expect: ['lost', 'staleRead', 'notPrefix'],
    reliableInOneRun: true,
  },
  {
    protection: 'each piece of a verify pass reads the copy before the authoritative side',
    // Every appender's clock is 10 s behind (beyond the skew budget), so its writes carry HLCs below any
    // destructive bound. The first Verify invocation hangs past its Task timeout and comes back as a zombie
    // alongside the retry: it reads the (single) shard of the source and stalls until reads have shifted to the
    // target; it then reads the target, finds the ranges differ, reads them again from the source and stalls
    // 1.5 s more before reading the target again. The target now holds the writes mirrored since, which look like
    // states the source never had, and the zombie replaces them with the older ones, on the copy the canary reads
    // use, for the rest of the 6 s canary phase.
    attack: {
      partitions: 1,
      keysPerPartition: 4,
      shardsPerPartition: 1,
      writers: 0,
      faultyClients: Array.from({ length: 6 }, () => ({ skewMs: 10_000 })),
      readers: 4,
      canaryPlans: [[1]],
      canaryWaitMs: 6_000,
      maxMigrations: 1,
      minMigrationsEnded: 1,
      zombie: { task: 'Verify', stall: { atRequests: [2, 4], forMs: 1_500 }, untilStage: 'shiftReads' },
      tuning: { stepBudgetMs: 20_000, maxInlineWaitMs: 2_000 },
      retryIntervalMs: 200,
      taskTimeoutSeconds: 6,
      // Read repairs would heal the copy within a second; they are an optimisation, not what is checked here.
      readRepairRate: 0,
    },
    unsafe: { readSourceFirst: true },
    expect: ['staleRead', 'lost'],
    reliableInOneRun: true,
  },
];
