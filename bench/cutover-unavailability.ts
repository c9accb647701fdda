/**
 * Cutover unavailability: how long writes to a partition being moved are refused (HTTP 503) per cutover, under
 * three routing-lease settings, and what the routing lease costs in partitions-table reads.
 *
 * Protocol: an EmbeddedCluster of 2 regions × 2 cells (one dynalite per region, each on its own thread), one
 * partition per setting of 2,000 items of ~200 B of JSON (8 shards), seeded in us-east-1-c1, its record
 * carrying the setting's lease terms (a fresh partition per setting: a record's terms can only be raised).
 * A writer (the data API, `DataApi`, over a `RoutingClient` with the setting's lease) sends one unconditional
 * PUT every ~10 ms, one at a time, round-robin over the 2,000 keys, and logs each write's start, end and HTTP
 * status. MigratePartition (the synthesized definition, run by LocalMigrationRunner with the real 120 s Task
 * timeout, every Wait state shortened to 0 ms: the lease waits are enforced inside the steps, on their own
 * clocks, so the refusal window is the one a deployment would see, minus the Wait state's rounding up to whole
 * seconds) moves the partition between us-east-1-c1 and eu-west-1-c1, back and forth, with `canarySteps: []`,
 * `waitSeconds: 0` and `retainSource: true` (so every move after the first is a delta move). The next move
 * starts once the writer has had a write acknowledged after the previous move ended, plus a random pause in
 * [0, leaseTtl) (seeded): that first acknowledgement comes at one of the writer's lease renewals, and without the
 * pause every fence would fall at the same point of the writer's lease, which decides the result (below).
 *
 * Per cutover:
 * - unavailability = from the start of the first write answered 503 to the end of the first write
 *   acknowledged after it (all 503s counted, whatever the code; the codes are tallied);
 * - fence → switch = the migration's own `cutover.switchedAtMs − cutover.fencedAtMs`, split by instrumenting the
 *   steps' dependencies (no code of the steps changed): the lease wait (fence acknowledged → the CutoverSwitch
 *   step's inline wait ends), the final catch-up (→ the exact verify registers its repair lease), the exact
 *   verify of the frozen source (→ the switch write).
 * Settings: `local` = LOCAL_LEASE of `prestage serve` (1 s lease, 1 s maxRequest, 50 ms skew); `candidate` =
 * 2 s / 1.5 s / 1 s; `aws` = DEFAULT_ROUTING_LEASE (5 s / 3 s / 1 s). With the AWS settings every cutover and
 * the mirroring wait before it are real seconds, so that setting runs fewer cutovers; with 12 or fewer samples
 * the p99 (nearest rank) is the maximum.
 * A client keeps writing to the source until its lease from before the fence runs out, a ∈ [0, TTL) after the
 * fence, and (since b5e7d91) re-reads a fenced entry at most every 100 ms, so the refusal one client sees is
 * about D − a (D = fence → switch): D − TTL/2 on average over clients, at most D. The trade-off table uses that;
 * the bench also counts the writer's routing reads while it is refused.
 * At the end every key's stored value is read back and checked against the last acknowledged write to it.
 *
 * Routing read cost: an interceptor instance re-reads each partition it serves once per lease TTL (a strongly
 * consistent GetItem of the partition record: 1 RRU per 4 KB). The record's size is measured (DynamoDB's item
 * size rules on the marshalled record, largest seen during the moves; and its JSON length) and priced at
 * DynamoDB on-demand, us-east-1, $0.125 per million read request units (the price after the reduction of
 * 1 November 2024), 730 hours per month, for lease TTLs of 1, 2, 5 and 10 s, next to the cutover wait
 * W = (leaseTtl + maxRequest)·(1+ρ) + skew and the measured catch-up + verify time.
 *
 * Run: npx tsx bench/cutover-unavailability.ts [--quick] [--only=local,candidate,aws]
 *      (writes bench/results/cutover-unavailability.json; --quick: 4 / 2 / 2 cutovers instead of 20 / 12 / 12;
 *      the full run takes about 10 minutes, most of it the AWS setting's real waits)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { CellHealth } from '../src/data-plane/cell-health.ts';
import { RoutingClient } from '../src/data-plane/routing-client.ts';
import { rangeBucketOf, shardOf } from '../src/domain/data-plane/key-hash.ts';
import { newPartitionRecord, type PartitionRecord } from '../src/domain/data-plane/partition-record.ts';
import type { PartitionRepository } from '../src/domain/data-plane/ports.ts';
import { encodeHlc, HybridLogicalClock } from '../src/domain/migration/hlc.ts';
import type { MigrationTaskName } from '../src/domain/migration/migration-tasks.ts';
import {
  cutoverWaitMs,
  DEFAULT_ROUTING_LEASE,
  leaseTermsOf,
  type RoutingLeaseConfig,
} from '../src/domain/migration/routing-lease.ts';
import { seededRandom } from '../src/domain/seeded-random.ts';
import { DataApi } from '../src/interceptor/data-api.ts';
import { EmbeddedCluster } from '../src/local/embedded-cluster.ts';
import { localMigrationDeps } from '../src/local/local-migration-deps.ts';
import { LocalMigrationRunner } from '../src/local/local-migration-runner.ts';
import { LOCAL_LEASE } from '../src/local/local-server.ts';
import { synthesizeMigrationAsl } from '../src/local/migration-asl.ts';

const QUICK = process.argv.includes('--quick');
const ONLY = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const ITEMS = 2_000;
const SHARDS = 8;
const WRITE_EVERY_MS = 10;
const TASK_TIMEOUT_SECONDS = 120;
const CELL_A = 'us-east-1-c1';
const CELL_B = 'eu-west-1-c1';
/** DynamoDB on-demand, us-east-1, per read request unit, after the price reduction of 1 November 2024. */
const PRICE_PER_MILLION_RRU = 0.125;
const PRICE_SOURCE = 'DynamoDB on-demand, us-east-1, $0.125 per million RRU (price from 2024-11-01)';
const HOURS_PER_MONTH = 730;
const TTLS_S = [1, 2, 5, 10];

