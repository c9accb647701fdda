/**
 * A made-up `prestage up` run, for the dashboard's tests and for trying the page by hand (try-dashboard.ts): 3
 * regions, 12 cells, 80 partitions with daily peaks in their home region's daytime, hashed (not locality-aware)
 * at the start. Every few steps a planner-like rule plans moves toward the predicted region, migrations walk
 * through MigratePartition's stages (one of them rolls back), a cell is added in ap-northeast-1 under a peak
 * that draws a few 503s, and a cell in eu-west-1 is drained and removed. Deterministic: step n is always the
 * same snapshot. None of it measures anything; the live run fills the same contract from the real system.
 */
import { MIGRATION_STAGES } from '../../domain/migration/migration-stage.ts';
import type {
  LiveCell,
  LiveCellEvent,
  LiveCellStatus,
  LiveErrorPoint,
  LiveLatencyPoint,
  LiveMigration,
  LivePlan,
  LiveSnapshot,
} from '../live-snapshot.ts';
import {
  BUCKET_MS,
  daytime,
  demand,
  HOUR,
  LOCAL_MS,
  makePartitions,
  predictedRegion,
  REGIONS,
  RTT_MS,
} from './demo-demand.ts';

const START_MS = Date.UTC(2015, 3, 16);
const WINDOW_MS = 48 * HOUR;
const WARM_UP_STEPS = 3;
/** Trace time each running step covers. */
const STEP_MS = 2 * BUCKET_MS;
const RUNNING_STEPS = WINDOW_MS / STEP_MS;
/** Steps from `starting` to `finished`: step 0 is starting, the last is finished. */
export const DEMO_STEPS = 1 + WARM_UP_STEPS + RUNNING_STEPS;
const PLAN_EVERY_STEPS = 6;
const MAX_CONCURRENT_MOVES = 3;
const ADD_CELL_STEP = 40;
const DRAIN_CELL_STEP = 64;
const ROLLBACK_PARTITION = 'p-031';

interface DemoCell {
  readonly id: string;
  readonly region: number;
  status: LiveCellStatus;
}

interface Migration {
  readonly partition: string;
  readonly from: string;
  readonly to: string;
  readonly startedTraceMs: number;
  /** Index in MIGRATION_STAGES. */
  stageIndex: number;
  rollback: boolean;
}

export class DemoRun {
  private step = 0;
  private readonly partitions = makePartitions();
  private readonly cells: DemoCell[] = REGIONS.flatMap((_, r) =>
    [1, 2, 3, 4].map((n) => ({ id: `${REGIONS[r]}-c${n}`, region: r, status: 'active' as LiveCellStatus })),
  );
  /** Partition id → cell id. */
  private readonly placement = new Map<string, string>();
  private readonly migrations: Migration[] = [];
  private plan: LivePlan | null = null;
  private planCount = 0;
  private readonly latency: LiveLatencyPoint[] = [];
  private readonly errors: LiveErrorPoint[] = [];
  private readonly cellEvents: LiveCellEvent[] = [];
  private readonly totals = {
    requests: 0,
    writesAcked: 0,
    writeErrors: 0,
    http503: 0,
    bytesMoved: 0,
    moves: 0,
  };

  constructor() {
    // Hashed placement, as a system that ignores locality would place data.
    this.partitions.forEach((p, i) => {
      this.placement.set(p.id, this.cells[(i * 7 + 3) % this.cells.length].id);
    });
  }

  get done(): boolean {
    return this.step >= DEMO_STEPS - 1;
  }

  /** The trace clock at the current step. */
  private nowMs(): number {
    return START_MS + Math.max(0, this.step - WARM_UP_STEPS) * STEP_MS;
  }

  advance(): void {
    if (this.done) return;
    this.step += 1;
    if (this.step <= WARM_UP_STEPS) return;
    const from = this.nowMs() - STEP_MS;
    for (let t = from; t < this.nowMs(); t += BUCKET_MS) this.measureBucket(t);
    this.evolveCells();
    this.advanceMigrations();
    if (this.done) {
      // The run ends when the last bucket is replayed and the migrations in flight have ended.
      while (this.migrations.length > 0) this.advanceMigrations();
      return;
    }
    if ((this.step - WARM_UP_STEPS) % PLAN_EVERY_STEPS === 1) this.makePlan();
    this.startMigrations();
  }

  private cell(id: string): DemoCell {
    return this.cells.find((c) => c.id === id)!;
  }

