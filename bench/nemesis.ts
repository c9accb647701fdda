/**
 * The long nemesis run: at least N migrations (default 200) under every fault at once, checked by the
 * Elle-style list-append checker, then each protection's negative control over several seeds (detection rate).
 *
 * Protocol: `runNemesis` (src/local/nemesis/nemesis-run.ts) in rounds of ROUND_MS of workload: 2 regions × 2
 * cells of dynalite behind the storage nemesis (throttling concentrated on hot keys, lost responses that the SDK
 * retries after the write was applied, a lagging `changes` index, latency spikes), frozen step sandboxes, 30% of
 * migrations with one step fault (error, timeout or throttle at a random stage), a client 3 s behind on its
 * clock, one suspended for 0.8 s every 1.5 s, one configured with 5 s leases. 4 appenders, 3 readers, 3
 * migrations in flight, 8 partitions × 3 keys. Each round is checked on its own history; rounds continue until
 * the migration target is reached. Every anomaly class must be 0 in every round.
 *
 * Run: npm run bench -- nemesis   (or npx tsx bench/nemesis.ts [--migrations N] [--controls-seeds K])
 * Writes bench/results/nemesis.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { NemesisRunReport } from '../src/local/nemesis/nemesis-options.ts';
import { runNemesis } from '../src/local/nemesis/nemesis-run.ts';
import {
  FAULTY_CLIENTS,
  FULL_STORAGE_NEMESIS,
  PROTECTION_ATTACKS,
} from '../src/local/nemesis/nemesis-scenarios.ts';
import { ANOMALY_NAMES, PROMISED_ANOMALIES } from '../src/verification/list-append-checker.ts';

const ROUND_MS = 45_000;

const { values } = parseArgs({
  options: {
    migrations: { type: 'string', default: '200' },
    'controls-seeds': { type: 'string', default: '4' },
  },
});
const target = Number(values.migrations);
const controlSeeds = Number(values['controls-seeds']);
if (!Number.isInteger(target) || target < 1 || !Number.isInteger(controlSeeds) || controlSeeds < 0) {
  process.stderr.write('bench/nemesis: --migrations and --controls-seeds must be non-negative integers\n');
  process.exit(2);
}

function sum<K extends string>(
  reports: NemesisRunReport[],
  pick: (r: NemesisRunReport) => Record<K, number>,
) {
  const out: Record<string, number> = {};
  for (const report of reports) {
    for (const [key, value] of Object.entries(pick(report)) as [string, number][]) {
      out[key] = (out[key] ?? 0) + value;
    }
  }
  return out;
}

async function main() {
  const rounds: NemesisRunReport[] = [];
  let migrations = 0;
  for (let round = 0; migrations < target; round++) {
    const report = await runNemesis({
      seed: 7_000 + round,
      durationMs: ROUND_MS,
      stepFaultRate: 0.3,
      storage: FULL_STORAGE_NEMESIS,
      faultyClients: FAULTY_CLIENTS,
      partitions: 8,
      migrationConcurrency: 3,
      livenessBoundMs: 120_000,
      onProgress: (p) =>
        process.stderr.write(
          `\rround ${round + 1}: ${(p.elapsedMs / 1000).toFixed(0)} s, migrations ${migrations + p.migrationsEnded}/${target}, appends acked ${p.appendsAcked}   `,
        ),
    });
    rounds.push(report);
    migrations += report.migrations.started;
    const bad = PROMISED_ANOMALIES.filter((name) => report.checker.anomalies[name].count > 0);
    process.stderr.write(
      `\rround ${round + 1}: ${report.migrations.started} migrations, ${report.checker.valid ? 'VALID' : `INVALID: ${bad.join(', ')}`}${' '.repeat(30)}\n`,
    );
    for (const name of bad) {
      for (const example of report.checker.anomalies[name].examples) {
        process.stderr.write(`  ${name}: ${example}\n`);
        // The migrations of that key's partition, to read the anomaly against.
        const partition = /of (p\d+)\//.exec(example)?.[1];
        for (const m of report.migrationLog.filter((entry) => entry.partition === partition)) {
          process.stderr.write(`    ${JSON.stringify(m)}\n`);
        }
      }
    }
  }
  const anomalies = Object.fromEntries(
    ANOMALY_NAMES.map((name) => [name, rounds.reduce((n, r) => n + r.checker.anomalies[name].count, 0)]),
  );
  const totals = {
    rounds: rounds.length,
    migrations: sum(rounds, (r) => r.migrations as unknown as Record<string, number>),
    maxMigrationMs: Math.max(...rounds.map((r) => r.migrations.maxDurationMs)),
    faults: sum(rounds, (r) => r.faults as unknown as Record<string, number>),
    appends: sum(rounds, (r) => r.checker.totals.appends as unknown as Record<string, number>),
    readsChecked: rounds.reduce((n, r) => n + r.checker.totals.readsChecked, 0),
    anomalies,
    valid: rounds.every((r) => r.checker.valid),
  };
  delete (totals.migrations as Record<string, number>).maxDurationMs;

  const controls = [];
  for (const [i, attack] of PROTECTION_ATTACKS.entries()) {
    let caught = 0;
    for (let s = 0; s < controlSeeds; s++) {
      const report = await runNemesis({
        ...attack.attack,
        unsafe: attack.unsafe,
        seed: 9_000 + 10 * i + s,
        durationMs: 6_000,
      });
      const found = PROMISED_ANOMALIES.filter((name) => report.checker.anomalies[name].count > 0);
      if (found.some((name) => attack.expect.includes(name))) caught += 1;
      process.stderr.write(`\rcontrol ${i + 1}/${PROTECTION_ATTACKS.length}: caught ${caught}/${s + 1}   `);
    }
    controls.push({
      protection: attack.protection,
      caught,
      runs: controlSeeds,
      inCi: attack.reliableInOneRun,
    });
  }
  process.stderr.write('\n');

  const lines = [
    `nemesis: ${totals.rounds} rounds of ${ROUND_MS / 1000} s, ${totals.migrations.started} migrations (${totals.migrations.committed} committed, ${totals.migrations.rolledBack} rolled back, ${totals.migrations.failed} failed, ${totals.migrations.neverEnded} never ended; longest ${(totals.maxMigrationMs / 1000).toFixed(1)} s)`,
    `faults: ${totals.faults.throttled} throttled, ${totals.faults.lostResponses} lost responses, ${totals.faults.laggedIndexReads} index entries hidden by lag, ${totals.faults.latencySpikes} latency spikes, ${totals.faults.stepFaults} step faults, ${totals.faults.frozenInvocations} frozen step invocations (${totals.faults.requestsHeld} requests held), ${totals.faults.suspensions} client suspensions, ${totals.faults.mirrorFailures} failed mirrors`,
    `operations: ${totals.appends.total} appends (${totals.appends.ok} acknowledged, ${totals.appends.conflict} refused, ${totals.appends.unknown} unknown), ${totals.readsChecked} reads`,
    `anomalies: ${Object.entries(anomalies)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}  → ${totals.valid ? 'VALID' : 'INVALID'}`,
    'negative controls (protection off):',
    ...controls.map((c) => `  ${c.caught}/${c.runs} caught${c.inCi ? ' (also in CI)' : ''}: ${c.protection}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/nemesis.json', `${JSON.stringify({ totals, controls }, null, 2)}\n`);
  process.exit(totals.valid ? 0 : 1);
}

await main();