interface Setting {
  readonly name: string;
  readonly description: string;
  readonly lease: RoutingLeaseConfig;
  readonly cutovers: number;
}

const SETTINGS: Setting[] = [
  {
    name: 'local',
    description: 'LOCAL_LEASE (prestage serve): lease 1 s, maxRequest 1 s, skew 50 ms',
    lease: LOCAL_LEASE,
    cutovers: QUICK ? 4 : 20,
  },
  {
    name: 'candidate',
    description: 'candidate for AWS: lease 2 s, maxRequest 1.5 s, skew 1 s',
    lease: { ...DEFAULT_ROUTING_LEASE, leaseTtlMs: 2_000, maxRequestMs: 1_500, maxClockSkewMs: 1_000 },
    cutovers: QUICK ? 2 : 12,
  },
  {
    name: 'aws',
    description: `DEFAULT_ROUTING_LEASE (AWS): lease ${DEFAULT_ROUTING_LEASE.leaseTtlMs / 1000} s, maxRequest ${DEFAULT_ROUTING_LEASE.maxRequestMs / 1000} s, skew ${DEFAULT_ROUTING_LEASE.maxClockSkewMs / 1000} s`,
    lease: DEFAULT_ROUTING_LEASE,
    cutovers: QUICK ? 2 : 12,
  },
].filter((s) => !ONLY || ONLY.includes(s.name));

interface WriteLog {
  readonly start: number;
  readonly end: number;
  readonly status: number;
  readonly code?: string;
  /** The writer's routing reads so far (RoutingCache.fetches after this write). */
  readonly fetches: number;
}

interface CutoverMarks {
  task?: MigrationTaskName;
  switchInvocations: number;
  waitEnd?: number;
  verifyStart?: number;
  switchCommitted?: number;
}

