import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CellHealth } from '../../src/data-plane/cell-health.ts';
import type { RoutingClient } from '../../src/data-plane/routing-client.ts';
import { shardOf } from '../../src/domain/data-plane/key-hash.ts';
import type { PartitionRecord } from '../../src/domain/data-plane/partition-record.ts';
import { HybridLogicalClock } from '../../src/domain/migration/hlc.ts';
import { MIGRATION_STAGES, type MigrationStage } from '../../src/domain/migration/migration-stage.ts';
import type { EmbeddedCluster } from '../../src/local/embedded-cluster.ts';
import { FAULT_MODES, FaultInjector, type FaultMode } from '../../src/local/fault-injector.ts';
import type { MigrationExecution } from '../../src/local/local-migration-runner.ts';
import { migrationRunner } from '../support/migration-harness.ts';
import { clientOn, startTestCluster, TEST_LEASE } from '../support/test-cluster.ts';
import { observeInCell, observeThrough, Workload } from '../support/workload.ts';

/**
 * The data plane's correctness suite: migrations run while writers and readers go through several
 * interceptors (each with its own routing cache and a skewed clock), with faults injected at every stage, every
 * step run twice, stale routing caches used on purpose, and moves back that ship only the delta.
 *
 * The property, checked after every migration ends (committed or rolled back): each key returns its last
 * acknowledged value (or a write whose outcome is unknown), nothing deleted comes back, and the partition table
 * points at a cell that holds all of it. PRESTAGE_CORRECTNESS_ROUNDS=n repeats the fault matrix n times.
 */

const ROUNDS = Number(process.env.PRESTAGE_CORRECTNESS_ROUNDS ?? 1);

interface Tally {
  migrations: number;
  committed: number;
  rolledBack: number;
  faults: number;
  staleWritesAcked: number;
  keysChecked: number;
  lost: number;
  resurrected: number;
}

