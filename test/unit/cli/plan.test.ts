import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerAllCommands } from '../../../src/cli/commands/index.ts';
import { runCli } from '../../../src/cli/main.ts';
import { captureCliIo } from '../../support/cli-capture.ts';
import { tempDir } from '../../support/temp-dir.ts';

registerAllCommands();

const EXAMPLE = 'docs/examples/plan-snapshot.json';

describe('prestage plan', () => {
  it('prints the plan for the example snapshot as JSON', async () => {
    const c = captureCliIo();
    expect(await runCli(['plan', '--snapshot', EXAMPLE, '--json'], c.io)).toBe(0);
    const plan = JSON.parse(c.out());
    expect(Object.keys(plan)).toEqual(['moves', 'costBefore', 'costAfter', 'deferred', 'capacityForecast']);
    expect(plan.moves.length).toBeGreaterThan(0);
    expect(plan.costAfter).toBeLessThan(plan.costBefore);
    const moved = new Map(plan.moves.map((m: { partition: string; to: string }) => [m.partition, m.to]));
    // All of orders-eu's demand but 10% is in eu-west-1: it goes there.
    expect(moved.get('orders-eu')).toBe('euw1-a');
    // checkout-jp surges in ap-northeast-1 at 12:30: moved there, starting before the surge.
    const jp = plan.moves.find((m: { partition: string }) => m.partition === 'checkout-jp');
    expect(jp.to).toBe('apne1-a');
    expect(jp.deadline).toBe('2026-03-02T12:30:00.000Z');
    expect(Date.parse(jp.startBy)).toBeLessThan(Date.parse(jp.deadline));
    // ads-eu was moved 90 minutes ago: the cooldown holds it back; inventory is in flight.
    expect(moved.has('ads-eu')).toBe(false);
    expect(moved.has('inventory')).toBe(false);
    expect(plan.deferred.cooldownMs).toBe(1);
    for (const move of plan.moves) {
      expect(move.priority).toBe(plan.moves.indexOf(move) + 1);
      const sum = Object.values(move.reasons as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(move.benefit, 3);
    }
  });

  it('prints a readable table by default', async () => {
    const c = captureCliIo();
    expect(await runCli(['plan', '--snapshot', EXAMPLE], c.io)).toBe(0);
    const out = c.out();
    expect(out).toMatch(/^plan at 2026-03-02T12:00:00.000Z \(12 steps of 5 min\): \d+ move\(s\)/);
    expect(out).toContain('partition');
    expect(out).toContain('orders-eu');
    expect(out).toContain('held back: 1 by cooldownMs');
  });

  it('shows help with an example', async () => {
    const c = captureCliIo();
    expect(await runCli(['plan', '--help'], c.io)).toBe(0);
    expect(c.out()).toContain('prestage plan --snapshot docs/examples/plan-snapshot.json');
  });

  it('prints a bad snapshot as one line naming the file and field, exit 2', async () => {
    const dir = tempDir('prestage-plan-');
    const doc = JSON.parse(await readFile(EXAMPLE, 'utf8'));
    doc.partitions[0].forecast['eu-west-1'][4] = 'lots';
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify(doc));
    const c = captureCliIo();
    expect(await runCli(['plan', '--snapshot', file], c.io)).toBe(2);
    expect(c.err()).toMatch(
      /^prestage plan: InputValidationError: .*bad\.json, field 'partitions\[0\]\.forecast\.eu-west-1\[4\]': /,
    );
    expect(c.err().trim().split('\n')).toHaveLength(1);
  });

  it('prints an infeasible snapshot as one line naming the constraint, exit 2', async () => {
    const dir = tempDir('prestage-plan-');
    const doc = JSON.parse(await readFile(EXAMPLE, 'utf8'));
    doc.cellStatus = {
      'euw1-a': 'DRAINING',
      'use1-a': 'DRAINING',
      'use1-b': 'DRAINING',
      'use1-new': 'DRAINING',
    };
    for (const c of doc.topology.cells) c.capacityBytes = 10 * 2 ** 30;
    const file = join(dir, 'full.json');
    await writeFile(file, JSON.stringify(doc));
    const c = captureCliIo();
    expect(await runCli(['plan', '--snapshot', file], c.io)).toBe(2);
    expect(c.err()).toMatch(
      /^prestage plan: InfeasiblePlacementError: infeasible placement: constraint 'capacityBytes'/,
    );
    expect(c.err().trim().split('\n')).toHaveLength(1);
  });

  it('requires --snapshot and reports a missing file', async () => {
    const c = captureCliIo();
    expect(await runCli(['plan'], c.io)).toBe(2);
    expect(c.err()).toContain('--snapshot');
    const d = captureCliIo();
    expect(await runCli(['plan', '--snapshot', 'no/such/file.json'], d.io)).toBe(2);
    expect(d.err()).toContain('no/such/file.json: file not found');
  });
});
