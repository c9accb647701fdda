import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { registerAllCommands } from '../../../src/cli/commands/index.ts';
import { runModelServer } from '../../../src/cli/commands/model-server.ts';
import { runCli } from '../../../src/cli/main.ts';
import { captureCliIo } from '../../support/cli-capture.ts';

registerAllCommands();

function stopper(): { stop: () => void; stopped: Promise<void> } {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  return { stop, stopped };
}

describe('prestage model-server', () => {
  it('prints the listening URL, serves invocations with the given prediction length, and stops cleanly', async () => {
    const c = captureCliIo();
    const { stop, stopped } = stopper();
    const running = runModelServer(
      ['--port', '0', '--prediction-length', '3', '--interval', '5m', '--endpoint', 'forecast-a'],
      c.io,
      stopped,
    );
    while (!c.out().includes('listening on')) await new Promise((resolve) => setTimeout(resolve, 10));
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(c.out())![1];
    expect(c.out()).toContain(`POST ${url}/endpoints/forecast-a/invocations`);
    expect((await fetch(`${url}/ping`)).status).toBe(200);
    const response = await fetch(`${url}/endpoints/forecast-a/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [{ start: '2024-01-01 00:00:00', target: [5, 6, 7, 6, 5] }] }),
    });
    const answer = (await response.json()) as { predictions: { mean: number[] }[] };
    expect(answer.predictions[0].mean).toHaveLength(3);
    const other = await fetch(`${url}/endpoints/forecast-b/invocations`, { method: 'POST', body: '{}' });
    expect(other.headers.get('x-amzn-errortype')).toBe('ValidationError');
    stop();
    expect(await running).toBe(0);
    expect(c.out()).toContain('stopped after 2 invocations');
    expect(c.err()).toMatch(/POST \/endpoints\/forecast-a\/invocations 200/);
    await expect(fetch(`${url}/ping`)).rejects.toThrow();
  });

  it('names the bad option', async () => {
    const c = captureCliIo();
    const cases: [string[], RegExp][] = [
      [['--port', 'x'], /--port/],
      [['--port', '70000'], /--port/],
      [['--prediction-length', '0'], /--prediction-length/],
      [['--interval', 'soon'], /--interval/],
      [['--interval', '0.5s'], /--interval/],
      [['--frobnicate'], /frobnicate/],
    ];
    for (const [argv, message] of cases) {
      await expect(runModelServer(argv, c.io, Promise.resolve())).rejects.toThrow(message);
    }
  });

  it('says when the port is taken, as one line through the CLI', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const c = captureCliIo();
      expect(await runCli(['model-server', '--port', String(port)], c.io)).toBe(2);
      expect(c.err()).toBe(
        `prestage model-server: InputValidationError: field '--port': port ${port} is already in use; pass another --port\n`,
      );
    } finally {
      blocker.close();
    }
  });

  it('is listed by prestage --help and documents its routes', async () => {
    const c = captureCliIo();
    await runCli(['--help'], c.io);
    expect(c.out()).toMatch(/model-server\s+Serve a local SageMaker DeepAR endpoint/);
    const h = captureCliIo();
    expect(await runCli(['model-server', '--help'], h.io)).toBe(0);
    expect(h.out()).toContain('POST /endpoints/{EndpointName}/invocations');
  });
});
