import { describe, expect, it } from 'vitest';
import { MIGRATION_STAGES } from '../../../src/domain/migration/migration-stage.ts';
import { migrationsPanel, planPanel, stagePosition } from '../../../src/live/dashboard/activity-panels.ts';
import {
  combineLatency,
  errorSeries,
  PANEL_IDS,
  regionSeries,
  renderPanels,
} from '../../../src/live/dashboard/dashboard-panels.ts';
import { DEMO_STEPS, DemoRun, demoSnapshot } from '../../../src/live/dashboard/demo-snapshots.ts';
import {
  formatBytes,
  headerPanel,
  requestScaleLabel,
  speedLabel,
  windowProgress,
} from '../../../src/live/dashboard/header-panel.ts';
import { groupCellsByRegion, placementPanel } from '../../../src/live/dashboard/placement-panel.ts';
import type { LiveLatencyPoint, LiveSnapshot } from '../../../src/live/live-snapshot.ts';

const T0 = Date.UTC(2015, 3, 16);
const MIN = 60_000;

function emptySnapshot(overrides: Partial<LiveSnapshot> = {}): LiveSnapshot {
  return {
    status: 'starting',
    loop: 'on',
    wallElapsedMs: 0,
    trace: {
      name: 't',
      startMs: T0,
      endMs: T0 + 60 * MIN,
      nowMs: T0,
      speed: 600,
      requestScale: 0.01,
      bucketMs: 15 * MIN,
    },
    regions: ['us-east-1', 'eu-west-1'],
    latency: [],
    cells: [],
    migrations: [],
    plan: null,
    forecasts: [],
    cellEvents: [],
    errors: [],
    totals: {
      requests: 0,
      writesAcked: 0,
      writeErrors: 0,
      http503: 0,
      bytesMoved: 0,
      moves: 0,
      cellsInService: 0,
    },
    ...overrides,
  };
}

function point(
  traceMs: number,
  requests: number,
  p50Ms: number,
  p99Ms: number,
  localShare: number,
): LiveLatencyPoint {
  return { traceMs, region: 'us-east-1', requests, p50Ms, p99Ms, localShare };
}

describe('header', () => {
  it('says how time and requests are scaled, and how far the window is', () => {
    expect(requestScaleLabel(0.002)).toEqual({
      short: '1 : 500',
      long: 'one request sent for every 500 in the trace, plus carriers; each counts as the trace demand it stands for',
    });
    expect(requestScaleLabel(1).short).toBe('×1');
    expect(speedLabel(576)).toEqual({ short: '×576', long: '1 s of wall time replays 10 min of the trace' });
    const snapshot = emptySnapshot();
    expect(windowProgress({ ...snapshot, trace: { ...snapshot.trace, nowMs: T0 + 15 * MIN } })).toBe(0.25);
    expect(windowProgress({ ...snapshot, trace: { ...snapshot.trace, nowMs: T0 - MIN } })).toBe(0);
    expect(windowProgress({ ...snapshot, trace: { ...snapshot.trace, nowMs: T0 + 99 * MIN } })).toBe(1);
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536 * 2 ** 20)).toBe('1.5 GiB');
  });

  it('flags write errors and 503s in the totals', () => {
    const totals = { ...emptySnapshot().totals, writeErrors: 2, http503: 5 };
    const html = headerPanel(emptySnapshot({ status: 'running', totals }));
    expect(html).toContain('<div class="stat bad"');
    expect(html).toContain('<div class="stat warn"');
    expect(html).toContain('data-status="running"');
  });
});

