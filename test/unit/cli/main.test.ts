import { describe, expect, it } from 'vitest';
import { registerAllCommands } from '../../../src/cli/commands/index.ts';
import { registeredCommands, runCli } from '../../../src/cli/main.ts';
import { captureCliIo } from '../../support/cli-capture.ts';

registerAllCommands();

describe('runCli', () => {
  it('lists commands for --help and exits 0', async () => {
    const c = captureCliIo();
    expect(await runCli(['--help'], c.io)).toBe(0);
    expect(c.out()).toContain('Usage: prestage <command>');
  });

  it('rejects an unknown command with exit 2 and the usage', async () => {
    const c = captureCliIo();
    expect(await runCli(['frobnicate'], c.io)).toBe(2);
    expect(c.err()).toContain("unknown command 'frobnicate'");
  });

  it('lists each lazily loaded command with the summary of the module it loads', async () => {
    const entries = registeredCommands();
    expect(entries.map((e) => e.name)).toContain('backtest');
    for (const entry of entries) {
      const command = await entry.load();
      expect({ name: command.name, summary: command.summary }).toEqual({
        name: entry.name,
        summary: entry.summary,
      });
    }
  });
});