interface CutoverSample {
  readonly index: number;
  readonly from: string;
  readonly to: string;
  readonly mode: string;
  readonly migrationSeconds: number;
  readonly unavailableMs: number | null;
  /** Random pause before the move (decorrelates the writer's lease renewals from the fence). */
  readonly startOffsetMs: number;
  /** Fence acknowledged → start of the first refused write (where in its lease the writer was). */
  readonly fenceToFirstRefusalMs: number | null;
  /** Switch → end of the first acknowledged write after the refusals. */
  readonly switchToFirstAckMs: number | null;
  readonly refusedWrites: number;
  readonly codes: Record<string, number>;
  /** Disjoint runs of 503s during the migration (1 when only the cutover refused writes). */
  readonly refusalRuns: number;
  /** The writer's routing reads that found the partition fenced (the one that finds it switched not counted). */
  readonly routingReadsWhileRefused: number | null;
  readonly fenceToSwitchMs: number;
  readonly leaseWaitMs: number | null;
  readonly finalCatchUpMs: number | null;
  readonly exactVerifyMs: number | null;
  readonly switchInvocations: number;
  readonly finalItemsShipped: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

/** DynamoDB's item size rules (names + values; maps and lists 3 B + 1 B per element; numbers approximate). */
function attributeSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) {
    const digits = value.N.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(Math.max(1, digits.length) / 2) + 1;
  }
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M !== undefined) {
    let size = 3;
    for (const [name, v] of Object.entries(value.M))
      size += Buffer.byteLength(name, 'utf8') + attributeSize(v) + 1;
    return size;
  }
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + attributeSize(v) + 1, 0);
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s, 'utf8'), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + attributeSize({ N: n }), 0);
  return 0;
}

/** A plain JSON-like value as DynamoDB stores it (what the document client sends for the record). */
function toAttribute(value: unknown): AttributeValue | undefined {
  if (value === undefined) return undefined;
  if (value === null) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) {
    return { L: value.map(toAttribute).filter((v): v is AttributeValue => v !== undefined) };
  }
  const map: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const attribute = toAttribute(v);
    if (attribute) map[k] = attribute;
  }
  return { M: map };
}

function recordItemSize(record: PartitionRecord): { dynamoBytes: number; jsonBytes: number } {
  const item = { pk: record.partition, ...record };
  const map = toAttribute(item)!.M!;
  let dynamoBytes = 0;
  for (const [name, v] of Object.entries(map))
    dynamoBytes += Buffer.byteLength(name, 'utf8') + attributeSize(v);
  return { dynamoBytes, jsonBytes: Buffer.byteLength(JSON.stringify(item), 'utf8') };
}

function valueFor(key: string, seq: number): string {
  // ~200 bytes of JSON.
  return JSON.stringify({
    key,
    seq,
    customer: `c-${seq % 977}`,
    lines: [{ sku: `SKU-${seq % 311}`, qty: 1 + (seq % 4), price: 9.99 }],
    status: 'PAID',
    createdAt: '2026-03-01T10:00:00Z',
    note: 'leave at the door, ring twice',
  });
}