  private measureBucket(t: number): void {
    const stressed = this.step >= ADD_CELL_STEP - 3 && this.step <= ADD_CELL_STEP + 2;
    let http503 = 0;
    REGIONS.forEach((region, r) => {
      let ops = 0;
      let local = 0;
      const byRtt = new Map<number, number>();
      for (const p of this.partitions) {
        const d = demand(p, r, t);
        const cellRegion = this.cell(this.placement.get(p.id)!).region;
        ops += d;
        if (cellRegion === r) local += d;
        const rtt = RTT_MS[r][cellRegion];
        byRtt.set(rtt, (byRtt.get(rtt) ?? 0) + d);
      }
      const jitter = 1 + 0.08 * Math.sin(t / 3_600_000 + r * 2);
      const routes = [...byRtt].sort((a, b) => a[0] - b[0]);
      const quantile = (q: number) => {
        let acc = 0;
        for (const [rtt, d] of routes) {
          acc += d / ops;
          if (acc >= q) return rtt;
        }
        return routes[routes.length - 1][0];
      };
      const requests = Math.round(ops * (BUCKET_MS / 1000) * 0.002);
      this.latency.push({
        traceMs: t,
        region,
        requests,
        p50Ms: Number(((LOCAL_MS + quantile(0.5)) * jitter).toFixed(1)),
        p99Ms: Number(((LOCAL_MS * 3 + quantile(0.99)) * jitter + (stressed ? 140 : 0)).toFixed(1)),
        localShare: Number((local / ops).toFixed(4)),
      });
      this.totals.requests += requests;
      this.totals.writesAcked += Math.round(requests * 0.27);
      if (stressed && r === 2) http503 += 1 + Math.round(2 * daytime(r, t));
    });
    this.errors.push({ traceMs: t, writeErrors: 0, http503 });
    this.totals.http503 += http503;
  }

  private evolveCells(): void {
    const nowMs = this.nowMs();
    if (this.step === ADD_CELL_STEP) {
      this.cells.push({ id: 'ap-northeast-1-c5', region: 2, status: 'provisioning' });
      this.cellEvents.push({ traceMs: nowMs, cell: 'ap-northeast-1-c5', region: REGIONS[2], kind: 'added' });
    }
    if (this.step === ADD_CELL_STEP + 3) this.cell('ap-northeast-1-c5').status = 'active';
    if (this.step === DRAIN_CELL_STEP) this.cell('eu-west-1-c4').status = 'draining';
    const draining = this.cells.find((c) => c.status === 'draining');
    if (draining && ![...this.placement.values()].includes(draining.id)) {
      draining.status = 'retired';
      this.cellEvents.push({
        traceMs: nowMs,
        cell: draining.id,
        region: REGIONS[draining.region],
        kind: 'removed',
      });
    }
  }

  private advanceMigrations(): void {
    for (const m of [...this.migrations]) {
      if (m.rollback) {
        this.migrations.splice(this.migrations.indexOf(m), 1);
        continue;
      }
      m.stageIndex += 1;
      if (m.partition === ROLLBACK_PARTITION && MIGRATION_STAGES[m.stageIndex] === 'verify') {
        m.rollback = true;
        continue;
      }
      if (m.stageIndex >= MIGRATION_STAGES.length) {
        this.migrations.splice(this.migrations.indexOf(m), 1);
        this.placement.set(m.partition, m.to);
        this.totals.moves += 1;
        this.totals.bytesMoved += this.partitions.find((p) => p.id === m.partition)!.sizeBytes;
      }
    }
  }

  /** The least loaded active cell of a region (the new cell first: it is empty). */
  private targetCell(region: number): DemoCell {
    const load = (c: DemoCell) => [...this.placement.values()].filter((id) => id === c.id).length;
    return this.cells
      .filter((c) => c.region === region && c.status === 'active')
      .sort((a, b) => load(a) - load(b) || a.id.localeCompare(b.id))[0];
  }

  private makePlan(): void {
    const nowMs = this.nowMs();
    const moving = new Set(this.migrations.map((m) => m.partition));
    const candidates = this.partitions
      .filter((p) => !moving.has(p.id))
      .map((p) => {
        const cell = this.cell(this.placement.get(p.id)!);
        const target = predictedRegion(p, nowMs);
        const drain = cell.status === 'draining';
        const ops = REGIONS.reduce((sum, _, r) => sum + demand(p, r, nowMs + 3 * HOUR), 0);
        return { p, cell, target: drain && target === cell.region ? cell.region : target, drain, ops };
      })
      .filter((c) => c.drain || c.target !== c.cell.region)
      .sort((a, b) => Number(b.drain) - Number(a.drain) || b.ops - a.ops)
      .slice(0, 5);
    this.planCount += 1;
    this.plan = {
      id: `plan-${String(this.planCount).padStart(3, '0')}`,
      createdTraceMs: nowMs,
      moves: candidates.map(({ p, cell, target, drain, ops }) => {
        const to = this.targetCell(target);
        const share = Math.round(p.shares[target] * 100);
        const saved = RTT_MS[target][cell.region];
        const reasons = drain
          ? [`${cell.id} is draining: its partitions move out before it is removed`]
          : [
              `${share}% of predicted demand comes from ${REGIONS[target]} over the next 6 h`,
              `saves ~${saved} ms per request for ~${Math.round(ops * p.shares[target])} ops/s at the peak`,
            ];
        if (to.id === 'ap-northeast-1-c5') reasons.push('fills the cell added for the ap-northeast-1 peak');
        return { partition: p.id, from: cell.id, to: to.id, reasons };
      }),
    };
  }

