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
    while (!out.join('').includes('home region:')) await new Promise((resolve) => setTimeout(resolve, 20));
    const text = out.join('');
    // One listener per region, each printed with its URL.
    const urls = Object.fromEntries(
      [...text.matchAll(/^ {2}([a-z]+-[a-z]+-\d+) +(http:\/\/\S+)$/gm)].map((m) => [m[1], m[2]]),
    );
    expect(Object.keys(urls)).toEqual(['us-east-1', 'ap-northeast-1']);
    expect(text).toMatch(/cells: {3}ap-northeast-1-c1, us-east-1-c1/);
    expect(text).toMatch(/cross-region calls: estimated RTT × 1/);
    for (const [region, url] of Object.entries(urls)) {
      const health = await (await fetch(`${url}/healthz`)).json();
      expect(health).toEqual({
        status: 'ok',
        region,
        listeners: urls,
        regions: ['us-east-1', 'ap-northeast-1'],
        cells: 2,
      });
    }
    const url = urls['us-east-1'];
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
    await expect(runServe(['--embedded', '--wan-latency', 'fast'], io, Promise.resolve())).rejects.toThrow(
      /--wan-latency.*expected off, real or a scale factor/,
    );
  });

  it('names the port when a listener cannot have it, and leaves nothing running', async () => {
    const { createServer } = await import('node:net');
    const listenOn = (server: ReturnType<typeof createServer>, port: number) =>
      new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => resolve(true));
      });
    // Two adjacent ports: `first` free, `taken` held by another listener (found, not assumed).
    let first = 0;
    let blocker = createServer();
    for (;;) {
      const probe = createServer();
      await listenOn(probe, 0);
      first = (probe.address() as { port: number }).port;
      await new Promise((resolve) => probe.close(resolve));
      if (first < 65_535 && (await listenOn(blocker, first + 1))) break;
      blocker = createServer();
    }
    const taken = first + 1;
    const { io } = capture();
    // The second region's listener wants `taken`; the first (`first`) opens, and must be closed again.
    await expect(
      runServe(
        [
          '--embedded',
          '--port',
          String(taken - 1),
          '--regions',
          'us-east-1,eu-west-1',
          '--cells-per-region',
          '1',
        ],
        io,
        Promise.resolve(),
      ),
    ).rejects.toThrow(new RegExp(`--port.*port ${taken} \\(the eu-west-1 listener\\) is already in use`));
    // The first listener was closed: its port can be taken again.
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(first, '127.0.0.1', () => resolve());
    });
    await new Promise((resolve) => again.close(resolve));
    await new Promise((resolve) => blocker.close(resolve));
  });
});
