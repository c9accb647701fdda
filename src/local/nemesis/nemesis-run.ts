import { CellHealth } from '../../data-plane/cell-health.ts';
import { RoutingClient } from '../../data-plane/routing-client.ts';
import { ItemNotFoundError, PartitionNotFoundError } from '../../domain/data-plane/data-plane-errors.ts';
import { HybridLogicalClock } from '../../domain/migration/hlc.ts';
import { MIGRATION_STAGES } from '../../domain/migration/migration-stage.ts';
import { seededRandom } from '../../domain/seeded-random.ts';
import {
  type AppendOp,
  checkListAppend,
  type HistoryOp,
  type MigrationOp,
  type ReadOp,
} from '../../verification/list-append-checker.ts';
import { EmbeddedCluster } from '../embedded-cluster.ts';
import { FAULT_MODES, FaultInjector } from '../fault-injector.ts';
import { localMigrationDeps } from '../local-migration-deps.ts';
import { LocalMigrationRunner, type MigrationExecution } from '../local-migration-runner.ts';
import { type AslDefinition, synthesizeMigrationAsl } from '../migration-asl.ts';
import { withClientPathFaults } from './client-faults.ts';
import {
  type ClientFaults,
  type MigrationLogEntry,
  NEMESIS_LEASE,
  NEMESIS_TUNING,
  type NemesisRunOptions,
  type NemesisRunReport,
} from './nemesis-options.ts';
import { NEMESIS_OFF } from './nemesis-settings.ts';
import { migrationSummary, outcomeOf, reportProgress, seed, sleep } from './run-support.ts';
import { StepFreezer } from './step-freezer.ts';
import { StorageNemesis } from './storage-nemesis.ts';

/** Synthesized definitions by Task timeout (synthesis takes a second or two). */
const aslByTaskTimeout = new Map<number, AslDefinition>();

/**
 * A Jepsen-style run against the embedded data plane: clients append unique elements to per-key lists with
 * `If-Match` compare-and-set and read them back, while migrations (the synthesized MigratePartition definition,
 * run locally) move the partitions around, step faults fire, the storage nemesis throttles, loses responses,
 * lags the `changes` index and spikes latency, and step sandboxes freeze. The history goes to the Elle-style
 * list-append checker. Used by the CI suite, the long bench, and nothing in production.
 */