  private startMigrations(): void {
    if (!this.plan) return;
    let started = 0;
    for (const move of this.plan.moves) {
      // One start per step, so the migrations in flight are at different stages.
      if (this.migrations.length >= MAX_CONCURRENT_MOVES || started > 0) return;
      if (this.migrations.some((m) => m.partition === move.partition)) continue;
      if (this.placement.get(move.partition) !== move.from) continue;
      this.migrations.push({
        partition: move.partition,
        from: move.from,
        to: move.to,
        stageIndex: 0,
        rollback: false,
        startedTraceMs: this.nowMs(),
      });
      started += 1;
    }
  }

  private forecasts(nowMs: number): LiveSnapshot['forecasts'] {
    if (this.step <= WARM_UP_STEPS) return [];
    const hottest = [...this.partitions].sort((a, b) => b.peakOpsPerSec - a.peakOpsPerSec).slice(0, 6);
    const first = Math.max(START_MS, nowMs - 24 * HOUR);
    return hottest.map((p) => {
      const points = [];
      for (let t = first; t < nowMs + 6 * HOUR; t += BUCKET_MS) {
        const truth = demand(p, p.home, t);
        const error = 1 + 0.12 * Math.sin(t / (5 * HOUR) + p.peakOpsPerSec);
        points.push({
          traceMs: t,
          actual: t < nowMs ? Number((truth * (1 + 0.05 * Math.sin(t / 1_700_000))).toFixed(1)) : null,
          forecast: Number((truth * error).toFixed(1)),
        });
      }
      return { partition: p.id, region: REGIONS[p.home], points };
    });
  }

  snapshot(): LiveSnapshot {
    const nowMs = this.nowMs();
    const status =
      this.step === 0
        ? 'starting'
        : this.step <= WARM_UP_STEPS
          ? 'warming-up'
          : this.done
            ? 'finished'
            : 'running';
    const cells: LiveCell[] =
      this.step === 0
        ? []
        : this.cells.map((c) => ({
            id: c.id,
            region: REGIONS[c.region],
            status: c.status,
            partitions: this.partitions
              .filter((p) => this.placement.get(p.id) === c.id)
              .map((p) => ({
                id: p.id,
                predictedRegion: this.step > WARM_UP_STEPS ? REGIONS[predictedRegion(p, nowMs)] : null,
                opsPerSec: Number(REGIONS.reduce((sum, _, r) => sum + demand(p, r, nowMs), 0).toFixed(1)),
              })),
          }));
    return {
      status,
      loop: 'on',
      wallElapsedMs: this.step * 3_125,
      trace: {
        name: 'tweets-3region (demo data)',
        startMs: START_MS,
        endMs: START_MS + WINDOW_MS,
        nowMs,
        speed: 576,
        requestScale: 0.002,
        bucketMs: BUCKET_MS,
      },
      regions: [...REGIONS],
      latency: [...this.latency],
      cells,
      migrations: this.migrations.map(
        (m): LiveMigration => ({
          partition: m.partition,
          from: m.from,
          to: m.to,
          stage: m.rollback ? 'rollback' : MIGRATION_STAGES[m.stageIndex],
          startedTraceMs: m.startedTraceMs,
        }),
      ),
      plan: this.plan,
      forecasts: this.forecasts(nowMs),
      cellEvents: [...this.cellEvents],
      errors: [...this.errors],
      totals: {
        ...this.totals,
        cellsInService: cells.filter((c) => c.status === 'active' || c.status === 'draining').length,
      },
    };
  }
}

/** The demo run's snapshot after `step` steps (0: starting; DEMO_STEPS - 1 and later: finished). */
export function demoSnapshot(step: number): LiveSnapshot {
  const run = new DemoRun();
  for (let i = 0; i < step; i++) run.advance();
  return run.snapshot();
}
