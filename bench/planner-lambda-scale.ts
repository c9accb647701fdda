/**
 * Planner Lambda at scale: one scheduled cycle of the REAL PlannerService (src/planner-service/planner-service.ts)
 * over 100,000 partitions × 3 regions (and × 6 regions), 60 cells, horizon 8 at the 15-minute interval.
 *
 * Workload: the seeded realistic planner instance (log-normal rates and sizes, daily cycles per time zone, 10%
 * misplaced, 5% surges, co-access between 50,000 pairs, moves in flight up to the per-cell limit, 2% cooling
 * down) turned into what the tables hold: a ScoreRecord per partition as the profiler writes it (mean and upper
 * per region with demand, observed ops/s, prediction vector, up to 8 related partners, sizeBytes for the 85%
 * measured), a partition record per partition (sizes, last migrations and cold replicas, fences of the in-flight
 * moves), 60 cells, and the RUNNING plan of the previous cycle. Forecasts start 2.5 minutes before the planner's
 * clock (as when the last profiler shard invokes it), so every score is resampled onto the planning grid.
 *
 * How it is measured. A setup process writes the items through the real repositories (DynamoScoreRepository.
 * putAll, DynamoPartitionRepository.createIfAbsent, DynamoCellRepository.register) and the SDK's marshalling into
 * an in-process DynamoDB endpoint, which lays them out as a Scan would return them: hash order, 4 segments for the
 * scores (the repository's default), 1 MB pages (item sizes by DynamoDB's rules). Each measured run is a fresh
 * process (a cold Lambda) whose SDK client is the production one (createDynamoClient + documentClient) with that
 * endpoint as its request handler: the real adapters scan page by page, so "reads" is the Lambda's whole
 * client-side cost (SDK, unmarshalling, zod parse, sorting) with no network and no server; the time the endpoint
 * spends reading pages from disk is reported and taken off. The plan is written by the real DynamoPlanRepository;
 * the previous plan's headers and moves come from memory. Phases of the service run: reads (the four reads run
 * concurrently, as the service issues them), build + plan (buildPlannerInput and planMoves, back to back inside
 * the service), plan write. A second, standalone pass in the same process splits them: scores listAll, partitions
 * list, buildPlannerInput, planMoves (warm JIT). Peak RSS is the measured process's, taken before that pass.
 *
 * The scaling trigger (ScaleCluster's synchronous call) runs once each, cold, without the split: scale-out into a
 * new empty PROVISIONING cell of us-east-1, and scale-in of us-east-1-c1 (about 1/60 of the partitions); it reports
 * how many of the plan's moves concern that cell.
 *
 * Memory: each measured process runs with the V8 heap flags the Lambda Node.js bootstrap derives from the
 * memory setting (lambdaHeapFlags; 2048 MB, the stack's, for the timed runs), and one probe run per smaller
 * setting (default 1024 and 1536 MB) checks that the cycle still finishes with a peak RSS inside that memory.
 *
 * I/O, separately: the items' DynamoDB sizes give the pages and read units of a full Scan per cycle. A short
 * sample (default 4,000 partitions of the same shape) is scanned through the real DynamoScoreRepository.listAll
 * and DynamoPartitionRepository.list against dynalite in another process (so this process's CPU time is the
 * client's); its wall time per byte of its largest segment, times the bytes of the largest segment at full size,
 * is an EXTRAPOLATION of the Scan's wall time at dynalite's speed (dynalite is not DynamoDB; segments run side by
 * side, each reads its pages one after another). The measured plan is written to dynalite through the real
 * repository. The projected duration is the worst run's wall time plus the slower extrapolated Scan (which
 * counts the client's decoding twice: an upper figure).
 *
 * Targets: the Lambda limits (15 minutes, 10,240 MB), and the stack's planner settings (lib/control-plane-stack.ts:
 * timeout 5 minutes, memorySize 2048 MB).
 *
 * Run: npx tsx bench/planner-lambda-scale.ts [partitions=100000] [regions=3,6] [runs=3] [sample=4000]
 *      [probeMb=1024,1536]   (writes bench/results/planner-lambda-scale.json)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoCellRepository } from '../src/adapters/dynamodb/cell-repository.ts';
import { createDynamoClient, documentClient } from '../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../src/adapters/dynamodb/partition-repository.ts';
import { DynamoPlanRepository } from '../src/adapters/dynamodb/plan-repository.ts';
import { DynamoScoreRepository } from '../src/adapters/dynamodb/score-repository.ts';
import {
  cellsTableDefinition,
  ensureTable,
  partitionsTableDefinition,
  plansTableDefinition,
  scoresTableDefinition,
} from '../src/adapters/dynamodb/table-definitions.ts';
import type { CellRecord } from '../src/domain/data-plane/cell-record.ts';
import { fnv1a32 } from '../src/domain/data-plane/key-hash.ts';
import { newPartitionRecord, type PartitionRecord } from '../src/domain/data-plane/partition-record.ts';
import type { MovementPlan, PlannerInput } from '../src/domain/planning/movement-plan.ts';
import { planMoves } from '../src/domain/planning/placement-planner.ts';
import { NO_OUTCOMES, type PlanHeader, type PlanMoveRecord } from '../src/domain/planning/plan-record.ts';
import { generatePlannerInstance } from '../src/domain/planning/synthetic-instance.ts';
import type { ScoreRecord } from '../src/domain/scoring/score-record.ts';
import { seededRandom } from '../src/domain/seeded-random.ts';
import { buildPlannerInput } from '../src/planner-service/planner-input.ts';
import {
  cyclePlanId,
  PlannerService,
  type PlannerServiceConfig,
  type PlannerServiceDeps,
} from '../src/planner-service/planner-service.ts';
import { cycleIdFor } from '../src/profiler/profiler-cycle.ts';
import { mapBounded } from '../src/support/bounded-parallel.ts';

const INTERVAL_MS = 900_000;
const HORIZON = 8;
const CELLS = 60;
/** Series end of the cycle (a bucket boundary); the planner runs 2.5 minutes later. */
const SERIES_END_MS = Date.UTC(2025, 2, 11, 12, 0);
const PLANNER_NOW_MS = SERIES_END_MS + 150_000;
const CYCLE_ID = cycleIdFor(SERIES_END_MS, INTERVAL_MS);
const PREVIOUS_CYCLE_ID = cycleIdFor(SERIES_END_MS - INTERVAL_MS, INTERVAL_MS);
const MEASURED_SIZE_FRACTION = 0.85;
/** The scaling runs: drain the home region's first cell; fill a new cell there. */
const DRAINED_CELL = 'us-east-1-c1';
const NEW_CELL = 'us-east-1-new1';
type Trigger = 'schedule' | 'scale-in' | 'scale-out';
const MAX_RELATED = 8;
/** DynamoScoreRepository's default parallel scan. */
const SCORE_SCAN_SEGMENTS = 4;
/** A Scan page holds at most 1 MB of item data. */
const PAGE_LIMIT_BYTES = 2 ** 20;
/** Read units: 4 KB per unit per page, half a unit when eventually consistent. */
const READ_UNIT_BYTES = 4096;
const WRITE_UNIT_BYTES = 1024;
const TABLES = {
  scores: 'prestage-scores',
  partitions: 'prestage-partitions',
  cells: 'prestage-cells',
  plans: 'prestage-plans',
} as const;
type ScannedTable = 'scores' | 'partitions' | 'cells';
/** How the adapters scan each table: segments, and whether the reads are strongly consistent. */
const SCANS: Record<ScannedTable, { readonly segments: number; readonly consistent: boolean }> = {
  scores: { segments: SCORE_SCAN_SEGMENTS, consistent: false },
  partitions: { segments: 1, consistent: true },
  cells: { segments: 1, consistent: true },
};
const LAMBDA_MAX_MS = 15 * 60_000;
const LAMBDA_MAX_MB = 10_240;
/** lib/control-plane-stack.ts, the Planner function (read there; not imported: it pulls in aws-cdk-lib). */
const STACK_PLANNER = { timeoutMs: 5 * 60_000, memoryMb: 2048 } as const;
/** Lambda gives one full vCPU at 1769 MB, proportionally less below. */
const MB_PER_VCPU = 1769;

