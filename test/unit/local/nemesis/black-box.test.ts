import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nemesisCommand } from '../../../../src/cli/commands/nemesis.ts';
import { registerCommand, runCli } from '../../../../src/cli/main.ts';
import { LocalServer } from '../../../../src/local/local-server.ts';
import { runBlackBoxNemesis, writeOutcome } from '../../../../src/local/nemesis/black-box.ts';
import { formatReport } from '../../../../src/verification/list-append-checker.ts';
import { captureCliIo } from '../../../support/cli-capture.ts';

// Only the command under test: runCli supplies the exit code and the one-line error.
registerCommand(nemesisCommand);

describe('runBlackBoxNemesis against prestage serve --embedded --faults', () => {
  let server: LocalServer;

  beforeAll(async () => {
    server = await LocalServer.start({
      port: 0,
      regions: ['us-east-1', 'eu-west-1'],
      cellsPerRegion: 1,
      faults: true,
      // As the in-process nemesis: an injected step timeout costs 3 s, well inside the liveness bound.
      stepTimeoutSeconds: Number(process.env.PRESTAGE_TEST_STEP_TIMEOUT ?? 3),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('keeps every promise through the HTTP API while migrations run and the nemesis is on', async () => {
    const progress: number[] = [];
    // One step timeout for sure (the random arms may draw none): the first copy outlives its task timeout, and
    // the migration must still end within the liveness bound.
    const armed = await fetch(`${server.url}/v1/admin/faults`, {
      method: 'POST',
      body: JSON.stringify({ step: 'copy', mode: 'timeout', times: 1 }),
    });
    expect(armed.status).toBe(201);
    const report = await runBlackBoxNemesis({
      server: server.url,
      durationMs: 6_000,
      seed: 7,
      migrationConcurrency: 2,
      nemesis: { throttleRate: 0.02, lostResponseRate: 0.05, indexLagMs: 2_000, freezeRate: 0.2 },
      stepFaultRate: 0.3,
      livenessBoundMs: 12_000,
      onProgress: (p) => progress.push(p.appendsAcked),
    });
    const summary = `${formatReport(report.checker)}\n${JSON.stringify(report.migrations)}`;
    expect(report.checker.valid, summary).toBe(true);
    expect(
      report.migrations.committed + report.migrations.rolledBack + report.migrations.failed,
    ).toBeGreaterThan(0);
    expect(report.migrations.neverEnded, summary).toBe(0);
    expect(report.checker.totals.appends.ok, summary).toBeGreaterThan(30);
    expect(report.nemesisCounts?.lostResponses).toBeGreaterThan(0);
    expect(report.partitionsLeftFenced).toEqual([]);
    expect(progress.length).toBeGreaterThanOrEqual(4);
    // The run turned the nemesis off again.
    const after = (await (await fetch(`${server.url}/v1/admin/nemesis`)).json()) as {
      settings: Record<string, number>;
    };
    expect(Object.values(after.settings).every((value) => value === 0)).toBe(true);
  }, 60_000);

  it('classifies write answers as the data-plane doc promises', () => {
    const answer = (status: number, code?: string) => ({ status, code, body: {} });
    expect(writeOutcome(answer(200))).toBe('ok');
    expect(writeOutcome(answer(409, 'VERSION_CONFLICT'))).toBe('conflict');
    expect(writeOutcome(answer(404, 'PARTITION_NOT_FOUND'))).toBe('conflict');
    expect(writeOutcome(answer(503, 'PARTITION_MOVING'))).toBe('conflict');
    expect(writeOutcome(answer(503, 'WRITE_OUTCOME_UNKNOWN'))).toBe('unknown');
    expect(writeOutcome(answer(503, 'THROTTLED'))).toBe('unknown');
    expect(writeOutcome(answer(500, 'INTERNAL'))).toBe('unknown');
    expect(writeOutcome(null)).toBe('unknown');
  });
});

describe('prestage nemesis', () => {
  it('rejects a bad flag with exit 2 and one line naming it', async () => {
    const c = captureCliIo();
    expect(await runCli(['nemesis', '--lost-response-rate', '2'], c.io)).toBe(2);
    expect(c.err().trimEnd().split('\n')).toHaveLength(1);
    expect(c.err()).toMatch(/--lost-response-rate.*expected a rate from 0 to 1, found '2'/);
    expect(c.out()).toBe('');

    const d = captureCliIo();
    expect(await runCli(['nemesis', '--duration', 'soon'], d.io)).toBe(2);
    expect(d.err()).toMatch(/--duration.*found 'soon'/);
  });

  it('names --server when nothing answers there', async () => {
    const c = captureCliIo();
    expect(await runCli(['nemesis', '--server', 'http://127.0.0.1:9', '--duration', '1'], c.io)).toBe(2);
    expect(c.err().trimEnd().split('\n')).toHaveLength(1);
    expect(c.err()).toMatch(/--server.*cannot reach the prestage server at http:\/\/127\.0\.0\.1:9/);
  });
});
