import { describe, expect, it } from 'vitest';
import { runNemesis } from '../../src/local/nemesis/nemesis-run.ts';
import {
  FAULTY_CLIENTS,
  FULL_STORAGE_NEMESIS,
  PROTECTION_ATTACKS,
} from '../../src/local/nemesis/nemesis-scenarios.ts';
import { formatReport, PROMISED_ANOMALIES } from '../../src/verification/list-append-checker.ts';

// Seeds drive the nemesis's choices (faults, keys, targets); timing still varies run to run, which is the point.
const SEED = Number(process.env.PRESTAGE_NEMESIS_SEED ?? 20261207);
// A control's run lasts until its attacked migrations have ended, which a loaded machine can stretch.
const CONTROL_TIMEOUT_MS = 150_000;

function anomalies(report: Awaited<ReturnType<typeof runNemesis>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(report.checker.anomalies)
      .filter(([name, a]) => a.count > 0 && PROMISED_ANOMALIES.includes(name as never))
      .map(([name, a]) => [name, a.count]),
  );
}

describe('the data plane under the nemesis (Elle-style list-append checker)', () => {
  it('loses, duplicates and reorders nothing, serves no stale read, and ends every migration under every fault at once', async () => {
    const report = await runNemesis({
      seed: SEED,
      durationMs: 8_000,
      stepFaultRate: 0.3,
      storage: FULL_STORAGE_NEMESIS,
      faultyClients: FAULTY_CLIENTS,
      livenessBoundMs: 60_000,
    });
    console.log(`seed ${SEED}\n${formatReport(report.checker)}\n${JSON.stringify(report.faults)}`);
    expect(anomalies(report)).toEqual({});
    expect(report.checker.valid).toBe(true);
    // The run was hostile and busy, or it proves nothing.
    expect(report.migrations.started).toBeGreaterThanOrEqual(3);
    expect(report.migrations.neverEnded).toBe(0);
    expect(report.checker.totals.appends.ok).toBeGreaterThan(100);
    expect(report.faults.throttled).toBeGreaterThan(0);
    expect(report.faults.lostResponses).toBeGreaterThan(0);
    expect(report.faults.laggedIndexReads).toBeGreaterThan(0);
    expect(report.faults.frozenInvocations).toBeGreaterThan(0);
    expect(report.faults.suspensions).toBeGreaterThan(0);
  });

  for (const [i, attack] of PROTECTION_ATTACKS.entries()) {
    describe(attack.protection, () => {
      it(
        'holds under its attack',
        async () => {
          const report = await runNemesis({ ...attack.attack, seed: SEED + i, durationMs: 6_000 });
          console.log(`${attack.protection} (on), seed ${SEED + i}\n${formatReport(report.checker)}`);
          expect(anomalies(report)).toEqual({});
          expect(report.migrations.started).toBeGreaterThan(0);
        },
        CONTROL_TIMEOUT_MS,
      );

      it.runIf(attack.reliableInOneRun)(
        'is what the checker catches when it is turned off (negative control)',
        async () => {
          const report = await runNemesis({
            ...attack.attack,
            unsafe: attack.unsafe,
            seed: SEED + i,
            durationMs: 6_000,
          });
          console.log(`${attack.protection} (OFF), seed ${SEED + i}\n${formatReport(report.checker)}`);
          const found = Object.keys(anomalies(report));
          expect(found.filter((name) => attack.expect.includes(name))).not.toEqual([]);
        },
        CONTROL_TIMEOUT_MS,
      );
    });
  }
});
