/**
 * `POWERTOOLS_LOG_LEVEL=INFO npx tsx bench/live-capacity-probe.ts --at 2015-03-14T05:00:00Z`: the live profiler's
 * capacity forecast at one instant of the bundled trace, with its access counts on time. The data plane as `up`
 * runs it, the history up to `--at` written as `up`'s recorders count the load generator's requests (the counted
 * sample, each request where it is due), then three profiler cycles an hour apart ending at `--at` (no migration,
 * no ScaleCluster: the profiler logs its decisions). Compare its shortfalls with those `up` logged at the same
 * trace time (where the requests arrive as late as the machine sends them) and with bench/live-scaling-diag.ts.
 *
 * By default the history is the trace's exact counts (as `up` writes its warm-up). `--sent-per-second N`: from
 * `up`'s window start to `--at`, the counts are instead what `up`'s recorders count when the load generator sends
 * its counted sample first-in first-out at N requests per wall second at most (a saturated generator: each request
 * counted, with the demand it declares, in the hour it arrives; what has not arrived by `--at` is not counted).
 */
import { latencyBetween } from '../src/domain/topology.ts';
import { TraceClock } from '../src/live/clock.ts';
import { chooseWindow, readLiveInput } from '../src/live/live-input.ts';
import { seedPartitions, writeHistory } from '../src/live/live-seeding.ts';
import { countedSamplerFor, DEFAULT_CARRIERS_PER_SECOND } from '../src/live/request-sampler.ts';
import { EmbeddedCluster } from '../src/local/embedded-cluster.ts';
import type { MigrationStarter } from '../src/local/local-migration-runner.ts';
import { LocalServer } from '../src/local/local-server.ts';

process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';
process.env.AWS_XRAY_MANUAL_MODE ??= '1';
const { LocalControlPlane } = await import('../src/live/local-control-plane.ts');

const HOUR = 3_600_000;
const atArg = process.argv.indexOf('--at');
const dir = 'data/traces/tweets-3region';
const input = readLiveInput({
  trace: `${dir}/trace.csv.gz`,
  partitions: `${dir}/partitions.csv`,
  topology: `${dir}/topology.json`,
});
const trace = input.input.trace;
const atMs = atArg >= 0 ? Date.parse(process.argv[atArg + 1]) : trace.startMs + 8 * 86_400_000;
// `up`'s window and request scale; the history written runs to `--at`.
const upWindow = chooseWindow(input.input, {});
const startBucket = Math.round((atMs - trace.startMs) / trace.bucketMs);
const window = { ...upWindow, startBucket, startMs: atMs, warmupMs: atMs - trace.startMs };
const topology = input.input.topology;
const server = await LocalServer.start({
  port: 0,
  regions: Object.keys(topology.regions),
  cellsPerRegion: 0,
  cells: topology.cells,
  wanRoundTripMs: (a, b) => latencyBetween(topology, a, b),
  dynaliteThread: true,
});
const quiet = { input, window, progress: (line: string) => console.error(line) };
await seedPartitions(server, quiet);
const sampler = countedSamplerFor(trace, upWindow, HOUR, DEFAULT_CARRIERS_PER_SECOND);
const sentArg = process.argv.indexOf('--sent-per-second');
if (sentArg < 0) await writeHistory(server, sampler, HOUR, quiet);
else {
  const perSecond = Number(process.argv[sentArg + 1]);
  // Up to the live window: exact counts, as `up`'s warm-up writes them.
  await writeHistory(server, sampler, HOUR, { ...quiet, window: upWindow });
  // The window up to `--at`: counted on arrival, the sample sent no faster than `perSecond` a wall second.
  const gapTraceMs = (1000 / perSecond) * upWindow.speed;
  const counts = new Map<
    string,
    { partition: string; region: string; bucketStartMs: number; count: number; writes: number }
  >();
  let lastSentMs = Number.NEGATIVE_INFINITY;
  let sent = 0;
  let due = 0;
  for (let b = upWindow.startBucket; b < startBucket; b++) {
    for (const q of sampler.requestsOf(b)) {
      due++;
      const sentAt = Math.max(q.atTraceMs, lastSentMs + gapTraceMs);
      lastSentMs = sentAt;
      if (sentAt >= atMs) continue;
      sent++;
      const bucketStartMs = sentAt - (sentAt % HOUR);
      const key = `${q.partition}\u0000${q.region}\u0000${bucketStartMs}`;
      const w = q.standsFor ?? { reads: q.kind === 'read' ? 1 : 0, writes: q.kind === 'write' ? 1 : 0 };
      const c = counts.get(key) ?? {
        partition: q.partition,
        region: q.region,
        bucketStartMs,
        count: 0,
        writes: 0,
      };
      c.count += w.reads + w.writes;
      c.writes += w.writes;
      counts.set(key, c);
    }
  }
  for (const region of Object.keys(topology.regions))
    await server.cluster.accessStatsIn(region).add(
      [...counts.values()].filter((c) => c.region === region),
      [],
    );
  console.error(`window to --at: ${due} requests due, ${sent} arrived by --at (${perSecond}/s at most)`);
}
const cluster = await EmbeddedCluster.attach({
  endpoints: Object.fromEntries(server.cluster.regionNames().map((r) => [r, server.cluster.endpointFor(r)])),
  homeRegion: server.cluster.homeRegion,
});
const clock = new TraceClock(atMs, upWindow.speed);
const noMigrations = { start: async () => ({ executionArn: 'none' }) } as unknown as MigrationStarter;
const control = await LocalControlPlane.start({
  cluster,
  migrations: noMigrations,
  clock,
  intervalSeconds: 3600,
  horizonSteps: 2,
  shards: 2,
  lookbackMs: 4 * 86_400_000,
  requestScale: upWindow.requestScale,
  countedSample: true,
  maxConcurrentMovesPerCell: 5,
  maxBytesPerCycle: 50 * 1024 ** 3,
  provisionMs: (topology.alarmScaling?.provisionMinutes ?? 5) * 60_000,
  scaleOutBufferMinutes: 60,
  migrationBandwidthBytesPerSec: topology.migrationBandwidthBytesPerSec,
  log: (line) => console.error(line),
});
for (const at of [atMs - 2 * HOUR, atMs - HOUR, atMs]) {
  clock.holdAt(at);
  await control.tick(at);
}
await control.drain();
cluster.replicator?.close();
await server.close();
