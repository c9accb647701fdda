/**
 * Planner speed at scale: 100,000 partitions × 60 cells × 6 regions, 24-step horizon, on a seeded realistic
 * instance (log-normal rates and sizes, daily cycles per time zone, 10% misplaced partitions, surges,
 * co-access between 50,000 pairs, 1% in flight, 2% cooling down, default limits).
 *
 * Target: median planMoves time ≤ 2 s, peak memory ≤ 1 GB (peak RSS of the whole process, instance
 * included; heap figures alongside). Also times the simulator's size (300 partitions × 12 cells).
 *
 * Run: npx tsx bench/planner-speed.ts [runs=7]   (writes bench/results/planner-speed.json)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { planMoves } from '../src/domain/planning/placement-planner.ts';
import { generatePlannerInstance } from '../src/domain/planning/synthetic-instance.ts';

const RUNS = Math.max(5, Number(process.argv[2] ?? 7));
const TARGET_MEDIAN_MS = 2000;
const TARGET_PEAK_BYTES = 1e9;

function percentile(sorted: readonly number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
/** Peak resident set size of this process so far (Linux reports KiB). */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

function timeRuns(label: string, input: ReturnType<typeof generatePlannerInstance>, runs: number) {
  const times: number[] = [];
  let heapPeak = 0;
  let moves = 0;
  let summary = '';
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const plan = planMoves(input);
    times.push(performance.now() - started);
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    moves = plan.moves.length;
    const deferred = Object.entries(plan.deferred)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    summary = `${moves} moves, cost $${plan.costBefore.toFixed(0)} → $${plan.costAfter.toFixed(0)}, deferred: ${deferred || 'none'}, ${plan.capacityForecast.length} capacity shortfall(s)`;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const result = {
    label,
    partitions: input.partitions.length,
    cells: input.topology.cells.length,
    regions: Object.keys(input.topology.regions).length,
    steps: Object.values(input.partitions[0].forecast)[0].length,
    runs,
    timesMs: times.map((t) => Math.round(t * 10) / 10),
    medianMs: percentile(sorted, 0.5),
    p95Ms: percentile(sorted, 0.95),
    moves,
    heapUsedPeakBytes: heapPeak,
    summary,
  };
  process.stdout.write(
    `${label.padEnd(32)} median ${result.medianMs.toFixed(0).padStart(6)} ms   p95 ${result.p95Ms.toFixed(0).padStart(6)} ms   (${runs} runs)  ${summary}\n`,
  );
  return result;
}

process.stdout.write(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}\n`,
);
const rssBase = peakRss();
const generated = performance.now();
const large = generatePlannerInstance({
  seed: 42,
  partitions: 100_000,
  regions: 6,
  cellsPerRegion: 10,
  steps: 24,
  utilization: 0.65,
  misplacedFraction: 0.1,
  relationshipsPerPartition: 0.5,
  surgeFraction: 0.05,
  inFlightFraction: 0.01,
  coolingFraction: 0.02,
});
const generateMs = performance.now() - generated;
const rssInput = peakRss();
process.stdout.write(
  `instance: 100,000 partitions, 60 cells, 6 regions, 24 steps, ${large.relationships?.length} relationships, ${large.inFlight?.length} in flight (generated in ${generateMs.toFixed(0)} ms, peak RSS ${mib(rssInput)})\n`,
);
const largeResult = timeRuns('100k partitions × 60 cells', large, RUNS);
const rssPeak = peakRss();
const heap = getHeapStatistics();

const small = generatePlannerInstance({
  seed: 7,
  partitions: 300,
  regions: 3,
  cellsPerRegion: 4,
  utilization: 0.65,
  misplacedFraction: 0.15,
  surgeFraction: 0.1,
  inFlightFraction: 0.01,
  coolingFraction: 0.05,
});
const smallResult = timeRuns('300 partitions × 12 cells (sim)', small, 20);

const pass = largeResult.medianMs <= TARGET_MEDIAN_MS && rssPeak <= TARGET_PEAK_BYTES;
process.stdout.write(
  [
    '',
    `peak RSS ${mib(rssPeak)} (process before the instance: ${mib(rssBase)}, with the instance: ${mib(rssInput)}); heap used peak ${mib(largeResult.heapUsedPeakBytes)}, V8 heap size ${mib(heap.total_heap_size)}`,
    `target: median ≤ ${TARGET_MEDIAN_MS} ms and peak memory ≤ ${mib(TARGET_PEAK_BYTES)} → ${pass ? 'PASS' : 'FAIL'}`,
    '',
  ].join('\n'),
);
await mkdir('bench/results', { recursive: true });
await writeFile(
  'bench/results/planner-speed.json',
  `${JSON.stringify(
    {
      benchmark: 'planner-speed',
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      target: { medianMs: TARGET_MEDIAN_MS, peakBytes: TARGET_PEAK_BYTES },
      pass,
      large: { ...largeResult, generateMs },
      memory: { peakRssBytes: rssPeak, rssBeforeInstanceBytes: rssBase, rssWithInstanceBytes: rssInput },
      simulatorSize: smallResult,
    },
    null,
    2,
  )}\n`,
);
process.exitCode = pass ? 0 : 1;