export async function runNemesis(options: NemesisRunOptions): Promise<NemesisRunReport> {
  const random = seededRandom(options.seed);
  const freezer = new StepFreezer({ random: seededRandom(options.seed + 1), freezeRate: 0 });
  const nemesis = new StorageNemesis({ random: seededRandom(options.seed + 2), freezer });
  const replicationRandom = seededRandom(options.seed + 3);
  const cluster = await EmbeddedCluster.start({
    regions: options.regions ?? ['us-east-1', 'eu-west-1'],
    cellsPerRegion: options.cellsPerRegion ?? 2,
    nemesis,
    unsafeTrustRetriedRefusals: options.unsafe?.trustRetriedRefusals,
    replicationLagMs: () => 5 + replicationRandom() * 45 + nemesis.replicationDelayMs(),
  });
  const regions = cluster.regionNames();
  const started = performance.now();
  const history: HistoryOp[] = [];
  const recordAppend = (
    partition: string,
    key: string,
    element: string,
    outcome: AppendOp['outcome'],
    startMs: number,
    client: string,
  ) =>
    history.push({
      kind: 'append',
      key: `${partition}/${key}`,
      element,
      outcome,
      startMs,
      endMs: performance.now(),
      client,
    });
  const health = new CellHealth();
  const taskTimeoutSeconds = options.taskTimeoutSeconds ?? 3;
  let asl = aslByTaskTimeout.get(taskTimeoutSeconds);
  if (!asl) {
    asl = synthesizeMigrationAsl({ taskTimeoutSeconds });
    aslByTaskTimeout.set(taskTimeoutSeconds, asl);
  }
  const lease = options.lease ?? NEMESIS_LEASE;
  const deps = localMigrationDeps(cluster, {
    lease,
    health,
    tuning: {
      ...NEMESIS_TUNING,
      ...options.tuning,
      unsafeSkipMirrorWait: options.unsafe?.skipMirrorWait,
      unsafeIgnoreRepairYoungBound: options.unsafe?.ignoreRepairYoungBound,
      unsafeReadSourceFirst: options.unsafe?.readSourceFirst,
      unsafeTrustChangesIndex: options.unsafe?.trustChangesIndex,
      unsafeSkipReplicaConfirmation: options.unsafe?.skipReplicaConfirmation,
      replicaPollMs: 10,
    },
  });
  const clients: RoutingClient[] = [];
  let suspensions = 0;
  let nodes = 0;
  const newClient = (faults: ClientFaults = {}) => {
    nodes += 1;
    const skew = faults.skewMs ?? 0;
    const wallNow = () => Date.now() - skew;
    // Clients spread over the regions, each reading routing from its own region's replica.
    const region = regions[nodes % regions.length];
    const client = new RoutingClient({
      partitions: cluster.partitionsIn(region),
      cells: cluster.cellsIn(region),
      stores: withClientPathFaults(cluster.stores, {
        region,
        regionOfCell: (cell) => cluster.regionOfCell(cell),
        random: seededRandom(options.seed * 37 + nodes),
        dropRemoteWriteRate: faults.dropRemoteWriteRate,
        lateReads: faults.lateReads,
      }),
      clock: new HybridLogicalClock(`n${nodes}`, wallNow),
      lease: faults.leaseTtlMs ? { ...lease, leaseTtlMs: faults.leaseTtlMs } : lease,
      region,
      shardsPerPartition: options.shardsPerPartition ?? 4,
      readRepairRate: options.readRepairRate ?? 0.05,
      health,
      wallNow,
      monoNow: () => performance.now() - (suspendedMs.get(client) ?? 0),
      random: seededRandom(options.seed * 31 + nodes),
      unsafe: options.unsafe?.client,
    });
    clients.push(client);
    return client;
  };
  // A suspended host's monotonic clock stops: it reads `performance.now()` minus the time it was away.
  const suspendedMs = new Map<RoutingClient, number>();
  const partitions = Array.from({ length: options.partitions ?? 6 }, (_, i) => `p${i}`);
  const keys = partitions.flatMap((p) =>
    Array.from({ length: options.keysPerPartition ?? 3 }, (_, k) => ({ partition: p, key: `k${k}` })),
  );
  let stopping = false;
  let acked = 0;
  let elementSeq = 0;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];

  const appendLoop = async (client: RoutingClient, name: string, faults: ClientFaults = {}) => {
    let nextSuspend = faults.suspend
      ? performance.now() + faults.suspend.everyMs * (0.5 + random())
      : Infinity;
    while (!stopping) {
      if (faults.suspend && performance.now() >= nextSuspend) {
        // Suspended: no work, wall time passes, the monotonic clock does not.
        suspensions += 1;
        await sleep(faults.suspend.forMs);
        suspendedMs.set(client, (suspendedMs.get(client) ?? 0) + faults.suspend.forMs);
        nextSuspend = performance.now() + faults.suspend.everyMs;
      }
      const { partition, key } = pick(keys);
      const element = `${name}-${elementSeq++}`;
      const startMs = performance.now();
      let list: string[];
      let version: number;
      try {
        const read = await client.get(partition, key);
        list = JSON.parse(read.json) as string[];
        version = read.version;
      } catch (error) {
        if (!(error instanceof ItemNotFoundError || error instanceof PartitionNotFoundError)) {
          await sleep(5);
          continue;
        }
        list = [];
        version = 0;
      }
      try {
        await client.put(partition, key, [...list, element], { ifMatch: version });
        acked += 1;
        recordAppend(partition, key, element, 'ok', startMs, name);
      } catch (error) {
        recordAppend(partition, key, element, outcomeOf(error), startMs, name);
        await sleep(2);
      }
    }
  };

  const readLoop = async (client: RoutingClient, name: string) => {
    while (!stopping) {
      const { partition, key } = pick(keys);
      const startMs = performance.now();
      let list: string[] | null;
      try {
        list = JSON.parse((await client.get(partition, key)).json) as string[];
      } catch (error) {
        list = error instanceof ItemNotFoundError || error instanceof PartitionNotFoundError ? [] : null;
      }
      history.push({
        kind: 'read',
        key: `${partition}/${key}`,
        list,
        startMs,
        endMs: performance.now(),
        client: name,
      } satisfies ReadOp);
      await sleep(1);
    }
  };

  // Seed every key before the faults start, so every partition exists.
  const seeder = newClient();
  for (const { partition, key } of keys) {
    const element = `seed-${partition}-${key}`;
    const startMs = performance.now();
    await seed(seeder, partition, key, element);
    recordAppend(partition, key, element, 'ok', startMs, 'seed');
  }
  nemesis.configure({ ...NEMESIS_OFF, ...options.storage });
  freezer.freezeRate = options.storage?.freezeRate ?? 0;

  const migrationOps: MigrationOp[] = [];
  const migrationLog: MigrationLogEntry[] = [];
  let migrationsStarted = 0;
  let migrationsEnded = 0;
  let stepFaults = 0;
  const moving = new Set<string>();
  const migrationLoop = async () => {
    while (!stopping && migrationsStarted < (options.maxMigrations ?? Infinity)) {
      const free = partitions.filter((p) => !moving.has(p));
      if (free.length === 0) {
        await sleep(10);
        continue;
      }
      const partition = pick(free);
      moving.add(partition);
      try {
        const record = await cluster.partitions.get(partition);
        if (!record || record.fence) continue;
        const sourceRegion = cluster.regionOfCell(record.cell);
        const target = pick(
          cluster
            .cellIds()
            .filter((c) =>
              options.crossRegionMoves ? cluster.regionOfCell(c) !== sourceRegion : c !== record.cell,
            ),
        );
        const faults = new FaultInjector();
        let fault: string | null = null;
        if (random() < (options.stepFaultRate ?? 0)) {
          const spec = { step: pick(MIGRATION_STAGES), mode: pick(FAULT_MODES), times: 1 };
          faults.arm(spec);
          fault = `${spec.mode}@${spec.step}`;
        }
        // The execution, for stalls that last until it reaches a stage (assigned before any step runs).
        let execution!: MigrationExecution;
        let zombieCalls = 0;
        let retryStarted!: () => void;
        const retryStarting = new Promise<void>((resolve) => {
          retryStarted = resolve;
        });
        const runner = new LocalMigrationRunner({
          deps,
          faults,
          asl,
          // Wait states (canary waits; the safety waits are enforced inside the steps, whatever this says).
          waitOverrideMs: options.canaryWaitMs ?? 100,
          retryIntervalMs: options.retryIntervalMs ?? 20,
          runInvocation: async (task, invoke) => {
            const zombie = options.zombie;
            if (zombie?.task !== task) return freezer.run(task, invoke);
            zombieCalls += 1;
            if (zombieCalls === 2) retryStarted();
            if (zombieCalls !== 1) return freezer.run(task, invoke);
            await retryStarting;
            const { untilStage } = zombie;
            const until = untilStage ? () => execution.stages.includes(untilStage) : undefined;
            return freezer.run(task, invoke, { stall: { ...zombie.stall, until } });
          },
        });
        migrationsStarted += 1;
        const startMs = performance.now();
        const input = {
          partition,
          targetCell: target,
          canarySteps: [...pick(options.canaryPlans ?? [[], [0.5, 1], [1]])],
          waitSeconds: 0,
          retainSource: options.retainSource ?? random() < 0.5,
        };
        execution = runner.start(input);
        const entry: MigrationLogEntry = {
          id: execution.migrationId,
          partition,
          from: record.cell,
          to: target,
          input: JSON.stringify({ canarySteps: input.canarySteps, retainSource: input.retainSource }),
          fault,
          startMs,
          endMs: null,
          outcome: 'RUNNING',
        };
        migrationLog.push(entry);
        const op: { -readonly [K in keyof MigrationOp]: MigrationOp[K] } = {
          kind: 'migration',
          id: execution.migrationId,
          partition,
          startMs,
          endMs: null,
          outcome: 'RUNNING',
        };
        migrationOps.push(op);
        const done = await runner.wait(execution.migrationId);
        stepFaults += faults.injected;
        op.endMs = performance.now();
        op.outcome = done.status;
        entry.endMs = op.endMs;
        entry.outcome = done.status;
        entry.failedStage = done.progress.failedStage;
        entry.error = done.error ? `${done.error.name}: ${done.error.cause}`.slice(0, 200) : undefined;
        migrationsEnded += 1;
      } finally {
        moving.delete(partition);
      }
    }
  };

  const stopProgress = reportProgress(options.onProgress, () => ({
    elapsedMs: performance.now() - started,
    migrationsStarted,
    migrationsEnded,
    appendsAcked: acked,
  }));
  const workers = [
    ...Array.from({ length: options.writers ?? 4 }, (_, i) => appendLoop(newClient(), `w${i}`)),
    ...Array.from({ length: options.readers ?? 3 }, (_, i) => readLoop(newClient(), `r${i}`)),
    ...(options.faultyClients ?? []).map((faults, i) => appendLoop(newClient(faults), `f${i}`, faults)),
    ...(options.faultyReaders ?? []).map((faults, i) => readLoop(newClient(faults), `fr${i}`)),
  ];
  const movers = Array.from({ length: options.migrationConcurrency ?? 2 }, () => migrationLoop());
  await sleep(options.durationMs);
  const bound = options.livenessBoundMs ?? 60_000;
  const workUntil = performance.now() + bound;
  while (migrationsEnded < (options.minMigrationsEnded ?? 0) && performance.now() < workUntil) {
    await sleep(20);
  }
  stopping = true;
  await Promise.all(workers);
  // Liveness: every migration in flight ends within the bound, faults still on.
  const liveness = Promise.all(movers);
  await Promise.race([liveness, sleep(bound)]);
  stopProgress();

  nemesis.off();
  freezer.freezeRate = 0;
  freezer.thawAll();
  await Promise.race([liveness, sleep(2_000)]);
  await cluster.replicator?.drain();
  const records = await cluster.partitions.list();
  const fenced = records.filter((r) => r.fence !== undefined).map((r) => r.partition);
  const reader = newClient();
  const finalLists = new Map<string, string[]>();
  for (const { partition, key } of keys) {
    try {
      finalLists.set(`${partition}/${key}`, JSON.parse((await reader.get(partition, key)).json) as string[]);
    } catch (error) {
      if (!(error instanceof ItemNotFoundError)) throw error;
      finalLists.set(`${partition}/${key}`, []);
    }
  }
  const checker = checkListAppend({
    ops: [...history, ...migrationOps],
    finalLists,
    fencedPartitionsAtEnd: fenced,
  });
  const report: NemesisRunReport = {
    checker,
    migrations: migrationSummary(migrationOps),
    faults: {
      ...nemesis.counts,
      stepFaults,
      frozenInvocations: freezer.counts.frozenInvocations,
      requestsHeld: freezer.counts.requestsHeld,
      stepStalls: freezer.counts.stalls,
      suspensions,
      mirrorFailures: clients.reduce((sum, c) => sum + c.mirrorFailures, 0),
      replicatedCopies: cluster.replicator?.counts.copies ?? 0,
      maxReplicationLagMs: cluster.replicator?.counts.maxLagMs ?? 0,
    },
    migrationLog,
    elapsedMs: performance.now() - started,
  };
  await cluster.close();
  return report;
}