describe('latency and error lines', () => {
  it('combines buckets: p50 and local share weighted by requests, p99 the largest; no request is a gap', () => {
    const points = [
      point(T0, 100, 10, 50, 1),
      point(T0 + 15 * MIN, 300, 30, 200, 0.5),
      point(T0, 0, 999, 999, 0),
    ];
    expect(combineLatency(points, 'p50')).toBe(25);
    expect(combineLatency(points, 'p99')).toBe(200);
    expect(combineLatency(points, 'localShare')).toBe(62.5);
    expect(combineLatency([point(T0, 0, 5, 5, 1)], 'p50')).toBeNull();
  });

  it('draws one line per region at the trace buckets when the window is short', () => {
    const snapshot = emptySnapshot({
      latency: [point(T0, 10, 7, 40, 0.9), point(T0 + 15 * MIN, 0, 0, 0, 0)],
      errors: [{ traceMs: T0, writeErrors: 1, http503: 3 }],
    });
    const [us, eu] = regionSeries(snapshot, 'p99');
    expect(us.points).toEqual([
      { t: T0, v: 40 },
      { t: T0 + 15 * MIN, v: null },
    ]);
    expect(eu.points).toEqual([]);
    expect(us.color).not.toBe(eu.color);
    expect(errorSeries(snapshot).map((s) => s.points)).toEqual([[{ t: T0, v: 1 }], [{ t: T0, v: 3 }]]);
  });

  it('keeps a week-long window to at most 200 points a line', () => {
    const week = 7 * 24 * 60 * MIN;
    const latency = Array.from({ length: week / (15 * MIN) }, (_, i) =>
      point(T0 + i * 15 * MIN, 10, 5, 9, 1),
    );
    const snapshot = emptySnapshot({ latency, trace: { ...emptySnapshot().trace, endMs: T0 + week } });
    expect(regionSeries(snapshot, 'p50')[0].points.length).toBeLessThanOrEqual(200);
  });
});

describe('placement', () => {
  const snapshot = demoSnapshot(60);

  it('groups cells by region in the snapshot’s order, cells in service first', () => {
    const groups = groupCellsByRegion(snapshot);
    expect(groups.map((g) => g.region)).toEqual(snapshot.regions);
    expect(groups.flatMap((g) => g.cells).length).toBe(snapshot.cells.length);
    for (const group of groups) expect(group.cells.every((c) => c.region === group.region)).toBe(true);
  });

  it('outlines each partition predicted for another region and stripes each one migrating', () => {
    const html = placementPanel(snapshot);
    const remote = snapshot.cells.flatMap((c) =>
      c.partitions.filter((p) => p.predictedRegion !== null && p.predictedRegion !== c.region),
    );
    expect(remote.length).toBeGreaterThan(0);
    expect(html.match(/class="tile remote[^"]*" style="[^"]*" data-partition/g)).toHaveLength(remote.length);
    for (const m of snapshot.migrations) {
      expect(html).toMatch(
        new RegExp(`class="tile[^"]* moving" style="[^"]*" data-partition="${m.partition}"`),
      );
    }
  });

  it('writes each cell’s status when it is not simply active', () => {
    const finished = demoSnapshot(DEMO_STEPS - 1);
    const html = placementPanel(finished);
    expect(html).toContain('<div class="cell cell-retired" data-cell="eu-west-1-c4">');
    expect(html).toContain('<span class="cell-status">retired</span>');
  });
});

describe('migrations and plan', () => {
  it('places a stage in MigratePartition’s order, and a rollback outside it', () => {
    expect(stagePosition('acquire')).toBe(0);
    expect(stagePosition('commit')).toBe(MIGRATION_STAGES.length - 1);
    expect(stagePosition('rollback')).toBe(-1);
  });

  it('shows each migration’s stage as segments done, current and to come', () => {
    const snapshot = emptySnapshot({
      cells: [
        { id: 'a', region: 'us-east-1', status: 'active', partitions: [] },
        { id: 'b', region: 'eu-west-1', status: 'active', partitions: [] },
      ],
      migrations: [
        { partition: 'p1', from: 'a', to: 'b', stage: 'verify', startedTraceMs: T0 },
        { partition: 'p2', from: 'b', to: 'a', stage: 'rollback', startedTraceMs: T0 },
      ],
    });
    const html = migrationsPanel(snapshot);
    const p1 = html.slice(html.indexOf('data-partition="p1"'), html.indexOf('data-partition="p2"'));
    expect(p1.match(/seg done/g)).toHaveLength(MIGRATION_STAGES.indexOf('verify'));
    expect(p1.match(/seg now/g)).toHaveLength(1);
    expect(p1).toContain('verify <span class="muted">5/9</span>');
    const p2 = html.slice(html.indexOf('data-partition="p2"'));
    expect(p2.match(/seg undo/g)).toHaveLength(MIGRATION_STAGES.length);
    expect(p2).toContain('class="pipeline rollback"');
  });

  it('lists each move with its reasons, escaped', () => {
    const html = planPanel(
      emptySnapshot({
        plan: {
          id: 'plan-1',
          createdTraceMs: T0,
          moves: [
            { partition: 'p1', from: 'a', to: 'b', reasons: ['<b>hot</b> in eu-west-1', 'saves 80 ms'] },
          ],
        },
      }),
    );
    expect(html).toContain('<li>&#60;b&#62;hot&#60;/b&#62; in eu-west-1</li><li>saves 80 ms</li>');
    expect(planPanel(emptySnapshot({ loop: 'off' }))).toContain('The loop is off');
  });
});

