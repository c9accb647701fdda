/**
 * Where a `prestage up` profiler cycle's wall time goes: the bundled trace's data plane (dynalite per region on its
 * own thread, as `up` runs it), its warm-up history written, then the control plane attached over HTTP as the
 * control-plane thread does, and timed: every partition's history read whole (a Query per partition, region and
 * kind), then whole cycles (coordinator, shards, planner; no migration is started), one trace hour apart, as the
 * schedule runs them. `npx tsx bench/live-cycle.ts [--cycles N] [--replay-forecasts]` (the latter: every series
 * replayed every cycle, as before the forecasters were kept between cycles).
 */

import { latencyBetween } from '../src/domain/topology.ts';
import { TraceClock } from '../src/live/clock.ts';
import { chooseWindow, readLiveInput } from '../src/live/live-input.ts';
import { seedPartitions, writeHistory } from '../src/live/live-seeding.ts';
import { RequestSampler } from '../src/live/request-sampler.ts';
import { EmbeddedCluster } from '../src/local/embedded-cluster.ts';
import type { MigrationStarter } from '../src/local/local-migration-runner.ts';
import { LocalServer } from '../src/local/local-server.ts';
import { mapBounded } from '../src/support/bounded-parallel.ts';

// As `prestage up` does, before the handlers (and Powertools, and the X-Ray SDK) load.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.AWS_XRAY_MANUAL_MODE ??= '1';
const { LocalControlPlane, ScaledAccessHistory } = await import('../src/live/local-control-plane.ts');

const cyclesArg = process.argv.indexOf('--cycles');
const cycles = cyclesArg >= 0 ? Number(process.argv[cyclesArg + 1]) : 5;
const dir = 'data/traces/tweets-3region';
const input = readLiveInput({
  trace: `${dir}/trace.csv.gz`,
  partitions: `${dir}/partitions.csv`,
  topology: `${dir}/topology.json`,
});
const window = chooseWindow(input.input, {});
const HOUR = 3_600_000;
const topology = input.input.topology;
const server = await LocalServer.start({
  port: 0,
  regions: Object.keys(topology.regions),
  cellsPerRegion: 0,
  cells: topology.cells,
  wanRoundTripMs: (a, b) => latencyBetween(topology, a, b),
  dynaliteThread: true,
});
const quiet = { input, window, progress: () => undefined };
await seedPartitions(server, quiet);
await writeHistory(server, new RequestSampler(input.input.trace, window.requestScale), HOUR, quiet);

const cluster = await EmbeddedCluster.attach({
  endpoints: Object.fromEntries(server.cluster.regionNames().map((r) => [r, server.cluster.endpointFor(r)])),
  homeRegion: server.cluster.homeRegion,
});
const partitions = (await cluster.partitions.list()).map((p) => p.partition);
const sinceMs = window.startMs - 4 * 86_400_000;
const history = new ScaledAccessHistory(cluster.accessStats, window.requestScale);
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  let items = 0;
  await mapBounded(partitions, 32, async (p) => {
    const [c, co] = await Promise.all([history.countsFor(p, sinceMs), history.coAccessFor(p, sinceMs)]);
    items += c.length + co.length;
  });
  console.log(
    `access reads, ${partitions.length} partitions: ${(performance.now() - t).toFixed(0)} ms, ${items} items`,
  );
}

const clock = new TraceClock(window.startMs, window.speed);
const noMigrations = { start: async () => ({ executionArn: 'none' }) } as unknown as MigrationStarter;
const control = await LocalControlPlane.start({
  cluster,
  migrations: noMigrations,
  clock,
  intervalSeconds: 3600,
  horizonSteps: 2,
  shards: 2,
  lookbackMs: 4 * 86_400_000,
  requestScale: window.requestScale,
  maxConcurrentMovesPerCell: 2,
  maxBytesPerCycle: 50 * 1024 ** 3,
  keepForecasters: !process.argv.includes('--replay-forecasts'),
  log: (line) => console.log(line),
});
for (let i = 0; i < cycles; i++) {
  const at = window.startMs + i * HOUR;
  clock.holdAt(at);
  const t = performance.now();
  await control.tick(at);
  const latest = control.executions.at(-1);
  const planned = latest ? (await control.plans.allMoves(latest.planId)).length : 0;
  const f = control.forecastModel.stats;
  console.log(
    `cycle ${i}: ${(performance.now() - t).toFixed(0)} ms, ${planned} moves planned; forecast series so far: ${f.replayed} replayed, ${f.extended} extended, ${f.observedBuckets} buckets observed`,
  );
}
await control.drain();
for (const d of control.lambda.deadLetters.slice(0, 3))
  console.log(`dead letter: ${d.functionName}: ${d.error.name}: ${d.error.message}`);
console.log(`dead letters: ${control.lambda.deadLetters.length}`);
cluster.replicator?.close();
await server.close();