describe('migration correctness under concurrent traffic and faults', () => {
  let cluster: EmbeddedCluster;
  let clients: RoutingClient[];
  const tally: Tally = {
    migrations: 0,
    committed: 0,
    rolledBack: 0,
    faults: 0,
    staleWritesAcked: 0,
    keysChecked: 0,
    lost: 0,
    resurrected: 0,
  };
  const workloads: Workload[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster(['us-east-1', 'eu-west-1'], 2);
    // Interceptors with clocks up to the assumed skew apart, each with its own leased routing cache, spread over
    // both regions: each reads routing from its own region's replica (replicated from us-east-1 with a lag).
    clients = [-15, -5, 0, 8, 15].map((skew, i) => {
      const region = i % 2 === 0 ? 'us-east-1' : 'eu-west-1';
      return clientOn(cluster, {
        clock: new HybridLogicalClock(`w${i}`, () => Date.now() + skew),
        readRepairRate: 0.2,
        region,
        partitions: cluster.partitionsIn(region),
        cells: cluster.cellsIn(region),
      });
    });
  });

  afterAll(async () => {
    const acked = workloads.reduce((sum, w) => sum + w.stats.acked, 0);
    const unknown = workloads.reduce((sum, w) => sum + w.stats.unknown, 0);
    const reads = workloads.reduce((sum, w) => sum + w.stats.reads, 0);
    process.stdout.write(
      [
        '',
        'migration correctness suite',
        `  migrations run:        ${tally.migrations} (${tally.committed} committed, ${tally.rolledBack} rolled back)`,
        `  writes acknowledged:   ${acked} (${unknown} with unknown outcome), reads: ${reads}`,
        `  stale-cache writes:    ${tally.staleWritesAcked} acknowledged through a pre-fence routing entry`,
        `  faults injected:       ${tally.faults}`,
        `  keys checked:          ${tally.keysChecked}`,
        `  values lost:           ${tally.lost}`,
        `  values resurrected:    ${tally.resurrected}`,
        '',
      ].join('\n'),
    );
    await cluster.close();
  });

  /** Check every key of a partition, through a fresh interceptor and directly in the cell routing points at. */
  async function checkPartition(
    workload: Workload,
    partition: string,
  ): Promise<{ lost: number; resurrected: number }> {
    const record = (await cluster.partitions.get(partition))!;
    const primary = cluster.stores.forCell(record.cell);
    const fresh = clientOn(cluster);
    let lost = 0;
    let resurrected = 0;
    for (const key of workload.ledger.keys(partition)) {
      for (const seen of [
        await observeThrough(fresh, partition, key),
        await observeInCell(primary, partition, record.shards, key),
      ]) {
        const verdict = workload.ledger.judge(partition, key, seen);
        if (verdict !== 'ok' && process.env.PRESTAGE_DEBUG) {
          console.log(
            verdict,
            partition,
            key,
            record.cell,
            seen,
            JSON.stringify(workload.ledger.history(partition, key)),
          );
          for (const cell of cluster.cellIds()) {
            const item = await cluster.stores
              .forCell(cell)
              .getItem({ partition, shard: shardOf(key, record.shards), key });
            if (item) console.log('   ', cell, item.version, item.hlc, item.deleted, item.value);
          }
          console.log('   ', JSON.stringify(record.lastMigration), JSON.stringify(record.replicas));
        }
        if (verdict === 'lost') lost += 1;
        if (verdict === 'resurrected') resurrected += 1;
      }
      tally.keysChecked += 1;
    }
    tally.lost += lost;
    tally.resurrected += resurrected;
    return { lost, resurrected };
  }

  /**
   * The end state of one migration: fence released, routing stable at the target (committed) or the source
   * (rolled back), and every key's last acknowledged write readable.
   */
  async function endState(
    workload: Workload,
    partition: string,
    execution: MigrationExecution,
    from: string,
    to: string,
  ) {
    const record = (await cluster.partitions.get(partition))!;
    tally.migrations += 1;
    if (execution.status === 'SUCCEEDED') tally.committed += 1;
    if (execution.status === 'ROLLED_BACK') tally.rolledBack += 1;
    expect(record.fence).toBeUndefined();
    expect(record.routing.phase).toBe('stable');
    expect(record.cell).toBe(execution.status === 'SUCCEEDED' ? to : from);
    // A writer that is still running is paused (its last write finished) while its keys are checked.
    if (workload.running) await workload.pause(partition);
    const result = await checkPartition(workload, partition);
    workload.resume(partition);
    return { record, ...result };
  }

  async function newPartitions(prefix: string, count: number, keys = 24) {
    const partitions = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    const workload = new Workload({ partitions, keysPerPartition: keys, clients });
    workloads.push(workload);
    await workload.seed();
    return { partitions, workload };
  }

  async function targetFor(partition: string, region?: string): Promise<{ from: string; to: string }> {
    const record = (await cluster.partitions.get(partition))!;
    const to = cluster
      .cellIds()
      .find((c) => c !== record.cell && (region === undefined || cluster.regionOfCell(c) === region))!;
    return { from: record.cell, to };
  }

  for (const mode of FAULT_MODES) {
    it(`keeps every acknowledged write with a ${mode} fault injected at each stage`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const t0 = Date.now();
        const { partitions, workload } = await newPartitions(`${mode}-r${round}`, MIGRATION_STAGES.length);
        if (process.env.PRESTAGE_DEBUG) console.log('seeded', Date.now() - t0);
        workload.start();
        const runs = await Promise.all(
          MIGRATION_STAGES.map(async (stage: MigrationStage, i) => {
            const partition = partitions[i];
            const { from, to } = await targetFor(partition, i % 2 === 0 ? 'eu-west-1' : undefined);
            // Each migration gets its own injector so a fault hits its own stage.
            const own = new FaultInjector();
            own.arm({ step: stage, mode: mode as FaultMode, times: 1 });
            const { runner: r } = migrationRunner(cluster, { faults: own });
            const execution = r.start({
              partition,
              targetCell: to,
              canarySteps: [0.5, 1],
              waitSeconds: 0,
              retainSource: i % 3 === 0,
            });
            const done = await r.wait(execution.migrationId);
            tally.faults += own.injected;
            if (process.env.PRESTAGE_DEBUG) {
              const ms = Date.parse(done.endedAt!) - Date.parse(done.startedAt);
              console.log(stage, mode, own.injected, done.status, ms, done.invocations, done.error?.cause);
            }
            return { stage, partition, from, to, done, injected: own.injected };
          }),
        );
        if (process.env.PRESTAGE_DEBUG) console.log('migrated', Date.now() - t0);
        await workload.stop();
        for (const { stage, partition, from, to, done, injected } of runs) {
          const expected = mode === 'error' ? 'ROLLED_BACK' : 'SUCCEEDED';
          // The fault hit its stage, and an error fault is what rolled the migration back.
          expect({ stage, status: done.status, injected, error: done.error }).toMatchObject({
            stage,
            status: expected,
            injected: 1,
            ...(mode === 'error'
              ? { error: { cause: `InjectedFaultError: injected failure in ${stage}` } }
              : {}),
          });
          const { lost, resurrected } = await endState(workload, partition, done, from, to);
          if ((lost || resurrected) && process.env.PRESTAGE_DEBUG) {
            const { input: _input, ...output } = (done.output ?? {}) as Record<string, unknown>;
            console.log('OUTPUT', from, '->', to, JSON.stringify(output));
          }
          expect({ stage, lost, resurrected }).toEqual({ stage, lost: 0, resurrected: 0 });
        }
        if (process.env.PRESTAGE_DEBUG) console.log('checked', Date.now() - t0, workload.unexpected.length);
        expect(workload.stats.acked).toBeGreaterThan(partitions.length * 24);
      }
    });
  }

  it('runs every step twice without changing the outcome, and moves back A→B→A shipping only the delta', async () => {
    const { partitions, workload } = await newPartitions('twice', 2, 60);
    const [p] = partitions;
    const { runner } = migrationRunner(cluster, { twice: true });
    workload.start();
    const { from: a, to: b } = await targetFor(p, 'eu-west-1');
    const out = runner.start({
      partition: p,
      targetCell: b,
      canarySteps: [0.2, 1],
      waitSeconds: 0,
      retainSource: true,
    });
    const there = await runner.wait(out.migrationId);
    expect(there.error).toBeUndefined();
    expect(there.status).toBe('SUCCEEDED');
    const afterOut = await endState(workload, p, there, a, b);
    expect(afterOut.record.replicas[a]).toMatchObject({ state: 'cold', watermark: expect.any(String) });
    expect(afterOut).toMatchObject({ lost: 0, resurrected: 0 });

    const aStore = cluster.stores.forCell(a);
    const shippedBefore = aStore.counters.bytesWritten;
    const back = runner.start({ partition: p, targetCell: a, canarySteps: [1], waitSeconds: 0 });
    const home = await runner.wait(back.migrationId);
    expect(home.status).toBe('SUCCEEDED');
    expect((home.output as { replica: { mode: string } }).replica.mode).toBe('delta');
    const afterBack = await endState(workload, p, home, b, a);
    expect(afterBack).toMatchObject({ lost: 0, resurrected: 0 });
    // The move back shipped the writes since the move out, not the partition (the copy stage never ran).
    expect((home.output as { copy?: unknown }).copy).toBeUndefined();
    expect(aStore.counters.bytesWritten - shippedBefore).toBeGreaterThan(0);

    // The other partition: a plain move with every step doubled, removing the source.
    const q = partitions[1];
    const { from, to } = await targetFor(q);
    const plain = runner.start({ partition: q, targetCell: to, canarySteps: [0.5, 1], waitSeconds: 0 });
    const moved = await runner.wait(plain.migrationId);
    expect(moved.status).toBe('SUCCEEDED');
    expect(await endState(workload, q, moved, from, to)).toMatchObject({ lost: 0, resurrected: 0 });
    await workload.stop();
  });

  it('carries writes acknowledged through a stale pre-fence routing entry across the cutover', async () => {
    const { partitions, workload } = await newPartitions('stale', 1, 20);
    const [p] = partitions;
    const stale = clientOn(cluster, { clock: new HybridLogicalClock('stale', () => Date.now() - 15) });
    let staleAcked = 0;
    const { from, to } = await targetFor(p, 'eu-west-1');
    // Prime the stale interceptor's cache just before the fence; write through it just after the fence.
    const custom = migrationRunnerWithHooks(cluster, async (task) => {
      if (task === 'CanaryHealth') await stale.cache.get(p);
      if (task === 'CutoverFence') {
        for (let i = 0; i < 5; i++) {
          const lease = await stale.cache.get(p);
          const op = await workload.write(stale, p, `stale-${i}`, 'put');
          if (op.outcome === 'acked' && lease?.record.routing.phase === 'shifting') staleAcked += 1;
        }
      }
    });
    const execution = custom.start({ partition: p, targetCell: to, canarySteps: [1], waitSeconds: 0 });
    const done = await custom.wait(execution.migrationId);
    expect(done.status).toBe('SUCCEEDED');
    expect(staleAcked).toBeGreaterThan(0);
    tally.staleWritesAcked += staleAcked;
    expect(await endState(workload, p, done, from, to)).toMatchObject({ lost: 0, resurrected: 0 });
  });

  /**
   * An interceptor configured with 2 s leases against a migration configured with 0 ms ones. With the lease
   * terms on the partition record, both are held to the record's terms and nothing is lost; with the terms
   * stripped (the protection off: a record from before terms existed), the late write through the stale entry
   * is acknowledged and lost, and the checker sees it.
   */
  async function mismatchedLeases(prefix: string, termsOnRecord: boolean) {
    const { partitions, workload } = await newPartitions(prefix, 1, 10);
    const [p] = partitions;
    const stale = clientOn(cluster, { lease: { ...TEST_LEASE, leaseTtlMs: 2_000 } });
    const unsafe = migrationRunnerWithHooks(
      cluster,
      async (task) => {
        // Primed while the target is only being prepared, so the stale entry sends writes to the source alone.
        if (task === 'CatchUp') {
          if (!termsOnRecord) {
            await cluster.partitions.update(p, ({ leaseTerms: _terms, ...rest }) => rest as PartitionRecord);
          }
          await stale.cache.get(p);
        }
        if (task === 'CutoverSwitch') await workload.write(stale, p, 'late', 'put');
      },
      { ...TEST_LEASE, leaseTtlMs: 0, maxRequestMs: 0 },
    );
    const { from, to } = await targetFor(p);
    const execution = unsafe.start({
      partition: p,
      targetCell: to,
      canarySteps: [],
      waitSeconds: 0,
      retainSource: true,
    });
    const done = await unsafe.wait(execution.migrationId);
    expect(done.status).toBe('SUCCEEDED');
    await workload.pause(p);
    const record = (await cluster.partitions.get(p))!;
    const seen = await observeInCell(cluster.stores.forCell(record.cell), p, record.shards, 'late');
    expect(workload.stats.acked).toBeGreaterThanOrEqual(10);
    expect(record.cell).toBe(to);
    expect(from).not.toBe(to);
    const verdict = workload.ledger.judge(p, 'late', seen);
    await workload.stop();
    return verdict;
  }

  it('detects lost writes when the cutover does not wait out routing leases (the check can fail)', async () => {
    expect(await mismatchedLeases('unsafe', false)).toBe('lost');
  });

  it('holds a client configured with longer leases to the lease terms on the partition record', async () => {
    expect(await mismatchedLeases('terms', true)).not.toBe('lost');
  });

  it('keeps canary reads fresh when a rollback starts after the fence (reads go back before release)', async () => {
    // Leases of 1 s everywhere, so a client primed with the shifted routing just before the fence still holds
    // it while the rollback runs. Released at once, a fresh client would write to the source alone while the
    // primed one reads the target: the stale read the nemesis found.
    const lease = { ...TEST_LEASE, leaseTtlMs: 1_000 };
    const [p] = (await newPartitions('rb-fenced', 1, 6)).partitions;
    const reader = clientOn(cluster, { lease });
    const faults = new FaultInjector();
    // Let CutoverFence pass, fail CutoverSwitch: the rollback starts with the partition fenced.
    faults.arm({ step: 'cutover', mode: 'error', times: 1, after: 1 });
    let seen: string | undefined;
    const { runner } = migrationRunner(cluster, {
      lease,
      faults,
      afterStep: async (task) => {
        if (task === 'CanaryHealth') await reader.cache.get(p);
        if (task === 'Rollback' && seen === undefined) {
          await clientOn(cluster, { lease }).put(p, 'k0', 'after-fence');
          seen = (await reader.get(p, 'k0')).json;
        }
      },
    });
    const { to } = await targetFor(p);
    const execution = runner.start({ partition: p, targetCell: to, canarySteps: [1], waitSeconds: 0 });
    const done = await runner.wait(execution.migrationId);
    expect(done.status).toBe('ROLLED_BACK');
    expect((await reader.routingOf(p))?.cell).not.toBe(to);
    expect(seen).toBe('"after-fence"');
  });

  it('refuses a second migration of a partition by name and leaves the first one to finish', async () => {
    const { partitions, workload } = await newPartitions('fence', 1, 10);
    const [p] = partitions;
    const { from, to } = await targetFor(p);
    const other = cluster.cellIds().find((c) => c !== from && c !== to)!;
    let second: MigrationExecution | undefined;
    const { runner } = migrationRunner(cluster, {});
    const hooked = migrationRunnerWithHooks(cluster, async (task) => {
      if (task === 'Copy' && !second) {
        const started = runner.start({ partition: p, targetCell: other, canarySteps: [1], waitSeconds: 0 });
        second = await runner.wait(started.migrationId);
      }
    });
    const first = hooked.start({ partition: p, targetCell: to, canarySteps: [1], waitSeconds: 0 });
    const done = await hooked.wait(first.migrationId);
    expect(second).toMatchObject({ status: 'FAILED', error: { name: 'MigrationInProgressError' } });
    expect(done.status).toBe('SUCCEEDED');
    expect(await endState(workload, p, done, from, to)).toMatchObject({ lost: 0, resurrected: 0 });
  });

  it('rolls back when the canary health check sees target errors, and records why', async () => {
    const { partitions, workload } = await newPartitions('canary', 1, 10);
    const [p] = partitions;
    const { from, to } = await targetFor(p);
    const health = new CellHealth();
    // Target errors arrive while reads are split, so they fall inside the health check's window however slow the run.
    const { runner } = migrationRunner(cluster, {
      health,
      afterStep: async (task) => {
        if (task === 'ShiftReads') for (let i = 0; i < 20; i++) health.record(to, i % 2 === 0);
      },
    });
    const execution = runner.start({ partition: p, targetCell: to, canarySteps: [0.3, 1], waitSeconds: 0 });
    const done = await runner.wait(execution.migrationId);
    expect(done.status).toBe('ROLLED_BACK');
    const { record } = await endState(workload, p, done, from, to);
    expect(record.lastMigration).toMatchObject({
      outcome: 'ROLLED_BACK',
      stage: 'shiftReads',
      reason: expect.stringMatching(/^CanaryUnhealthyError: target error rate/),
    });
    expect(record.replicas[to]).toMatchObject({ state: 'stale' });
  });

  it('restores a partly removed source when a failure after the switch rolls back (reverse cutover)', async () => {
    const { partitions, workload } = await newPartitions('reverse', 1, 80);
    const [p] = partitions;
    const { from, to } = await targetFor(p);
    const faults = new FaultInjector();
    faults.arm({ step: 'removeSource', mode: 'error', times: 1, after: 1 });
    const { runner } = migrationRunner(cluster, {
      faults,
      tuning: { removeItemsPerInvocation: 20, queryPageItems: 10 },
    });
    workload.start();
    const execution = runner.start({ partition: p, targetCell: to, canarySteps: [1], waitSeconds: 0 });
    const done = await runner.wait(execution.migrationId);
    expect(done.status).toBe('ROLLED_BACK');
    const { record, lost, resurrected } = await endState(workload, p, done, from, to);
    expect({ lost, resurrected }).toEqual({ lost: 0, resurrected: 0 });
    expect(record.lastMigration).toMatchObject({ outcome: 'ROLLED_BACK', stage: 'removeSource' });
    expect(record.replicas[to]).toMatchObject({ state: 'cold' });
    tally.faults += faults.injected;
    await workload.stop();
  });
});

function migrationRunnerWithHooks(
  cluster: EmbeddedCluster,
  afterStep: (task: string) => Promise<void>,
  lease = TEST_LEASE,
) {
  return migrationRunner(cluster, { afterStep, lease }).runner;
}