async function runSetting(
  cluster: EmbeddedCluster,
  setting: Setting,
  asl: ReturnType<typeof synthesizeMigrationAsl>,
  recordSizes: { dynamoBytes: number; jsonBytes: number; phase: string }[],
) {
  const partition = `cutover-${setting.name}`;
  const keys = Array.from({ length: ITEMS }, (_, i) => `order-${String(i).padStart(5, '0')}`);
  const seedHlcMs = Date.now() - 60_000;
  const seed = keys.map((key, i) => ({
    partition,
    shard: shardOf(key, SHARDS),
    key,
    bucket: rangeBucketOf(key),
    version: 1,
    hlc: encodeHlc({ wallMs: seedHlcMs, logical: i, node: 'seed' }),
    deleted: false,
    encoding: 'json' as const,
    value: valueFor(key, -1),
  }));
  await cluster.stores.forCell(CELL_A).batchPut(seed);
  await cluster.partitions.createIfAbsent(
    newPartitionRecord(partition, CELL_A, SHARDS, Date.now(), leaseTermsOf(setting.lease)),
  );

  const health = new CellHealth();
  const client = new RoutingClient({
    partitions: cluster.partitions,
    cells: cluster.cells,
    stores: cluster.stores,
    clock: new HybridLogicalClock(`w${setting.name}`),
    lease: setting.lease,
    region: 'us-east-1',
    shardsPerPartition: SHARDS,
    readRepairRate: 0,
    health,
  });
  const api = new DataApi(client);

  // The migration's dependencies, instrumented (timings only; behaviour unchanged).
  const marks: CutoverMarks = { switchInvocations: 0 };
  const base = localMigrationDeps(cluster, {
    lease: setting.lease,
    health,
    tuning: { shardConcurrency: SHARDS },
  });
  const inner = base.partitions;
  const partitions: PartitionRepository = {
    get: (p) => inner.get(p),
    createIfAbsent: (r) => inner.createIfAbsent(r),
    list: () => inner.list(),
    async update(p, mutate) {
      let registered = false;
      let switched = false;
      const result = await inner.update(p, (current) => {
        const next = mutate(current);
        const leases = (r: PartitionRecord | undefined) => Object.keys(r?.fence?.writerLeases ?? {}).length;
        registered = next !== undefined && leases(next) > leases(current);
        switched =
          next !== undefined && next.routing.phase === 'switched' && current.routing.phase !== 'switched';
        return next;
      });
      if (marks.task === 'CutoverSwitch') {
        if (registered && marks.verifyStart === undefined) marks.verifyStart = Date.now();
        if (switched) marks.switchCommitted = Date.now();
      }
      return result;
    },
  };
  const deps = {
    ...base,
    partitions,
    sleep: async (ms: number) => {
      await base.sleep(ms);
      if (marks.task === 'CutoverSwitch' && marks.waitEnd === undefined) marks.waitEnd = Date.now();
    },
  };
  const runner = new LocalMigrationRunner({
    deps,
    asl,
    waitOverrideMs: 0,
    retryIntervalMs: 50,
    taskTimeoutSeconds: TASK_TIMEOUT_SECONDS,
    runInvocation: async (task, invoke) => {
      marks.task = task;
      if (task === 'CutoverSwitch') {
        marks.switchInvocations += 1;
        // No inline wait (the lease wait was already over): the catch-up starts with the invocation.
        if (marks.waitEnd === undefined && marks.switchInvocations === 1) {
          const started = Date.now();
          const result = await invoke();
          marks.waitEnd ??= started;
          return result;
        }
      }
      return invoke();
    },
    afterStep: async (task) => {
      if (task === 'CutoverFence' || task === 'ShiftReads' || task === 'Commit' || task === 'RemoveSource') {
        const record = await cluster.partitions.get(partition);
        if (record)
          recordSizes.push({ ...recordItemSize(record), phase: `${setting.name}:${record.routing.phase}` });
      }
    },
  });

  // The writer.
  const log: WriteLog[] = [];
  const lastAcked = new Map<string, number>();
  const fetchesBefore = client.cache.fetches;
  const writerStarted = Date.now();
  let stop = false;
  let seq = 0;
  const writer = (async () => {
    let next = performance.now();
    while (!stop) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      next = Math.max(next + WRITE_EVERY_MS, performance.now());
      const key = keys[seq % ITEMS];
      const mySeq = seq++;
      const start = Date.now();
      const response = await api.handle({
        method: 'PUT',
        rawPath: `/v1/partitions/${partition}/items/${key}`,
        headers: {},
        body: valueFor(key, mySeq),
      });
      const end = Date.now();
      let code: string | undefined;
      if (response.statusCode !== 200) {
        code = (JSON.parse(response.body) as { error?: { code?: string } }).error?.code ?? 'unknown';
      } else {
        lastAcked.set(key, mySeq);
      }
      log.push({ start, end, status: response.statusCode, code, fetches: client.cache.fetches });
    }
  })();

  const ackedAfter = async (t: number) => {
    for (;;) {
      for (let i = log.length - 1; i >= 0 && log[i].start >= t; i--) {
        if (log[i].status === 200) return;
      }
      await sleep(20);
    }
  };

  await sleep(1_000);
  const random = seededRandom(20_261_122 + setting.lease.leaseTtlMs);
  const samples: CutoverSample[] = [];
  let here = CELL_A;
  for (let index = 0; index < setting.cutovers; index++) {
    const to = here === CELL_A ? CELL_B : CELL_A;
    marks.switchInvocations = 0;
    marks.waitEnd = undefined;
    marks.verifyStart = undefined;
    marks.switchCommitted = undefined;
    marks.task = undefined;
    // The previous move ended at one of the writer's lease renewals (its first acknowledged write); without a
    // random pause every move would fence at about the same point of the writer's lease.
    const startOffsetMs = Math.floor(random() * setting.lease.leaseTtlMs);
    await sleep(startOffsetMs);
    const logFrom = log.length;
    const startedAt = Date.now();
    const execution = runner.start({
      partition,
      targetCell: to,
      canarySteps: [],
      waitSeconds: 0,
      retainSource: true,
    });
    const done = await runner.wait(execution.migrationId);
    if (done.status !== 'SUCCEEDED') {
      throw new Error(
        `${setting.name} cutover ${index}: ${done.status} ${done.error?.name}: ${done.error?.cause}`,
      );
    }
    const endedAt = Date.now();
    await ackedAfter(endedAt);
    const writes = log.slice(logFrom);
    const output = done.output as {
      replica: { mode: string };
      cutover: { fencedAtMs: number; switchedAtMs: number; finalItemsShipped: number };
    };
    // Runs of refused writes; the cutover's is the one with PARTITION_MOVING (else the longest).
    const runs: { first: number; last: number; moving: boolean }[] = [];
    for (let i = 0; i < writes.length; i++) {
      if (writes[i].status === 200) continue;
      const current = runs[runs.length - 1];
      if (current && current.last === i - 1) current.last = i;
      else runs.push({ first: i, last: i, moving: false });
      if (writes[i].code === 'PARTITION_MOVING') runs[runs.length - 1].moving = true;
    }
    const codes: Record<string, number> = {};
    for (const w of writes)
      if (w.status !== 200) codes[`${w.status} ${w.code}`] = (codes[`${w.status} ${w.code}`] ?? 0) + 1;
    const cutoverRun =
      runs.find((r) => r.moving) ?? [...runs].sort((a, b) => b.last - b.first - (a.last - a.first))[0];
    const firstOk = cutoverRun ? writes.findIndex((w, i) => i > cutoverRun.last && w.status === 200) : -1;
    const unavailableMs =
      cutoverRun && firstOk >= 0 ? writes[firstOk].end - writes[cutoverRun.first].start : null;
    const { fencedAtMs, switchedAtMs } = output.cutover;
    const switchAt = marks.switchCommitted ?? switchedAtMs;
    samples.push({
      index,
      from: here,
      to,
      mode: output.replica.mode,
      migrationSeconds: (endedAt - startedAt) / 1000,
      unavailableMs,
      startOffsetMs,
      fenceToFirstRefusalMs: cutoverRun ? writes[cutoverRun.first].start - output.cutover.fencedAtMs : null,
      switchToFirstAckMs: firstOk >= 0 ? writes[firstOk].end - output.cutover.switchedAtMs : null,
      refusedWrites: cutoverRun ? cutoverRun.last - cutoverRun.first + 1 : 0,
      codes,
      refusalRuns: runs.length,
      routingReadsWhileRefused:
        cutoverRun && firstOk >= 0
          ? writes[cutoverRun.last].fetches -
            (cutoverRun.first > 0 ? writes[cutoverRun.first - 1].fetches : writes[0].fetches)
          : null,
      fenceToSwitchMs: switchedAtMs - fencedAtMs,
      leaseWaitMs: marks.waitEnd !== undefined ? marks.waitEnd - fencedAtMs : null,
      finalCatchUpMs:
        marks.waitEnd !== undefined && marks.verifyStart !== undefined
          ? marks.verifyStart - marks.waitEnd
          : null,
      exactVerifyMs: marks.verifyStart !== undefined ? switchAt - marks.verifyStart : null,
      switchInvocations: marks.switchInvocations,
      finalItemsShipped: output.cutover.finalItemsShipped,
    });
    process.stderr.write(
      `  ${setting.name} #${index + 1}/${setting.cutovers} ${here} → ${to}: refused ${unavailableMs} ms, fence → switch ${switchedAtMs - fencedAtMs} ms, move ${((endedAt - startedAt) / 1000).toFixed(1)} s\n`,
    );
    here = to;
    await sleep(200);
  }
  stop = true;
  await writer;
  const writerSeconds = (Date.now() - writerStarted) / 1000;
  const routingFetches = client.cache.fetches - fetchesBefore;

  // Every acknowledged write must still be there (its value or a later write's).
  let lost = 0;
  for (const [key, acked] of lastAcked) {
    const read = await client.get(partition, key);
    const stored = (JSON.parse(read.json) as { seq: number }).seq;
    if (stored < acked) lost++;
  }

  const ok = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
  const unavailable = ok(samples.map((s) => s.unavailableMs));
  const fenceToSwitch = samples.map((s) => s.fenceToSwitchMs);
  const verifyMs = ok(samples.map((s) => s.exactVerifyMs));
  const catchUpMs = ok(samples.map((s) => s.finalCatchUpMs));
  const waitMs = ok(samples.map((s) => s.leaseWaitMs));
  const verifyShare = samples
    .filter((s) => s.exactVerifyMs !== null)
    .map((s) => s.exactVerifyMs! / s.fenceToSwitchMs);
  const summary = (xs: number[]) =>
    xs.length === 0
      ? null
      : {
          n: xs.length,
          p50: percentile(xs, 0.5),
          p99: percentile(xs, 0.99),
          min: Math.min(...xs),
          max: Math.max(...xs),
        };
  return {
    setting: setting.name,
    description: setting.description,
    lease: setting.lease,
    cutoverWaitMs: cutoverWaitMs(setting.lease),
    cutovers: samples.length,
    unavailableMs: summary(unavailable),
    fenceToSwitchMs: summary(fenceToSwitch),
    leaseWaitMs: summary(waitMs),
    finalCatchUpMs: summary(catchUpMs),
    exactVerifyMs: summary(verifyMs),
    exactVerifyShareMedian: verifyShare.length ? median(verifyShare) : null,
    writes: log.length,
    writesRefused: log.filter((w) => w.status !== 200).length,
    writerSeconds,
    routingFetches,
    routingFetchesPerSecond: routingFetches / writerSeconds,
    // Outside the refusal windows: the steady re-reads, one per lease.
    steadyRoutingFetchesPerSecond:
      (routingFetches - samples.reduce((sum, s) => sum + (s.routingReadsWhileRefused ?? 0), 0)) /
      (writerSeconds - samples.reduce((sum, s) => sum + (s.unavailableMs ?? 0), 0) / 1000),
    routingReadsWhileRefused: summary(ok(samples.map((s) => s.routingReadsWhileRefused))),
    acknowledgedWritesLost: lost,
    keysChecked: lastAcked.size,
    samples,
  };
}