/**
 * The V8 heap flags the Lambda Node.js bootstrap derives from the memory setting, as third-party copies of it
 * show (new space = memory / 10, semi-space = half of that, old space = the rest); not verified on AWS here.
 */
function lambdaHeapFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`];
}

// ---------------------------------------------------------------------------------------------------------
// The cluster as its tables hold it

interface ClusterTables {
  readonly scores: ScoreRecord[];
  readonly partitions: PartitionRecord[];
  readonly cells: CellRecord[];
  readonly runningPlan: { readonly header: PlanHeader; readonly moves: PlanMoveRecord[] };
  readonly regions: string[];
  readonly relationships: number;
}

function clusterTables(partitionCount: number, regionCount: number, seed: number): ClusterTables {
  const instance: PlannerInput = generatePlannerInstance({
    seed,
    partitions: partitionCount,
    regions: regionCount,
    cellsPerRegion: CELLS / regionCount,
    steps: HORIZON,
    stepSeconds: INTERVAL_MS / 1000,
    nowMs: SERIES_END_MS,
    utilization: 0.55,
    misplacedFraction: 0.1,
    relationshipsPerPartition: 0.5,
    surgeFraction: 0.05,
    inFlightFraction: 0.01,
    coolingFraction: 0.02,
    limits: { maxConcurrentMovesPerCell: 2 },
  });
  const related = new Map<string, Record<string, number>>();
  for (const r of instance.relationships ?? []) {
    const partners = related.get(r.a) ?? {};
    if (Object.keys(partners).length < MAX_RELATED) partners[r.b] = r.coAccessPerSec;
    related.set(r.a, partners);
  }
  const inFlight = new Map((instance.inFlight ?? []).map((m) => [m.partition, m]));
  const cellIds = instance.topology.cells.map((c) => c.id);
  const expiresAt = Math.floor(SERIES_END_MS / 1000) + 2 * 86_400;
  const scores: ScoreRecord[] = [];
  const partitions: PartitionRecord[] = [];
  for (const p of instance.partitions) {
    const random = seededRandom(fnv1a32(p.id, 11));
    const mean: Record<string, number[]> = {};
    const upper: Record<string, number[]> = {};
    const observed: Record<string, number> = {};
    const totals: Record<string, number> = {};
    let total = 0;
    for (const [region, series] of Object.entries(p.forecast)) {
      const m = Array.from(series, (v) => v * (0.97 + 0.06 * random()));
      const spread = 1.15 + 0.3 * random();
      mean[region] = m;
      upper[region] = m.map((v, h) => v * spread * (1 + 0.03 * h));
      observed[region] = m[0] * (0.85 + 0.3 * random());
      totals[region] = m.reduce((a, b) => a + b, 0);
      total += totals[region];
    }
    let peakStep = 0;
    let peakOpsPerSec = 0;
    for (let h = 0; h < HORIZON; h++) {
      let sum = 0;
      for (const region in upper) sum += upper[region][h];
      if (sum > peakOpsPerSec) [peakStep, peakOpsPerSec] = [h, sum];
    }
    const measured = random() < MEASURED_SIZE_FRACTION;
    const partners = related.get(p.id);
    scores.push({
      partition: p.id,
      cell: p.cell,
      affinity: random() ** 3,
      predictionVector: Object.fromEntries(
        Object.entries(totals).map(([r, v]) => [r, total > 0 ? v / total : 0]),
      ),
      confidence: 0.5 + 0.5 * random(),
      peakStep,
      peakOpsPerSec,
      models: ['embedded:daily+weekly'],
      ...(measured && { sizeBytes: p.sizeBytes }),
      stepSeconds: INTERVAL_MS / 1000,
      forecastStartMs: SERIES_END_MS,
      mean,
      upper,
      upperLevel: 0.9,
      observedOpsPerSec: observed,
      ...(partners && { related: partners }),
      scoredAtMs: SERIES_END_MS + 100_000,
      cycleId: CYCLE_ID,
      expiresAt,
    });

    const base = newPartitionRecord(p.id, p.cell, 8, SERIES_END_MS - 90 * 86_400_000);
    const version = 1 + Math.floor(random() * 20);
    const sizes = measured
      ? { sizeBytes: p.sizeBytes, sizeMeasuredAtMs: SERIES_END_MS - Math.floor(random() * 3 * 86_400_000) }
      : {};
    const move = inFlight.get(p.id);
    const from = cellIds[(cellIds.indexOf(p.cell) + 1) % cellIds.length];
    const history =
      p.lastMovedAtMs !== undefined
        ? {
            lastMigration: {
              id: `cycle-${PREVIOUS_CYCLE_ID}-${p.id}`,
              outcome: 'COMMITTED' as const,
              fromCell: from,
              toCell: p.cell,
              stage: 'commit' as const,
              atMs: p.lastMovedAtMs,
            },
            replicas: {
              [from]: {
                state: 'cold' as const,
                watermark: `${p.lastMovedAtMs}:0:0`,
                updatedAtMs: p.lastMovedAtMs,
              },
            },
          }
        : {};
    // Every other in-flight move has started (fenced, copying); the others wait in the previous plan.
    const fenced = move && partitions.length % 2 === 0;
    const migrating = fenced
      ? {
          status: 'MIGRATING' as const,
          routing: { phase: 'preparing' as const, peer: move.to, readWeight: 0 },
          replicas: {
            [move.to]: { state: 'building' as const, copyMode: 'full' as const, updatedAtMs: SERIES_END_MS },
          },
          fence: {
            owner: `${cyclePlanId(PREVIOUS_CYCLE_ID)}-${p.id}`,
            sourceCell: move.from,
            targetCell: move.to,
            acquiredAtMs: SERIES_END_MS - 300_000,
            stage: 'copy' as const,
            writerLeases: { [`copy-${p.id}`]: SERIES_END_MS + 60_000 },
          },
        }
      : {};
    partitions.push({
      ...base,
      version,
      updatedAtMs: SERIES_END_MS - Math.floor(random() * 86_400_000),
      ...sizes,
      ...history,
      ...migrating,
    });
  }

  const cells: CellRecord[] = instance.topology.cells.map((c) => ({
    id: c.id,
    region: c.region,
    table: `prestage-data-${c.id}`,
    capacityOpsPerSec: c.capacityOpsPerSec,
    capacityBytes: c.capacityBytes,
    status: 'ACTIVE',
    version: 1,
  }));
  // What ScaleCluster registers before its scale-out plan: an empty cell, still PROVISIONING (the schedule ignores it).
  const template = cells[0];
  cells.push({ ...template, id: NEW_CELL, table: `prestage-data-${NEW_CELL}`, status: 'PROVISIONING' });
  const fencedIds = new Set(partitions.filter((p) => p.fence).map((p) => p.partition));
  const planId = cyclePlanId(PREVIOUS_CYCLE_ID);
  const createdAtMs = SERIES_END_MS - INTERVAL_MS + 150_000;
  const planExpiresAt = Math.floor(createdAtMs / 1000) + 30 * 86_400;
  const moves: PlanMoveRecord[] = (instance.inFlight ?? []).map((m, i) => ({
    planId,
    partition: m.partition,
    from: m.from,
    to: m.to,
    bytes: m.bytes,
    priority: i + 1,
    startByMs: createdAtMs + 600_000,
    deadlineMs: createdAtMs + 3_600_000,
    expectedDurationMs: Math.round((m.bytes / 20e6) * 1000) + 60_000,
    benefit: 1 + i,
    reasons: { locality: 1 + i },
    status: fencedIds.has(m.partition) ? 'RUNNING' : 'PENDING',
    updatedAtMs: createdAtMs,
    expiresAt: planExpiresAt,
  }));
  const header: PlanHeader = {
    planId,
    createdAtMs,
    trigger: 'schedule',
    status: 'RUNNING',
    moveCount: moves.length,
    totalBytes: moves.reduce((s, m) => s + m.bytes, 0),
    approval: false,
    costBefore: 1000,
    costAfter: 900,
    outcomes: NO_OUTCOMES,
    cycleId: PREVIOUS_CYCLE_ID,
    updatedAtMs: createdAtMs,
    expiresAt: planExpiresAt,
  };
  return {
    scores,
    partitions,
    cells,
    runningPlan: { header, moves },
    regions: Object.keys(instance.topology.regions),
    relationships: instance.relationships?.length ?? 0,
  };
}

function serviceConfig(regions: readonly string[]): PlannerServiceConfig {
  // The control-plane defaults (src/lambda/control-plane-env.ts).
  return {
    stepSeconds: INTERVAL_MS / 1000,
    horizonSteps: HORIZON,
    homeRegion: 'us-east-1',
    dataRegions: regions,
    maxConcurrentMovesPerCell: 2,
    maxBytesPerCycle: 50 * 1024 ** 3,
    planTtlDays: 30,
    approvalMode: 'auto',
  };
}

// ---------------------------------------------------------------------------------------------------------
// DynamoDB item sizes and an in-process endpoint

interface AttributeValue {
  readonly S?: string;
  readonly N?: string;
  readonly B?: string;
  readonly BOOL?: boolean;
  readonly NULL?: boolean;
  readonly M?: Readonly<Record<string, AttributeValue>>;
  readonly L?: readonly AttributeValue[];
  readonly SS?: readonly string[];
  readonly NS?: readonly string[];
}
type WireItem = Readonly<Record<string, AttributeValue>>;

/** A number's size: 1 byte per two significant digits, plus 1. */
function numberSize(text: string): number {
  const digits = text
    .replace(/^-/, '')
    .replace(/e.*$/i, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Size of a value by DynamoDB's published rules (maps and lists: 3 bytes, plus 1 per element). */
function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return Buffer.from(value.B, 'base64').length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M !== undefined) {
    let size = 3;
    for (const name in value.M) size += 1 + Buffer.byteLength(name, 'utf8') + valueSize(value.M[name]);
    return size;
  }
  if (value.L !== undefined) return value.L.reduce((size, v) => size + 1 + valueSize(v), 3);
  if (value.SS !== undefined) return value.SS.reduce((size, s) => size + Buffer.byteLength(s, 'utf8'), 0);
  if (value.NS !== undefined) return value.NS.reduce((size, n) => size + numberSize(n), 0);
  throw new Error(`item size: unsupported attribute value ${JSON.stringify(value)}`);
}

function itemSize(item: WireItem): number {
  let size = 0;
  for (const name in item) size += Buffer.byteLength(name, 'utf8') + valueSize(item[name]);
  return size;
}

interface PageRef {
  readonly offset: number;
  readonly length: number;
  readonly items: number;
  /** Sum of the items' DynamoDB sizes. */
  readonly bytes: number;
  /** LastEvaluatedKey of the page (absent on a segment's last page). */
  readonly lastKey?: string;
}

interface TableLayout {
  readonly file: string;
  readonly segments: readonly (readonly PageRef[])[];
  readonly items: number;
  readonly bytes: number;
  /** Bytes of the Scan response bodies (what crosses the network). */
  readonly wireBytes: number;
  readonly pages: number;
  readonly readUnits: number;
  readonly maxItemBytes: number;
}

interface FixtureIndex {
  readonly partitions: number;
  readonly regions: string[];
  readonly relationships: number;
  readonly inFlight: number;
  readonly tables: Record<ScannedTable, TableLayout>;
}

/** Lay a table's items out as a Scan returns them: hash ranges per segment, hash order, 1 MB pages. */
function writeScanPages(
  dir: string,
  name: ScannedTable,
  items: Iterable<WireItem>,
  segments: number,
  consistent: boolean,
): TableLayout {
  const hashed = [...items].map((item) => ({ item, hash: fnv1a32(item.pk.S ?? '') }));
  hashed.sort((a, b) => a.hash - b.hash);
  const file = join(dir, `${name}.pages`);
  const fd = openSync(file, 'w');
  let offset = 0;
  let wireBytes = 0;
  let readUnits = 0;
  let maxItemBytes = 0;
  let totalBytes = 0;
  const layout: PageRef[][] = [];
  try {
    for (let s = 0; s < segments; s++) {
      const low = (s * 2 ** 32) / segments;
      const high = ((s + 1) * 2 ** 32) / segments;
      const members = hashed.filter((h) => h.hash >= low && h.hash < high);
      const pages: PageRef[] = [];
      let page: WireItem[] = [];
      let bytes = 0;
      const flush = (last: boolean) => {
        const lastKey = last ? undefined : page.at(-1)?.pk.S;
        const body = JSON.stringify({
          Count: page.length,
          Items: page,
          ...(lastKey !== undefined && { LastEvaluatedKey: { pk: { S: lastKey } } }),
          ScannedCount: page.length,
        });
        const buffer = Buffer.from(body, 'utf8');
        writeSync(fd, buffer);
        pages.push({ offset, length: buffer.length, items: page.length, bytes, lastKey });
        offset += buffer.length;
        wireBytes += buffer.length;
        readUnits += Math.ceil(bytes / READ_UNIT_BYTES) * (consistent ? 1 : 0.5);
        page = [];
        bytes = 0;
      };
      members.forEach(({ item }, i) => {
        const size = itemSize(item);
        maxItemBytes = Math.max(maxItemBytes, size);
        totalBytes += size;
        page.push(item);
        bytes += size;
        if (bytes >= PAGE_LIMIT_BYTES && i < members.length - 1) flush(false);
      });
      flush(true);
      layout.push(pages);
    }
  } finally {
    closeSync(fd);
  }
  return {
    file,
    segments: layout,
    items: hashed.length,
    bytes: totalBytes,
    wireBytes,
    pages: layout.reduce((n, pages) => n + pages.length, 0),
    readUnits,
    maxItemBytes,
  };
}

const UTF8 = new TextDecoder();

interface HttpRequestLike {
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

/**
 * A DynamoDB endpoint inside this process, for the SDK client's request handler: Scan from pages laid out on disk
 * by writeScanPages; PutItem, BatchWriteItem and GetItem on items kept in memory (what the run writes).
 */
class InProcessDynamo {
  /** Items written in this process, by table, then `pk\0sk`. */
  readonly written = new Map<string, Map<string, WireItem>>();
  /** Per table: items written, their DynamoDB bytes and write units. */
  readonly writes = new Map<string, { items: number; bytes: number; writeUnits: number }>();
  /** Time spent serving requests (reading pages from disk, parsing request bodies): not the client's. */
  servedMs = 0;
  scanRequests = 0;
  private readonly fds = new Map<string, number>();
  private readonly layouts = new Map<string, TableLayout>();

  constructor(index?: FixtureIndex) {
    for (const [name, layout] of Object.entries(index?.tables ?? {}))
      this.layouts.set(TABLES[name as ScannedTable], layout);
  }

  /** The Smithy request handler shape the SDK calls. */
  readonly requestHandler = {
    handle: async (request: HttpRequestLike) => ({ response: this.respond(request) }),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
  };

  private respond(request: HttpRequestLike) {
    const started = performance.now();
    const target = Object.entries(request.headers).find(([k]) => k.toLowerCase() === 'x-amz-target')?.[1];
    const operation = target?.split('.')[1];
    // The SDK's JSON body is a Uint8Array (whose string methods warn); decode its bytes.
    const requestBody = request.body;
    const text = typeof requestBody === 'string' ? requestBody : UTF8.decode(requestBody as Uint8Array);
    const input = JSON.parse(text) as Record<string, unknown>;
    let status = 200;
    let body: Uint8Array;
    switch (operation) {
      case 'Scan':
        body = this.scan(input);
        break;
      case 'GetItem': {
        const key = input.Key as WireItem;
        const item = this.written.get(String(input.TableName))?.get(this.keyOf(key));
        body = Buffer.from(JSON.stringify(item ? { Item: item } : {}));
        break;
      }
      case 'PutItem': {
        const table = String(input.TableName);
        const item = input.Item as WireItem;
        if (
          String(input.ConditionExpression ?? '').includes('attribute_not_exists') &&
          this.written.get(table)?.has(this.keyOf(item))
        ) {
          status = 400;
          body = Buffer.from(
            JSON.stringify({
              __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
              message: 'The conditional request failed',
            }),
          );
        } else {
          this.put(table, item);
          body = Buffer.from('{}');
        }
        break;
      }
      case 'BatchWriteItem': {
        const requests = input.RequestItems as Record<string, { PutRequest?: { Item: WireItem } }[]>;
        for (const [table, list] of Object.entries(requests)) {
          for (const r of list) {
            if (!r.PutRequest) throw new Error('in-process DynamoDB: only PutRequest is supported');
            this.put(table, r.PutRequest.Item);
          }
        }
        body = Buffer.from('{"UnprocessedItems":{}}');
        break;
      }
      default:
        throw new Error(`in-process DynamoDB: ${operation} is not supported`);
    }
    this.servedMs += performance.now() - started;
    return {
      statusCode: status,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(body.length) },
      body,
    };
  }

  private keyOf(item: WireItem): string {
    return `${item.pk?.S ?? ''}\u0000${item.sk?.S ?? ''}`;
  }

  private put(table: string, item: WireItem): void {
    const items = this.written.get(table) ?? new Map<string, WireItem>();
    this.written.set(table, items);
    items.set(this.keyOf(item), item);
    const size = itemSize(item);
    const stats = this.writes.get(table) ?? { items: 0, bytes: 0, writeUnits: 0 };
    stats.items++;
    stats.bytes += size;
    stats.writeUnits += Math.ceil(size / WRITE_UNIT_BYTES);
    this.writes.set(table, stats);
  }

  private scan(input: Record<string, unknown>): Uint8Array {
    this.scanRequests++;
    const table = String(input.TableName);
    const layout = this.layouts.get(table);
    if (!layout) throw new Error(`in-process DynamoDB: no pages for ${table}`);
    const segments = Number(input.TotalSegments ?? 1);
    if (segments !== layout.segments.length)
      throw new Error(`in-process DynamoDB: ${table} is laid out in ${layout.segments.length} segment(s)`);
    const pages = layout.segments[Number(input.Segment ?? 0)];
    const after = (input.ExclusiveStartKey as WireItem | undefined)?.pk?.S;
    const index = after === undefined ? 0 : pages.findIndex((p) => p.lastKey === after) + 1;
    if (index === 0 && after !== undefined)
      throw new Error(`in-process DynamoDB: unknown start key ${after}`);
    const page = pages[index];
    const fd = this.fds.get(layout.file) ?? openSync(layout.file, 'r');
    this.fds.set(layout.file, fd);
    const buffer = Buffer.allocUnsafe(page.length);
    readSync(fd, buffer, 0, page.length, page.offset);
    return buffer;
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

/** The production client (createDynamoClient + documentClient) with the in-process endpoint as its transport. */
function inProcessDocuments(endpoint: InProcessDynamo): DynamoDBDocumentClient {
  const client = createDynamoClient({ region: 'us-east-1', endpoint: 'http://in-process.invalid' });
  (client.config as unknown as { requestHandler: unknown }).requestHandler = endpoint.requestHandler;
  return documentClient(client);
}

// ---------------------------------------------------------------------------------------------------------
// Child: prepare a fixture directory

/** The items as the profiler, the interceptor and ScaleCluster write them: through the real repositories. */
async function writeTables(tables: ClusterTables, documents: DynamoDBDocumentClient): Promise<void> {
  await new DynamoScoreRepository(documents, TABLES.scores).putAll(tables.scores);
  const partitions = new DynamoPartitionRepository(documents, TABLES.partitions);
  await mapBounded(tables.partitions, 16, (p) => partitions.createIfAbsent(p));
  const cells = new DynamoCellRepository(documents, TABLES.cells);
  for (const cell of tables.cells) await cells.register(cell);
}

async function prepare(dir: string, partitionCount: number, regionCount: number): Promise<FixtureIndex> {
  const tables = clusterTables(partitionCount, regionCount, 42);
  const endpoint = new InProcessDynamo();
  await writeTables(tables, inProcessDocuments(endpoint));
  const layout = (name: ScannedTable) =>
    writeScanPages(
      dir,
      name,
      endpoint.written.get(TABLES[name])?.values() ?? [],
      SCANS[name].segments,
      SCANS[name].consistent,
    );
  const index: FixtureIndex = {
    partitions: partitionCount,
    regions: tables.regions,
    relationships: tables.relationships,
    inFlight: tables.runningPlan.moves.length,
    tables: { scores: layout('scores'), partitions: layout('partitions'), cells: layout('cells') },
  };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  writeFileSync(join(dir, 'running-plan.json'), JSON.stringify(tables.runningPlan));
  return index;
}

// ---------------------------------------------------------------------------------------------------------
// Child: one planner cycle, measured

interface Mark {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly servedMs: number;
}

interface Span {
  readonly wallMs: number;
  readonly cpuMs: number;
}

interface MeasureFigures {
  readonly trigger: Trigger;
  readonly regions: number;
  readonly scores: number;
  readonly partitions: number;
  /** The service run: phases (endpoint time taken off the reads), and the whole. */
  readonly service: {
    readonly reads: Span;
    readonly endpointMs: number;
    readonly buildAndPlan: Span;
    readonly planWrite: Span;
    readonly total: Span;
  };
  /** The standalone second pass (warm); absent from the memory probes. */
  readonly split?: {
    readonly scoresListAll: Span;
    readonly partitionsList: Span;
    readonly buildPlannerInput: Span;
    readonly planMoves: Span;
  };
  readonly baselineRssBytes: number;
  readonly peakRssBytes: number;
  readonly heapUsedAfterReadsBytes: number;
  readonly heapUsedAfterRunBytes: number;
  readonly plan: {
    readonly moves: number;
    readonly totalBytes: number;
    readonly items: number;
    readonly itemBytes: number;
    readonly writeUnits: number;
    readonly capacityShortfalls: number;
    readonly deferred: Readonly<Record<string, number>>;
    readonly costBefore: number;
    readonly costAfter: number;
    /** Moves out of the drained cell / into the new cell (the scaling runs). */
    readonly movesOfScalingCell: number;
    readonly bytesOfScalingCell: number;
  };
  /** Partitions on the drained cell when the run read the partitions table. */
  readonly partitionsOnDrainedCell: number;
  readonly scanRequests: number;
}

const cpuNow = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const peakRss = () => process.resourceUsage().maxRSS * 1024;

async function timed<T>(run: () => Promise<T> | T, endpoint?: InProcessDynamo): Promise<[T, Span]> {
  const served = endpoint?.servedMs ?? 0;
  const cpu = cpuNow();
  const started = performance.now();
  const value = await run();
  const servedMs = (endpoint?.servedMs ?? 0) - served;
  return [value, { wallMs: performance.now() - started - servedMs, cpuMs: cpuNow() - cpu - servedMs }];
}

async function measure(
  dir: string,
  trigger: Trigger,
  planOut?: string,
  split = true,
): Promise<MeasureFigures> {
  const baselineRssBytes = peakRss();
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as FixtureIndex;
  const running = JSON.parse(readFileSync(join(dir, 'running-plan.json'), 'utf8')) as {
    header: PlanHeader;
    moves: PlanMoveRecord[];
  };
  const endpoint = new InProcessDynamo(index);
  const documents = inProcessDocuments(endpoint);
  const scores = new DynamoScoreRepository(documents, TABLES.scores);
  const partitions = new DynamoPartitionRepository(documents, TABLES.partitions);
  const cells = new DynamoCellRepository(documents, TABLES.cells);
  const planRepository = new DynamoPlanRepository(documents, TABLES.plans);

  const mark = (): Mark => ({ wallMs: performance.now(), cpuMs: cpuNow(), servedMs: endpoint.servedMs });
  let readsStarted: Mark | undefined;
  let readsDone: Mark | undefined;
  let heapUsedAfterReadsBytes = 0;
  let writeStarted: Mark | undefined;
  let writeDone: Mark | undefined;
  let written: MovementPlan | undefined;
  const readCounts: Record<string, number> = {};
  let partitionsOnDrainedCell = 0;
  const read =
    <T extends readonly unknown[]>(name: string, call: () => Promise<T>) =>
    async (): Promise<T> => {
      readsStarted ??= mark();
      const value = await call();
      readCounts[name] = value.length;
      readsDone = mark();
      heapUsedAfterReadsBytes = Math.max(heapUsedAfterReadsBytes, process.memoryUsage().heapUsed);
      return value;
    };
  const plans: PlannerServiceDeps['plans'] = {
    getHeader: (planId) => planRepository.getHeader(planId),
    create: async (plan, meta) => {
      writeStarted = mark();
      written = plan;
      const header = await planRepository.create(plan, meta);
      writeDone = mark();
      return header;
    },
    listHeaders: read('plans', async () => [running.header]),
    allMoves: async (planId) => (planId === running.header.planId ? running.moves : []),
  };
  const config = serviceConfig(index.regions);
  const service = new PlannerService(
    {
      scores: { listAll: read('scores', () => scores.listAll()) },
      partitions: {
        list: read('partitions', async () => {
          const records = await partitions.list();
          partitionsOnDrainedCell = records.filter((p) => p.cell === DRAINED_CELL).length;
          return records;
        }),
      },
      cells: { list: read('cells', () => cells.list()) },
      plans,
      executions: {
        start: async ({ planId }) => ({
          executionArn: `arn:aws:states:us-east-1:123456789012:execution:ExecutePlan:${planId}`,
          alreadyStarted: false,
        }),
      },
      now: () => PLANNER_NOW_MS,
    },
    config,
  );
  const [result, total] = await timed(async () => {
    if (trigger === 'schedule') return service.schedule({ trigger: 'schedule', cycleId: CYCLE_ID });
    const scaled = await service.scaling({
      trigger: 'scaling',
      action: trigger,
      region: 'us-east-1',
      cellIds: [trigger === 'scale-in' ? DRAINED_CELL : NEW_CELL],
      requestId: `bench-${trigger}`,
      round: 1,
    });
    return { ...scaled, totalBytes: written?.moves.reduce((n, m) => n + m.bytes, 0) ?? 0 };
  });
  const peakRssBytes = peakRss();
  const heapUsedAfterRunBytes = process.memoryUsage().heapUsed;
  if (!readsStarted || !readsDone || !writeStarted || !writeDone || !written)
    throw new Error('the service did not read and write a plan');
  for (const name of ['scores', 'partitions', 'cells'] as const) {
    if (readCounts[name] !== index.tables[name].items)
      throw new Error(
        `the service read ${readCounts[name]} ${name}, the table holds ${index.tables[name].items}`,
      );
  }
  const span = (from: Mark, to: Mark): Span => {
    const served = to.servedMs - from.servedMs;
    return { wallMs: to.wallMs - from.wallMs - served, cpuMs: to.cpuMs - from.cpuMs - served };
  };
  const plan: MovementPlan = written;
  if (planOut) writeFileSync(planOut, JSON.stringify(plan));
  const ofScalingCell = plan.moves.filter((m) =>
    trigger === 'scale-in' ? m.from === DRAINED_CELL : trigger === 'scale-out' && m.to === NEW_CELL,
  );
  const planWrites = endpoint.writes.get(TABLES.plans) ?? { items: 0, bytes: 0, writeUnits: 0 };

  const figures: MeasureFigures = {
    trigger,
    regions: index.regions.length,
    scores: index.tables.scores.items,
    partitions: index.tables.partitions.items,
    service: {
      reads: span(readsStarted, readsDone),
      endpointMs: readsDone.servedMs - readsStarted.servedMs,
      buildAndPlan: span(readsDone, writeStarted),
      planWrite: span(writeStarted, writeDone),
      total,
    },
    baselineRssBytes,
    peakRssBytes,
    heapUsedAfterReadsBytes,
    heapUsedAfterRunBytes,
    plan: {
      moves: result.moveCount,
      totalBytes: plan.moves.reduce((n, m) => n + m.bytes, 0),
      items: planWrites.items,
      itemBytes: planWrites.bytes,
      writeUnits: planWrites.writeUnits,
      capacityShortfalls: plan.capacityForecast.length,
      deferred: plan.deferred,
      costBefore: plan.costBefore,
      costAfter: plan.costAfter,
      movesOfScalingCell: ofScalingCell.length,
      bytesOfScalingCell: ofScalingCell.reduce((n, m) => n + m.bytes, 0),
    },
    partitionsOnDrainedCell,
    scanRequests: endpoint.scanRequests,
  };
  if (!split) {
    endpoint.close();
    return figures;
  }

  // Standalone pass: the same work, phase by phase.
  const [scoreRecords, scoresListAll] = await timed(() => scores.listAll(), endpoint);
  const [partitionRecords, partitionsList] = await timed(() => partitions.list(), endpoint);
  const cellRecords = await cells.list();
  const inFlight = running.moves.map((m) => ({
    partition: m.partition,
    from: m.from,
    to: m.to,
    bytes: m.bytes,
  }));
  const [built, buildSpan] = await timed(() =>
    buildPlannerInput(
      { cells: cellRecords, partitions: partitionRecords, scores: scoreRecords, planMovesInFlight: inFlight },
      { kind: 'schedule' },
      {
        nowMs: PLANNER_NOW_MS,
        stepSeconds: config.stepSeconds,
        horizonSteps: config.horizonSteps,
        homeRegion: config.homeRegion,
        dataRegions: config.dataRegions,
        limits: {
          maxConcurrentMovesPerCell: config.maxConcurrentMovesPerCell,
          maxBytesPerCycle: config.maxBytesPerCycle,
        },
      },
    ),
  );
  const [, planSpan] = await timed(() => planMoves(built.input, { demandBeyondCapacity: 'report' }));
  endpoint.close();
  if (scoreRecords.length !== figures.scores || partitionRecords.length !== figures.partitions)
    throw new Error('the standalone pass read other tables than the service');
  return {
    ...figures,
    split: { scoresListAll, partitionsList, buildPlannerInput: buildSpan, planMoves: planSpan },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Child: the dynalite sample

interface ScanSample {
  readonly items: number;
  readonly pages: number;
  /** Most pages, and most DynamoDB bytes, any one segment returned (a segment reads its pages one by one). */
  readonly pagesPerSegment: number;
  readonly bytesPerSegment: number;
  readonly wallMs: readonly number[];
  readonly clientCpuMs: readonly number[];
}

interface SampleFigures {
  readonly partitions: number;
  readonly scores: ScanSample;
  readonly partitionsList: ScanSample;
  readonly planWrite?: { readonly moves: number; readonly wallMs: readonly number[] };
}

const DYNALITE_SERVER = `
const dynalite = require(process.env.DYNALITE_PATH);
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

