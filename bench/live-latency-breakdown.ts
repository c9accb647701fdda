/**
 * Where `prestage up`'s live latency goes, from the outcomes a run wrote with `--outcomes FILE` (one JSON line per
 * request: region, kind, weight, latency, local, carrier, how late it was sent, the listener's timing header).
 *
 *   npx tsx bench/live-latency-breakdown.ts /tmp/outcomes.jsonl [--speed 5040]
 *
 * Prints, per region and local/remote, by kind and by sampled/carrier: the requests, their share of the weight,
 * the weighted and unweighted p50 of the client's latency, and the median of the listener's own time (in all, in
 * cell calls with the WAN delay, in routing reads) and of the client's time outside the listener (transport and
 * both threads' queues); then how the weights spread, and how late requests were sent.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { RequestOutcome } from '../src/live/live-measurements.ts';

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function weightedQuantile(rows: readonly RequestOutcome[], q: number): number {
  const sorted = [...rows].sort((a, b) => a.latencyMs - b.latencyMs);
  const total = sorted.reduce((s, r) => s + (r.weight ?? 1), 0);
  let cumulative = 0;
  for (const r of sorted) {
    cumulative += r.weight ?? 1;
    if (cumulative >= q * total) return r.latencyMs;
  }
  return Number.NaN;
}

const f = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

function describe(label: string, rows: readonly RequestOutcome[], totalWeight: number): string {
  const weight = rows.reduce((s, r) => s + (r.weight ?? 1), 0);
  const timed = rows.filter((r) => r.server);
  return [
    label.padEnd(34),
    String(rows.length).padStart(7),
    `${f((weight / totalWeight) * 100, 1)}%`.padStart(8),
    f(weightedQuantile(rows, 0.5), 1).padStart(8),
    f(
      quantile(
        rows.map((r) => r.latencyMs),
        0.5,
      ),
      1,
    ).padStart(8),
    f(
      quantile(
        rows.map((r) => r.latencyMs),
        0.9,
      ),
      1,
    ).padStart(8),
    f(
      quantile(
        timed.map((r) => r.server!.total),
        0.5,
      ),
      1,
    ).padStart(8),
    f(
      quantile(
        timed.map((r) => r.server!.cell),
        0.5,
      ),
      1,
    ).padStart(8),
    f(
      quantile(
        timed.map((r) => r.server!.routing),
        0.5,
      ),
      1,
    ).padStart(8),
    f(
      quantile(
        timed.map((r) => r.latencyMs - r.server!.total),
        0.5,
      ),
      1,
    ).padStart(8),
    f(
      quantile(
        timed.map((r) => r.latencyMs - r.server!.total),
        0.9,
      ),
      1,
    ).padStart(8),
  ].join('');
}

function main(): void {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { speed: { type: 'string', default: '5040' } },
  });
  const speed = Number(values.speed);
  const rows = readFileSync(positionals[0], 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as RequestOutcome)
    .filter((r) => r.status >= 200 && r.status < 300);
  const regions = [...new Set(rows.map((r) => r.region))];
  console.log(
    `${'group'.padEnd(34)}${[
      'n',
      'weight',
      'wp50',
      'p50',
      'p90',
      'srv50',
      'cell50',
      'rout50',
      'out50',
      'out90',
    ]
      .map((h) => h.padStart(h === 'n' ? 7 : 8))
      .join('')}`,
  );
  for (const region of regions) {
    const inRegion = rows.filter((r) => r.region === region);
    const total = inRegion.reduce((s, r) => s + (r.weight ?? 1), 0);
    console.log(describe(`${region} all`, inRegion, total));
    for (const local of [true, false]) {
      const where = inRegion.filter((r) => r.local === local);
      const name = local ? 'local' : 'remote';
      console.log(describe(`  ${name}`, where, total));
      for (const kind of ['read', 'write'] as const)
        console.log(
          describe(
            `    ${name} ${kind}`,
            where.filter((r) => r.kind === kind),
            total,
          ),
        );
      for (const carrier of [false, true])
        console.log(
          describe(
            `    ${name} ${carrier ? 'carrier' : 'sampled'}`,
            where.filter((r) => r.carrier === carrier),
            total,
          ),
        );
      if (!local) {
        const byCell = new Map<string, RequestOutcome[]>();
        for (const r of where) byCell.set(r.servedBy ?? '?', [...(byCell.get(r.servedBy ?? '?') ?? []), r]);
        for (const [cell, of] of byCell) console.log(describe(`    remote via ${cell}`, of, total));
      }
    }
  }
  console.log('\nweights (trace requests one sent request stands for):');
  for (const carrier of [false, true]) {
    const w = rows.filter((r) => r.carrier === carrier).map((r) => r.weight ?? 1);
    const sum = w.reduce((s, x) => s + x, 0);
    console.log(
      `  ${carrier ? 'carriers' : 'sampled '} n ${w.length}, weight share ${f((sum / rows.reduce((s, r) => s + (r.weight ?? 1), 0)) * 100, 1)}%, ` +
        `p10/p50/p90/max ${[0.1, 0.5, 0.9].map((q) => f(quantile(w, q))).join('/')}/${f(Math.max(...w))}`,
    );
  }
  const late = rows.map((r) => (r.sentLateTraceMs ?? 0) / speed);
  console.log(
    `\nsent late, wall ms after due: p50 ${f(quantile(late, 0.5), 1)}, p90 ${f(quantile(late, 0.9), 1)}, p99 ${f(quantile(late, 0.99), 1)}, max ${f(Math.max(...late), 1)}`,
  );
  // Latency over the run: the median per tenth of the requests, in order of their due time.
  const ordered = [...rows].sort((a, b) => a.atTraceMs - b.atTraceMs);
  const tenth = Math.ceil(ordered.length / 10);
  const parts: string[] = [];
  for (let i = 0; i < ordered.length; i += tenth) {
    const slice = ordered.slice(i, i + tenth).filter((r) => r.local);
    parts.push(
      `${f(
        quantile(
          slice.map((r) => r.latencyMs),
          0.5,
        ),
        1,
      )}`,
    );
  }
  console.log(`local p50 by tenth of the run: ${parts.join(' ')}`);
}

main();
