/**
 * `npm run bench -- live`: `prestage up` against the issue's targets, on the bundled trace (tweets-3region) and on
 * taxi-3region (built here from scripts/make-traces.ts, as bench/backtest-targets.ts does):
 * - the live loop closes ≥ 80% of the remote-share gap between the backtest's static and predictive (also shown
 *   against predictive paced, the backtest whose moves take as long after their planning tick as the live ones);
 * - `--loop off` measures within 10% of static;
 * - live p50 per region within 20% of the backtest's p50 of the same region;
 * - 0 acknowledged writes lost;
 * - `npm start` (the bundled trace, loop on, backtest included) finishes in ≤ 6 minutes.
 * Each run is the CLI in its own process, as a user runs it. Options: --only tweets|taxi.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  buildTopology,
  generateTrace,
  metaJson,
  partitionsCsv,
  RECIPES,
  traceCsv,
} from '../scripts/make-traces.ts';
import type { LiveJson } from '../src/live/live-summary.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'prestage-bench-live-'));

function materialize(name: string): string {
  const recipe = RECIPES.find((r) => r.name === name);
  if (!recipe) throw new Error(`no recipe ${name}`);
  const generated = generateTrace(recipe, {});
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'trace.csv.gz'), gzipSync(traceCsv(generated), { level: 1 }));
  writeFileSync(join(dir, 'partitions.csv'), partitionsCsv(generated));
  writeFileSync(join(dir, 'topology.json'), JSON.stringify(buildTopology(generated)));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(metaJson(generated)));
  return dir;
}

function up(label: string, args: string[]): { json: LiveJson; seconds: number; code: number | null } {
  const json = join(out, `${label}.json`);
  const started = Date.now();
  const child = spawnSync(
    process.execPath,
    [join(root, 'bin', 'prestage.js'), 'up', '--port', '0', '--no-dashboard', '--json', json, ...args],
    { stdio: ['ignore', 'inherit', 'ignore'], cwd: root },
  );
  const seconds = (Date.now() - started) / 1000;
  return { json: JSON.parse(readFileSync(json, 'utf8')) as LiveJson, seconds, code: child.status };
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const traces = [
  { name: 'tweets-3region', files: [] as string[] },
  { name: 'taxi-3region', files: [] as string[] },
].filter((t) => only === undefined || t.name.startsWith(only));
let missed = 0;
for (const trace of traces) {
  const files =
    trace.name === 'tweets-3region'
      ? []
      : (() => {
          const dir = materialize(trace.name);
          return [
            '--trace',
            join(dir, 'trace.csv.gz'),
            '--partitions',
            join(dir, 'partitions.csv'),
            '--topology',
            join(dir, 'topology.json'),
          ];
        })();
  const on = up(`${trace.name}-on`, files);
  const off = up(`${trace.name}-off`, [...files, '--loop', 'off', '--no-backtest']);
  const bt = on.json.backtest!;
  const gap = bt.static.remoteShare - bt.predictive.remoteShare;
  const closed = gap > 0 ? (bt.static.remoteShare - on.json.live.remoteShare) / gap : Number.NaN;
  const offVsStatic = Math.abs(off.json.live.remoteShare - bt.static.remoteShare) / bt.static.remoteShare;
  const lost = on.json.live.writesLost + off.json.live.writesLost;
  const lines = [
    `### ${trace.name}  (speed ${on.json.trace.speed.toFixed(0)}×, 1 request per ${(1 / on.json.trace.requestScale).toFixed(0)})`,
    `remote share: live ${pct(on.json.live.remoteShare)}, --loop off ${pct(off.json.live.remoteShare)}; backtest static ${pct(bt.static.remoteShare)}, predictive ${pct(bt.predictive.remoteShare)}${bt.predictivePaced ? `, predictive paced ${pct(bt.predictivePaced.remoteShare)}` : ''}`,
    `${verdict(closed >= 0.8)}  gap closed: ${Number.isFinite(closed) ? pct(closed) : 'n/a'} (target ≥ 80%)`,
    ...(bt.predictivePaced
      ? [
          // The same gap against the model of this loop: moves in place no sooner than the live moves were.
          `      against predictive paced: ${pct((bt.static.remoteShare - on.json.live.remoteShare) / (bt.static.remoteShare - bt.predictivePaced.remoteShare))} closed`,
        ]
      : []),
    `${verdict(offVsStatic <= 0.1)}  --loop off vs static: ${pct(offVsStatic)} apart (target ≤ 10%)`,
  ];
  for (const [region, p50] of Object.entries(on.json.live.p50LatencyMsByRegion)) {
    // The backtest's p50 of the requests made from the same region (older JSON: its p50 over all regions).
    const ref = bt.predictive.p50LatencyMsByRegion?.[region] ?? bt.predictive.p50LatencyMs;
    const apart = Math.abs(p50 - ref) / ref;
    lines.push(
      `${verdict(apart <= 0.2)}  p50 ${region}: live ${p50.toFixed(0)} ms vs backtest ${ref.toFixed(0)} ms (${pct(apart)} apart; target ≤ 20%)`,
    );
    if (apart > 0.2) missed++;
  }
  lines.push(
    `${verdict(lost === 0)}  writes lost: ${lost} of ${on.json.live.writesAcked + off.json.live.writesAcked} acknowledged`,
  );
  lines.push(
    `moves ${on.json.live.moves} (+${on.json.live.warmupMoves} in the warm-up), cycles ${on.json.live.cycles}, ticks skipped ${on.json.live.skippedTicks}, cycle median ${(on.json.live.cycleWallMs.median / 1000).toFixed(2)} s wall, median move ${(on.json.live.medianMoveWallMs / 1000).toFixed(1)} s wall; requests ${on.json.live.requests}, not sent ${on.json.live.requestsNotSent}, 503s ${on.json.live.http503}`,
  );
  if (trace.name === 'tweets-3region') {
    lines.push(
      `${verdict(on.seconds <= 360)}  npm start equivalent (loop on, backtest included): ${on.seconds.toFixed(0)} s (target ≤ 360 s)`,
    );
    if (on.seconds > 360) missed++;
  }
  if (!(closed >= 0.8)) missed++;
  if (!(offVsStatic <= 0.1)) missed++;
  if (lost > 0) missed++;
  process.stdout.write(`${lines.join('\n')}\n(JSON in ${out})\n\n`);
}
process.stdout.write(`${missed === 0 ? 'all targets met' : `${missed} target(s) missed`}\n`);