/** dynalite in its own process, so this process's CPU time is the client's alone. */
async function startDynaliteProcess(): Promise<{ endpoint: string; child: ChildProcess }> {
  const dynalitePath = createRequire(import.meta.url).resolve('dynalite');
  const child = spawn(process.execPath, ['-e', DYNALITE_SERVER], {
    env: { ...process.env, DYNALITE_PATH: dynalitePath },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', (data: Buffer) => resolve(Number(String(data).trim())));
  });
  return { endpoint: `http://127.0.0.1:${port}`, child };
}

async function sampleScan(
  client: DynamoDBClient,
  table: string,
  sizeOf: (pk: string) => number,
  list: () => Promise<unknown[]>,
  repeats: number,
): Promise<ScanSample> {
  const segments = new Map<number, { pages: number; bytes: number }>();
  // Above the document client's unmarshalling: plain items, sized by their stored (wire) form.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const input = args.input as { TableName?: string; Segment?: number };
      if (context.commandName === 'ScanCommand' && input.TableName === table) {
        const items = (result.output as { Items?: { pk: string }[] }).Items ?? [];
        const segment = segments.get(input.Segment ?? 0) ?? { pages: 0, bytes: 0 };
        segment.pages++;
        for (const item of items) segment.bytes += sizeOf(item.pk);
        segments.set(input.Segment ?? 0, segment);
      }
      return result;
    },
    { step: 'initialize', name: `count-scans-${table}` },
  );
  const wallMs: number[] = [];
  const clientCpuMs: number[] = [];
  let items = 0;
  let pages = 0;
  let pagesPerSegment = 0;
  let bytesPerSegment = 0;
  for (let i = 0; i < repeats; i++) {
    segments.clear();
    const [records, span] = await timed(list);
    items = records.length;
    wallMs.push(span.wallMs);
    clientCpuMs.push(span.cpuMs);
    const counts = [...segments.values()];
    pages = counts.reduce((n, s) => n + s.pages, 0);
    pagesPerSegment = Math.max(...counts.map((s) => s.pages));
    bytesPerSegment = Math.max(...counts.map((s) => s.bytes));
  }
  client.middlewareStack.remove(`count-scans-${table}`);
  return { items, pages, pagesPerSegment, bytesPerSegment, wallMs, clientCpuMs };
}

