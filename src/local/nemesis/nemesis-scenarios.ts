import type { NemesisRunOptions } from './nemesis-run.ts';
import { NEMESIS_LEASE } from './nemesis-run.ts';

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
   * Whether one short run catches the loss every time. A control that needs a rare interleaving (a mirror
   * failing during the read shift, then a canary read of that key before repair) runs in the bench, over many
   * seeds, where its detection rate is reported, and not in CI, where a miss would be a flaky failure.
   */
  readonly reliableInOneRun: boolean;
}

export const PROTECTION_ATTACKS: readonly ProtectionAttack[] = [
  {
    protection: 'reads shift only after the leases of source-only writers ran out (mirroring phase wait)',
    // Clients keep `preparing` for up to a second; the index lags, so catch-up cannot mask the gap.
    attack: {
      lease: { ...NEMESIS_LEASE, leaseTtlMs: 1_000 },
      partitions: 3,
      keysPerPartition: 2,
      writers: 6,
      readers: 4,
      canaryPlans: [[1]],
      canaryWaitMs: 400,
      storage: { indexLagMs: 5_000 },
    },
    unsafe: { skipMirrorWait: true },
    expect: ['staleRead'],
    reliableInOneRun: true,
  },
  {
    protection: 'no switch and no read shift trusts the changes index: exact verifies against the source',
    // The index hides every write for 5 s, far beyond `indexLagMs`: catch-up sees none of the writes made
    // during the copy. Many keys, so such a write is often not healed by a later mirrored write of its key.
    attack: {
      partitions: 2,
      keysPerPartition: 40,
      writers: 6,
      readers: 2,
      canaryPlans: [[]],
      storage: { indexLagMs: 5_000 },
    },
    unsafe: { trustChangesIndex: true },
    expect: ['lost', 'staleRead'],
    reliableInOneRun: true,
  },
  {
    protection: 'a write whose mirror to the migration target failed is not acknowledged',
    // Many keys and few writers, so a write whose mirror failed is not soon healed by the next (mirrored) write
    // of its key; many readers, so one reads the key on the target before the migration's repair does.
    attack: {
      partitions: 2,
      keysPerPartition: 12,
      writers: 3,
      readers: 6,
      canaryPlans: [[1]],
      canaryWaitMs: 1_500,
      storage: { indexLagMs: 5_000, latencySpikeRate: 0.3, latencySpikeMs: 600 },
    },
    unsafe: { client: { acknowledgeUnmirroredWrites: true } },
    expect: ['staleRead', 'lost'],
    reliableInOneRun: false,
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
    // Heavy throttling: the SDK retries a throttled GetItem after about a second, longer than the cutover's
    // wait. A read routed to the source just before the fence is then answered after the switch, once the
    // source's items are being removed.
    attack: {
      partitions: 1,
      keysPerPartition: 2,
      writers: 3,
      readers: 8,
      canaryPlans: [[]],
      storage: { throttleRate: 0.25 },
    },
    unsafe: { client: { trustLateReads: true } },
    expect: ['staleRead', 'lost'],
    reliableInOneRun: false,
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
    },
    unsafe: { client: { monotonicClockOnly: true } },
    expect: ['lost', 'staleRead'],
    reliableInOneRun: true,
  },
  {
    protection: 'clients honour the lease terms on the partition record, whatever their own configuration',
    attack: {
      partitions: 3,
      keysPerPartition: 2,
      faultyClients: [{ leaseTtlMs: 5_000 }, { leaseTtlMs: 5_000 }],
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
    },
    unsafe: { skipReplicaConfirmation: true },
    expect: ['lost', 'staleRead'],
    reliableInOneRun: true,
  },
];