describe('renderPanels', () => {
  it('renders every panel for an empty snapshot, a run in progress and a finished run', () => {
    for (const snapshot of [emptySnapshot(), demoSnapshot(45), demoSnapshot(DEMO_STEPS - 1)]) {
      const panels = renderPanels(snapshot);
      expect(Object.keys(panels)).toEqual([...PANEL_IDS]);
      for (const id of PANEL_IDS) expect(panels[id].length, id).toBeGreaterThan(50);
    }
    const empty = renderPanels(emptySnapshot());
    expect(empty.p50).toContain('waiting for the first measured bucket');
    expect(empty.placement).toContain('No cells yet');
  });

  it('is a pure function of the snapshot and the view', () => {
    const snapshot = demoSnapshot(45);
    expect(renderPanels(snapshot)).toEqual(renderPanels(JSON.parse(JSON.stringify(snapshot))));
    const hidden = renderPanels(snapshot, { hidden: new Map([['p99', new Set(['eu-west-1'])]]) });
    expect(hidden.p99).toContain('series hidden');
    expect(hidden.p50).not.toContain('series hidden');
  });
});

describe('demo run', () => {
  it('goes from starting through warming up and running to finished, the same every time', () => {
    const statuses = Array.from({ length: DEMO_STEPS + 2 }, (_, step) => demoSnapshot(step).status);
    expect(statuses[0]).toBe('starting');
    expect(statuses).toContain('warming-up');
    expect(statuses.indexOf('finished')).toBe(DEMO_STEPS - 1);
    expect(statuses.slice(DEMO_STEPS - 1).every((s) => s === 'finished')).toBe(true);
    expect(demoSnapshot(37)).toEqual(demoSnapshot(37));
  });

  it('has what every panel needs: 3 regions, 12 cells, 80 partitions, moving stages, a plan, a cell added, 503s', () => {
    const run = new DemoRun();
    const stages = new Set<string>();
    let snapshot = run.snapshot();
    while (!run.done) {
      run.advance();
      snapshot = run.snapshot();
      for (const m of snapshot.migrations) stages.add(m.stage);
      const partitions = snapshot.cells.flatMap((c) => c.partitions.map((p) => p.id));
      expect(new Set(partitions).size).toBe(80);
      expect(partitions.length).toBe(80);
    }
    expect(snapshot.regions).toHaveLength(3);
    expect(demoSnapshot(5).cells).toHaveLength(12);
    expect([...stages].sort()).toEqual([...MIGRATION_STAGES, 'rollback'].sort());
    expect(snapshot.plan!.moves.every((m) => m.reasons.length > 0)).toBe(true);
    expect(snapshot.cellEvents.map((e) => e.kind)).toEqual(['added', 'removed']);
    expect(snapshot.totals.http503).toBeGreaterThan(0);
    expect(snapshot.totals.moves).toBeGreaterThan(10);
    expect(snapshot.migrations).toEqual([]);
    expect(snapshot.forecasts).toHaveLength(6);
    expect(snapshot.trace.nowMs).toBe(snapshot.trace.endMs);
  });
});