async function sample(
  partitionCount: number,
  regionCount: number,
  planFile?: string,
): Promise<SampleFigures> {
  const { endpoint, child } = await startDynaliteProcess();
  try {
    const client = createDynamoClient({ region: 'us-east-1', endpoint });
    const documents = documentClient(client);
    await ensureTable(client, scoresTableDefinition(TABLES.scores));
    await ensureTable(client, partitionsTableDefinition(TABLES.partitions));
    await ensureTable(client, cellsTableDefinition(TABLES.cells));
    await ensureTable(client, plansTableDefinition(TABLES.plans));
    const tables = clusterTables(partitionCount, regionCount, 7);
    const scores = new DynamoScoreRepository(documents, TABLES.scores);
    const partitions = new DynamoPartitionRepository(documents, TABLES.partitions);
    await writeTables(tables, documents);
    // The same writes into the in-process endpoint give each item's stored size.
    const sizing = new InProcessDynamo();
    await writeTables(tables, inProcessDocuments(sizing));
    const sizeIn = (table: string) => (pk: string) => {
      const item = sizing.written.get(table)?.get(`${pk}\u0000`);
      if (!item) throw new Error(`no stored item ${pk} in ${table}`);
      return itemSize(item);
    };
    // One scan first: JIT and sockets warm, as in a Lambda's second cycle on a warm container.
    await scores.listAll();
    const scoreSample = await sampleScan(
      client,
      TABLES.scores,
      sizeIn(TABLES.scores),
      () => scores.listAll(),
      3,
    );
    await partitions.list();
    const partitionSample = await sampleScan(
      client,
      TABLES.partitions,
      sizeIn(TABLES.partitions),
      () => partitions.list(),
      3,
    );
    let planWrite: SampleFigures['planWrite'];
    if (planFile) {
      const plan = JSON.parse(readFileSync(planFile, 'utf8')) as MovementPlan;
      const repository = new DynamoPlanRepository(documents, TABLES.plans);
      const wallMs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const [, span] = await timed(() =>
          repository.create(plan, { planId: `sample-${i}`, trigger: 'schedule', approval: false }),
        );
        wallMs.push(span.wallMs);
      }
      planWrite = { moves: plan.moves.length, wallMs };
    }
    return { partitions: partitionCount, scores: scoreSample, partitionsList: partitionSample, planWrite };
  } finally {
    child.kill();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Orchestrator

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const spanText = (s: Span) => `${sec(s.wallMs)} wall / ${sec(s.cpuMs)} CPU`;

function runChild<T>(args: readonly string[], nodeOptions: readonly string[] = []): T {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [...nodeOptions, '--import', 'tsx', self, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (child.status !== 0) {
    const reason = child.stderr.match(/FATAL ERROR[^\n]*|\w*Error: [^\n]*/)?.[0] ?? `signal ${child.signal}`;
    throw new Error(
      `child ${args.join(' ')} ${nodeOptions.join(' ')} exited with ${child.status}: ${reason}`,
    );
  }
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as T;
}

interface VariantResult {
  readonly regions: number;
  readonly prepareMs: number;
  readonly layout: FixtureIndex['tables'];
  readonly relationships: number;
  readonly inFlight: number;
  readonly runs: readonly MeasureFigures[];
  /** One scale-out and one scale-in run (the scaling trigger). */
  readonly scaling: readonly MeasureFigures[];
  /** One run each with the heap flags of smaller memory settings: did it finish, and within that memory? */
  readonly probes: readonly {
    readonly memoryMb: number;
    readonly finished: boolean;
    readonly error?: string;
    readonly figures?: MeasureFigures;
  }[];
  readonly sample: SampleFigures;
  readonly io: {
    readonly scoresScanReadUnits: number;
    readonly partitionsScanReadUnits: number;
    readonly cellsScanReadUnits: number;
    readonly readUnitsPerCycle: number;
    readonly readUnitsPerDay: number;
    /** EXTRAPOLATED from the dynalite sample by the pages each segment reads one after another. */
    readonly scoresScanWallMsExtrapolated: number;
    readonly partitionsScanWallMsExtrapolated: number;
    /** Client CPU of the full-size reads, extrapolated per item from the sample (cross-check of the runs). */
    readonly scoresClientCpuMsExtrapolated: number;
    readonly partitionsClientCpuMsExtrapolated: number;
  };
  /** Service wall time + the slower of the two big scans at dynalite's extrapolated rate (the decode counted twice). */
  readonly projectedDurationMs: number;
  readonly pass: boolean;
}

/**
 * A Scan's wall time at full size from the sample's: its segments run side by side, each reading its pages one
 * after another, so the time follows the bytes of the largest segment (pages are full at full size).
 */
function extrapolateScan(sampled: ScanSample, layout: TableLayout) {
  const segmentBytes = layout.segments.map((pages) => pages.reduce((n, p) => n + p.bytes, 0));
  return {
    wallMs: (median(sampled.wallMs) / sampled.bytesPerSegment) * Math.max(...segmentBytes),
    clientCpuMs: (median(sampled.clientCpuMs) / sampled.items) * layout.items,
  };
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--prepare') {
    const index = await prepare(args[1], Number(args[2]), Number(args[3]));
    process.stdout.write(`${JSON.stringify(index)}\n`);
    return;
  }
  if (args[0] === '--measure') {
    const figures = await measure(
      args[1],
      (args[2] ?? 'schedule') as Trigger,
      args[3] || undefined,
      args[4] !== '--no-split',
    );
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    return;
  }
  if (args[0] === '--sample') {
    const figures = await sample(Number(args[1]), Number(args[2]), args[3] || undefined);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    return;
  }
  const partitionCount = Number(args[0] ?? 100_000);
  const regionCounts = (args[1] ?? '3,6').split(',').map(Number);
  const runs = Math.max(1, Number(args[2] ?? 3));
  const sampleSize = Number(args[3] ?? 4000);
  const probeMbs = (args[4] ?? '1024,1536').split(',').filter(Boolean).map(Number);
  const loadBefore = loadavg();
  process.stdout.write(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}\n`,
  );
  const variants: VariantResult[] = [];
  for (const regionCount of regionCounts) {
    const dir = mkdtempSync(join(tmpdir(), 'prestage-planner-lambda-scale-'));
    try {
      const prepStarted = performance.now();
      const index = runChild<FixtureIndex>(['--prepare', dir, String(partitionCount), String(regionCount)]);
      const prepareMs = performance.now() - prepStarted;
      const t = index.tables;
      process.stdout.write(
        `\n${partitionCount} partitions × ${regionCount} regions, ${CELLS} cells, horizon ${HORIZON}: ` +
          `${index.relationships} co-access pairs, ${index.inFlight} moves in flight (fixture ${sec(prepareMs)})\n` +
          `  scores table     ${t.scores.items} items, ${mib(t.scores.bytes)} (mean ${(t.scores.bytes / t.scores.items).toFixed(0)} B, max ${t.scores.maxItemBytes} B), ` +
          `${t.scores.pages} pages in ${SCORE_SCAN_SEGMENTS} segments, ${mib(t.scores.wireBytes)} on the wire, ${t.scores.readUnits} RRU per Scan (eventually consistent)\n` +
          `  partitions table ${t.partitions.items} items, ${mib(t.partitions.bytes)} (mean ${(t.partitions.bytes / t.partitions.items).toFixed(0)} B), ` +
          `${t.partitions.pages} pages, 1 segment, ${mib(t.partitions.wireBytes)} on the wire, ${t.partitions.readUnits} RRU per Scan (consistent)\n`,
      );
      const figures: MeasureFigures[] = [];
      const planFile = join(dir, 'plan.json');
      for (let run = 0; run < runs; run++) {
        const f = runChild<MeasureFigures>(
          ['--measure', dir, 'schedule', run === 0 ? planFile : ''],
          lambdaHeapFlags(STACK_PLANNER.memoryMb),
        );
        figures.push(f);
        process.stdout.write(
          `  run ${run + 1}: reads ${spanText(f.service.reads)} (endpoint ${sec(f.service.endpointMs)} off), ` +
            `build+plan ${spanText(f.service.buildAndPlan)}, write ${spanText(f.service.planWrite)}, ` +
            `total ${spanText(f.service.total)}, peak RSS ${mib(f.peakRssBytes)} (baseline ${mib(f.baselineRssBytes)})\n` +
            (f.split
              ? `         split: scores listAll ${spanText(f.split.scoresListAll)}, partitions list ${spanText(f.split.partitionsList)}, ` +
                `buildPlannerInput ${spanText(f.split.buildPlannerInput)}, planMoves ${spanText(f.split.planMoves)}\n`
              : ''),
        );
      }
      const probes: VariantResult['probes'] = probeMbs.map((memoryMb) => {
        try {
          const f = runChild<MeasureFigures>(
            ['--measure', dir, 'schedule', '', '--no-split'],
            lambdaHeapFlags(memoryMb),
          );
          process.stdout.write(
            `  probe at ${memoryMb} MB heap flags: total ${spanText(f.service.total)}, peak RSS ${mib(f.peakRssBytes)} ` +
              `${f.peakRssBytes < memoryMb * 2 ** 20 ? 'within' : 'OVER'} ${memoryMb} MB\n`,
          );
          return { memoryMb, finished: true, figures: f };
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          process.stdout.write(`  probe at ${memoryMb} MB heap flags: FAILED (${message})\n`);
          return { memoryMb, finished: false, error: message };
        }
      });
      // The scaling trigger (ScaleCluster's synchronous call): one run each, as a cold Lambda at the stack's memory.
      const scaling = (['scale-out', 'scale-in'] as const).flatMap((trigger) => {
        let f: MeasureFigures;
        try {
          f = runChild<MeasureFigures>(
            ['--measure', dir, trigger, '', '--no-split'],
            lambdaHeapFlags(STACK_PLANNER.memoryMb),
          );
        } catch (error) {
          // An infeasible drain is an answer of the planner, not a failure of the Lambda: reported, not timed.
          process.stdout.write(`  ${trigger}: ${error instanceof Error ? error.message : String(error)}\n`);
          return [];
        }
        const of =
          trigger === 'scale-in'
            ? `${f.plan.movesOfScalingCell} of the ${f.partitionsOnDrainedCell} partitions of ${DRAINED_CELL} (${mib(f.plan.bytesOfScalingCell)}), ` +
              `${f.plan.moves - f.plan.movesOfScalingCell} other moves (${mib(f.plan.totalBytes - f.plan.bytesOfScalingCell)})`
            : `${f.plan.movesOfScalingCell} into ${NEW_CELL} (${mib(f.plan.bytesOfScalingCell)})`;
        process.stdout.write(
          `  ${trigger}: reads ${spanText(f.service.reads)}, build+plan ${spanText(f.service.buildAndPlan)}, ` +
            `write ${spanText(f.service.planWrite)}, total ${spanText(f.service.total)}, peak RSS ${mib(f.peakRssBytes)}; ` +
            `${f.plan.moves} moves, ${mib(f.plan.totalBytes)}: ${of}\n`,
        );
        return [f];
      });
      const p = figures[0].plan;
      process.stdout.write(
        `  plan: ${p.moves} moves, ${mib(p.totalBytes)} to move, ${p.items} items written (${p.itemBytes} B, ${p.writeUnits} WCU), ` +
          `cost $${p.costBefore.toFixed(0)} → $${p.costAfter.toFixed(0)}, ${p.capacityShortfalls} capacity shortfall(s), deferred ${JSON.stringify(p.deferred)}\n`,
      );
      const sampled = runChild<SampleFigures>([
        '--sample',
        String(sampleSize),
        String(regionCount),
        planFile,
      ]);
      const scoresScan = extrapolateScan(sampled.scores, t.scores);
      const partitionsScan = extrapolateScan(sampled.partitionsList, t.partitions);
      const readUnitsPerCycle = t.scores.readUnits + t.partitions.readUnits + t.cells.readUnits;
      process.stdout.write(
        `  dynalite sample (${sampled.partitions} partitions): scores listAll ${sampled.scores.pages} pages ` +
          `(largest segment ${sampled.scores.pagesPerSegment} pages, ${(sampled.scores.bytesPerSegment / 2 ** 20).toFixed(2)} MiB) median ${sec(median(sampled.scores.wallMs))} wall / ${sec(median(sampled.scores.clientCpuMs))} client CPU; ` +
          `partitions list ${sampled.partitionsList.pages} pages median ${sec(median(sampled.partitionsList.wallMs))} wall / ${sec(median(sampled.partitionsList.clientCpuMs))} client CPU` +
          (sampled.planWrite
            ? `; plan write (${sampled.planWrite.moves} moves) median ${sec(median(sampled.planWrite.wallMs))}`
            : '') +
          '\n' +
          `  EXTRAPOLATED at dynalite's rate: scores Scan ${sec(scoresScan.wallMs)} wall (${Math.max(...t.scores.segments.map((s) => s.length))} pages per segment), ` +
          `partitions Scan ${sec(partitionsScan.wallMs)} wall (${t.partitions.pages} pages, one after another); ` +
          `client CPU ${sec(scoresScan.clientCpuMs)} + ${sec(partitionsScan.clientCpuMs)}\n` +
          `  read units: ${readUnitsPerCycle} RRU per cycle, ${readUnitsPerCycle * (86_400_000 / INTERVAL_MS)} per day at the ${INTERVAL_MS / 60_000}-minute interval\n`,
      );
      const every = [...figures, ...scaling];
      const worstWall = Math.max(...every.map((f) => f.service.total.wallMs + f.service.endpointMs));
      const projectedDurationMs = worstWall + Math.max(scoresScan.wallMs, partitionsScan.wallMs);
      const worstRss = Math.max(...every.map((f) => f.peakRssBytes));
      const pass = projectedDurationMs < LAMBDA_MAX_MS && worstRss < LAMBDA_MAX_MB * 2 ** 20;
      variants.push({
        regions: regionCount,
        prepareMs,
        layout: t,
        relationships: index.relationships,
        inFlight: index.inFlight,
        runs: figures,
        scaling,
        probes,
        sample: sampled,
        io: {
          scoresScanReadUnits: t.scores.readUnits,
          partitionsScanReadUnits: t.partitions.readUnits,
          cellsScanReadUnits: t.cells.readUnits,
          readUnitsPerCycle,
          readUnitsPerDay: readUnitsPerCycle * (86_400_000 / INTERVAL_MS),
          scoresScanWallMsExtrapolated: scoresScan.wallMs,
          partitionsScanWallMsExtrapolated: partitionsScan.wallMs,
          scoresClientCpuMsExtrapolated: scoresScan.clientCpuMs,
          partitionsClientCpuMsExtrapolated: partitionsScan.clientCpuMs,
        },
        projectedDurationMs,
        pass,
      });
      process.stdout.write(
        `  projected duration ${sec(projectedDurationMs)} (worst run of either trigger + the slower Scan extrapolated), peak RSS ${mib(worstRss)}: ` +
          `Lambda limits (${LAMBDA_MAX_MS / 60_000} min, ${LAMBDA_MAX_MB} MB) ${pass ? 'PASS' : 'FAIL'}; ` +
          `stack setting (${STACK_PLANNER.timeoutMs / 60_000} min, ${STACK_PLANNER.memoryMb} MB = ${(STACK_PLANNER.memoryMb / MB_PER_VCPU).toFixed(2)} vCPU): ` +
          `${projectedDurationMs < STACK_PLANNER.timeoutMs && worstRss < STACK_PLANNER.memoryMb * 2 ** 20 ? 'fits' : 'DOES NOT FIT'}\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const pass = variants.every((v) => v.pass);
  const loadAfter = loadavg();
  process.stdout.write(
    `\nload average after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')}\ntarget (Lambda limits): ${pass ? 'PASS' : 'FAIL'}\n`,
  );
  await mkdir(new URL('results/', import.meta.url), { recursive: true });
  await writeFile(
    new URL('results/planner-lambda-scale.json', import.meta.url),
    `${JSON.stringify(
      {
        benchmark: 'planner-lambda-scale',
        machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
        loadAverage: { before: loadBefore, after: loadAfter },
        workload: {
          partitions: partitionCount,
          cells: CELLS,
          horizonSteps: HORIZON,
          intervalMinutes: INTERVAL_MS / 60_000,
          measuredSizeFraction: MEASURED_SIZE_FRACTION,
          scoreScanSegments: SCORE_SCAN_SEGMENTS,
          samplePartitions: sampleSize,
        },
        target: { lambdaMaxMs: LAMBDA_MAX_MS, lambdaMaxMb: LAMBDA_MAX_MB, stackPlanner: STACK_PLANNER },
        pass,
        variants,
      },
      null,
      2,
    )}\n`,
  );
  if (!pass) process.exitCode = 1;
}

await main();
