import { describe, expect, it } from 'vitest';
import { runServe } from '../../../src/cli/commands/serve.ts';

function capture() {
  const out: string[] = [];
  return { io: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: () => undefined } }, out };
}

describe('prestage serve', () => {
  it('starts the embedded data plane, answers /healthz, and stops cleanly', async () => {
    const { io, out } = capture();
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const running = runServe(
      ['--embedded', '--port', '0', '--regions', 'us-east-1,ap-northeast-1', '--cells-per-region', '1'],
      io,
      stopped,
    );
    while (!out.join('').includes('listening on')) await new Promise((resolve) => setTimeout(resolve, 20));
    const url = /listening on (\S+)/.exec(out.join(''))![1];
    expect(out.join('')).toMatch(/cells: {3}ap-northeast-1-c1, us-east-1-c1/);
    const health = await (await fetch(`${url}/healthz`)).json();
    expect(health).toEqual({ status: 'ok', regions: ['us-east-1', 'ap-northeast-1'], cells: 2 });
    const fault = await fetch(`${url}/v1/admin/faults`, {
      method: 'POST',
      body: '{"step":"copy","mode":"error"}',
    });
    expect(fault.status).toBe(404);
    stop();
    expect(await running).toBe(0);
  });

  it('names the missing or bad option', async () => {
    const { io } = capture();
    await expect(runServe([], io, Promise.resolve())).rejects.toThrow(/--embedded.*is required/);
    await expect(runServe(['--embedded', '--port', 'x'], io, Promise.resolve())).rejects.toThrow(/--port/);
    await expect(runServe(['--embedded', '--regions', 'moon-1'], io, Promise.resolve())).rejects.toThrow(
      /'moon-1' is not an AWS region name/,
    );
    await expect(runServe(['--embedded', '--cells-per-region', '0'], io, Promise.resolve())).rejects.toThrow(
      /--cells-per-region/,
    );
  });
});