function fmt(ms: number | null | undefined, digits = 2): string {
  return ms === null || ms === undefined ? '—' : (ms / 1000).toFixed(digits);
}

async function main() {
  const loadBefore = loadavg()[0];
  const cluster = await EmbeddedCluster.start({
    regions: ['us-east-1', 'eu-west-1'],
    cellsPerRegion: 2,
    dynaliteThread: true,
  });
  const asl = synthesizeMigrationAsl({ taskTimeoutSeconds: TASK_TIMEOUT_SECONDS });
  const recordSizes: { dynamoBytes: number; jsonBytes: number; phase: string }[] = [];
  const results = [];
  const t0 = Date.now();
  try {
    for (const setting of SETTINGS) results.push(await runSetting(cluster, setting, asl, recordSizes));
  } finally {
    await cluster.close();
  }
  const loadAfter = loadavg()[0];

  const out = process.stdout;
  out.write(
    `cutover unavailability: ${ITEMS} items of ~200 B, 8 shards, ${CELL_A} ↔ ${CELL_B}, one PUT every ${WRITE_EVERY_MS} ms${QUICK ? ' (--quick)' : ''}\n`,
  );
  out.write(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}; ${((Date.now() - t0) / 1000).toFixed(0)} s\n\n`,
  );
  out.write(
    `${'setting'.padEnd(10)}${'W s'.padStart(7)}${'n'.padStart(4)}${'503 p50'.padStart(9)}${'503 p99'.padStart(9)}${'503 max'.padStart(9)}${'f→s p50'.padStart(9)}${'f→s p99'.padStart(9)}${'wait p50'.padStart(10)}${'catch-up'.padStart(10)}${'verify'.padStart(8)}${'verify %'.padStart(10)}${'lost'.padStart(6)}\n`,
  );
  for (const r of results) {
    out.write(
      `${r.setting.padEnd(10)}${fmt(r.cutoverWaitMs).padStart(7)}${String(r.cutovers).padStart(4)}${fmt(r.unavailableMs?.p50).padStart(9)}${fmt(r.unavailableMs?.p99).padStart(9)}${fmt(r.unavailableMs?.max).padStart(9)}${fmt(r.fenceToSwitchMs?.p50).padStart(9)}${fmt(r.fenceToSwitchMs?.p99).padStart(9)}${fmt(r.leaseWaitMs?.p50).padStart(10)}${fmt(r.finalCatchUpMs?.p50, 3).padStart(10)}${fmt(r.exactVerifyMs?.p50, 3).padStart(8)}${(r.exactVerifyShareMedian === null ? '—' : `${(r.exactVerifyShareMedian * 100).toFixed(1)}%`).padStart(10)}${String(r.acknowledgedWritesLost).padStart(6)}\n`,
    );
  }
  out.write(
    '(seconds; 503 = writes refused per cutover, first 503 → first acknowledged write; f→s = fence → switch;\n',
  );
  out.write(
    ' wait, catch-up, verify: medians of its parts; p99 is the nearest rank, the maximum for n ≤ 100)\n',
  );
  for (const r of results) {
    out.write(
      `${r.setting}: ${r.writes} writes, ${r.writesRefused} refused (${JSON.stringify(mergeCodes(r.samples))}); routing reads ${r.steadyRoutingFetchesPerSecond.toFixed(2)}/s outside cutovers (lease ${r.lease.leaseTtlMs} ms), ${r.routingReadsWhileRefused?.p50 ?? '—'} per cutover while refused (p50); ${r.keysChecked} keys checked, ${r.acknowledgedWritesLost} acknowledged writes lost\n`,
    );
  }

  // Routing read cost.
  const largest = recordSizes.reduce((a, b) => (b.dynamoBytes > a.dynamoBytes ? b : a), {
    dynamoBytes: 0,
    jsonBytes: 0,
    phase: '',
  });
  const stable = recordSizes.filter((s) => s.phase.endsWith(':stable'));
  const rruPerRead = Math.max(1, Math.ceil(largest.dynamoBytes / 4096));
  const secondsPerMonth = HOURS_PER_MONTH * 3600;
  const aws = results.find((r) => r.setting === 'aws') ?? results[results.length - 1];
  const extraMs = aws ? (aws.finalCatchUpMs?.p50 ?? 0) + (aws.exactVerifyMs?.p50 ?? 0) : 0;
  const w = (ttl: number, maxRequest: number, skew: number) =>
    cutoverWaitMs({
      ...DEFAULT_ROUTING_LEASE,
      leaseTtlMs: ttl,
      maxRequestMs: maxRequest,
      maxClockSkewMs: skew,
    });
  // A client keeps writing to the source until its lease taken before the fence runs out, a ∈ [0, TTL) after the
  // fence (D > TTL always: W covers a lease); from then it is refused, and it re-reads a fenced entry at most
  // every 100 ms, so it writes again just after the switch: refused D − a, mean D − TTL/2, at most D.
  const refusal = (fenceToSwitchMs: number, ttlMs: number) => ({
    meanMs: fenceToSwitchMs - ttlMs / 2,
    minMs: fenceToSwitchMs - ttlMs,
    maxMs: fenceToSwitchMs,
  });
  const showRefusal = (r: ReturnType<typeof refusal>) =>
    `${fmt(r.meanMs, 1)} (${fmt(r.minMs, 1)}–${fmt(r.maxMs, 1)})`;
  const costRows = TTLS_S.map((ttl) => {
    const readsPerSecond = 1 / ttl;
    const dollarsPerMonth = (readsPerSecond * secondsPerMonth * rruPerRead * PRICE_PER_MILLION_RRU) / 1e6;
    const w3 = w(ttl * 1000, 3_000, 1_000);
    const w15 = w(ttl * 1000, 1_500, 1_000);
    return {
      leaseTtlS: ttl,
      readsPerSecondPerPartitionPerInstance: readsPerSecond,
      rruPerRead,
      dollarsPerInstancePartitionMonth: dollarsPerMonth,
      cutoverWaitMs_maxRequest3s_skew1s: w3,
      cutoverWaitMs_maxRequest1500ms_skew1s: w15,
      refusal_maxRequest3s: refusal(w3 + extraMs, ttl * 1000),
      refusal_maxRequest1500ms: refusal(w15 + extraMs, ttl * 1000),
    };
  });
  out.write(
    `\nrouting read cost: partition record ${largest.dynamoBytes} B by DynamoDB's size rules (largest seen, phase ${largest.phase}; ${largest.jsonBytes} B as JSON; stable ${stable.length ? Math.max(...stable.map((s) => s.dynamoBytes)) : '?'} B) → ${rruPerRead} RRU per strongly consistent GetItem\n`,
  );
  out.write(`price: ${PRICE_SOURCE}; ${HOURS_PER_MONTH} h per month\n`);
  out.write(
    `W = (leaseTtl + maxRequest)·(1+ρ) + skew (ρ = 0.001, skew 1 s); fence → switch D = W + final catch-up + exact verify (${(extraMs / 1000).toFixed(3)} s, ${aws?.setting} p50)\n`,
  );
  out.write(
    `a client is refused D − a, a uniform in [0, TTL) (where in its lease the fence fell): shown as mean D − TTL/2 (range D − TTL to D)\n\n`,
  );
  out.write(
    `${'lease TTL'.padEnd(10)}${'reads/s'.padStart(9)}${'$/inst-part-month'.padStart(19)}${'W (mR 3 s)'.padStart(12)}${'W (mR 1.5 s)'.padStart(14)}${'refused, mR 3 s'.padStart(22)}${'refused, mR 1.5 s'.padStart(22)}\n`,
  );
  for (const row of costRows) {
    out.write(
      `${`${row.leaseTtlS} s`.padEnd(10)}${row.readsPerSecondPerPartitionPerInstance.toFixed(2).padStart(9)}${`$${row.dollarsPerInstancePartitionMonth.toFixed(4)}`.padStart(19)}${fmt(row.cutoverWaitMs_maxRequest3s_skew1s).padStart(12)}${fmt(row.cutoverWaitMs_maxRequest1500ms_skew1s).padStart(14)}${showRefusal(row.refusal_maxRequest3s).padStart(22)}${showRefusal(row.refusal_maxRequest1500ms).padStart(22)}\n`,
    );
  }

  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/cutover-unavailability.json',
    `${JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        quick: QUICK,
        items: ITEMS,
        shards: SHARDS,
        writeEveryMs: WRITE_EVERY_MS,
        cells: [CELL_A, CELL_B],
        taskTimeoutSeconds: TASK_TIMEOUT_SECONDS,
        waitOverrideMs: 0,
        machine: {
          cpus: cpus().length,
          model: cpus()[0]?.model,
          memGiB: totalmem() / 2 ** 30,
          node: process.version,
        },
        loadAverage: { before: loadBefore, after: loadAfter },
        settings: results,
        routingReadCost: {
          price: {
            dollarsPerMillionRru: PRICE_PER_MILLION_RRU,
            source: PRICE_SOURCE,
            hoursPerMonth: HOURS_PER_MONTH,
          },
          recordBytes: largest,
          recordSamples: recordSizes.length,
          rruPerStronglyConsistentRead: rruPerRead,
          formula:
            'W = (leaseTtl + maxRequest)·(1+ρ) + skew; $/month = (1/leaseTtl) · 3600 · 730 · RRU · 0.125e-6',
          measuredCatchUpPlusVerifyMs: extraMs,
          rows: costRows,
        },
      },
      null,
      2,
    )}\n`,
  );
  out.write('\nwrote bench/results/cutover-unavailability.json\n');
}

function mergeCodes(samples: CutoverSample[]): Record<string, number> {
  const all: Record<string, number> = {};
  for (const s of samples) for (const [k, v] of Object.entries(s.codes)) all[k] = (all[k] ?? 0) + v;
  return all;
}

await main();
