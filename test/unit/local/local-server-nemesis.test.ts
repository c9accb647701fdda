import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServe, serveCommand } from '../../../src/cli/commands/serve.ts';
import { registerCommand, runCli } from '../../../src/cli/main.ts';
import { LocalServer } from '../../../src/local/local-server.ts';

// Only the command under test: runCli supplies the exit code and the one-line error, as for `prestage serve`.
registerCommand(serveCommand);

// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON bodies
type Json = Record<string, any>;

async function request(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

const ZERO_SETTINGS = {
  throttleRate: 0,
  lostResponseRate: 0,
  indexLagMs: 0,
  latencySpikeRate: 0,
  latencySpikeMs: 0,
  freezeRate: 0,
  replicationLagMs: 0,
};
const ZERO_COUNTS = {
  attempts: 0,
  throttled: 0,
  lostResponses: 0,
  laggedIndexReads: 0,
  latencySpikes: 0,
  frozenInvocations: 0,
  requestsHeld: 0,
};

describe('prestage serve --embedded --faults: /v1/admin/nemesis', () => {
  let server: LocalServer;
  const req = (method: string, path: string, body?: unknown) => request(server.url, method, path, body);

  beforeAll(async () => {
    server = await LocalServer.start({ port: 0, regions: ['us-east-1'], cellsPerRegion: 2, faults: true });
  });
  afterAll(async () => {
    await server.close();
    expect(server.freezer!.frozenCount).toBe(0);
    expect(server.freezer!.freezeRate).toBe(0);
  });

  it('starts with everything off', async () => {
    expect(await req('GET', '/v1/admin/nemesis')).toEqual({
      status: 200,
      body: { settings: ZERO_SETTINGS, counts: ZERO_COUNTS },
    });
  });

  it('takes valid settings, refuses bad ones by field name and then keeps the previous ones', async () => {
    const settings = { throttleRate: 0.1, indexLagMs: 250, latencySpikeRate: 0.05, latencySpikeMs: 20 };
    const configured = await req('POST', '/v1/admin/nemesis', settings);
    expect(configured.status).toBe(200);
    // Omitted settings are off: the body replaces the settings.
    expect(configured.body.settings).toEqual({ ...ZERO_SETTINGS, ...settings });
    expect(Object.keys(configured.body.counts).sort()).toEqual(Object.keys(ZERO_COUNTS).sort());

    const unknown = await req('POST', '/v1/admin/nemesis', { bogus: 1 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('INVALID_NEMESIS');
    expect(unknown.body.error.message).toMatch(/^bogus: /);

    const outOfRange = await req('POST', '/v1/admin/nemesis', { throttleRate: 2 });
    expect(outOfRange.status).toBe(400);
    expect(outOfRange.body.error.code).toBe('INVALID_NEMESIS');
    expect(outOfRange.body.error.message).toMatch(/^throttleRate: /);

    expect((await req('GET', '/v1/admin/nemesis')).body.settings).toEqual({ ...ZERO_SETTINGS, ...settings });
    expect(server.freezer!.freezeRate).toBe(0);

    await req('POST', '/v1/admin/nemesis', { freezeRate: 0.5 });
    expect(server.freezer!.freezeRate).toBe(0.5);
    expect(server.nemesis!.settings).toEqual({ ...ZERO_SETTINGS, freezeRate: 0.5 });
  });

  it('loses write responses without breaking a write that took effect', async () => {
    expect((await req('POST', '/v1/admin/nemesis', { lostResponseRate: 1 })).status).toBe(200);
    const put = await req('PUT', '/v1/partitions/lossy/items/k1', { n: 1 });
    // Applied but unanswered: either diagnosed as ours (200) or reported as unknown (503), never a conflict.
    expect([200, 503]).toContain(put.status);
    const during = await req('GET', '/v1/admin/nemesis');
    expect(during.body.counts.lostResponses).toBeGreaterThan(0);
    expect(during.body.counts.attempts).toBeGreaterThan(0);

    const off = await req('DELETE', '/v1/admin/nemesis');
    expect(off).toEqual({ status: 200, body: { settings: ZERO_SETTINGS, counts: ZERO_COUNTS } });
    const item = await req('GET', '/v1/partitions/lossy/items/k1');
    if (put.status === 200) {
      expect(item).toEqual({ status: 200, body: { value: { n: 1 }, version: put.body.version } });
    } else {
      expect(put.body.error.code).toMatch(/^(WRITE_OUTCOME_UNKNOWN|CELL_UNAVAILABLE|THROTTLED)$/);
      // The write was applied (only its responses were lost), so if it is visible it is the first version.
      if (item.status === 200) expect(item.body).toEqual({ value: { n: 1 }, version: 1 });
      else expect(item.status).toBe(404);
    }
    // Off again: the same write path is clean.
    expect(await req('PUT', '/v1/partitions/lossy/items/k2', { n: 2 })).toMatchObject({ status: 200 });
    expect((await req('GET', '/v1/admin/nemesis')).body.counts).toEqual(ZERO_COUNTS);
  });

  it('freezes step invocations of migrations, and DELETE thaws them', async () => {
    for (let i = 0; i < 5; i++) await req('PUT', `/v1/partitions/frozen/items/f${i}`, { i });
    await req('POST', '/v1/admin/nemesis', { freezeRate: 1 });
    const invocationsBefore = server.freezer!.counts.invocations;
    const from = (await req('GET', '/v1/admin/partitions/frozen')).body.cell as string;
    const otherCell = from === 'us-east-1-c1' ? 'us-east-1-c2' : 'us-east-1-c1';
    const started = await req('POST', '/v1/admin/migrations', { partition: 'frozen', targetCell: otherCell });
    expect(started.status).toBe(202);
    // Every step invocation ran through the freezer and ended frozen; none left work behind, so the migration
    // still ends.
    const ended = await server.runner.wait(started.body.migrationId);
    expect(ended.status).not.toBe('RUNNING');
    expect(server.freezer!.counts.invocations).toBeGreaterThan(invocationsBefore);
    expect((await req('GET', '/v1/admin/nemesis')).body.counts.frozenInvocations).toBeGreaterThan(0);
    expect(server.freezer!.frozenCount).toBeGreaterThan(0);
    await req('DELETE', '/v1/admin/nemesis');
    expect(server.freezer!.frozenCount).toBe(0);

    // Left frozen on purpose: closing the server must thaw it (see afterAll).
    await req('POST', '/v1/admin/nemesis', { freezeRate: 1 });
    const again = await req('POST', '/v1/admin/migrations', { partition: 'frozen', targetCell: from });
    expect(again.status).toBe(202);
    await server.runner.wait(again.body.migrationId);
    expect(server.freezer!.frozenCount).toBeGreaterThan(0);
  });
});

describe('prestage serve --embedded without --faults', () => {
  it('answers the nemesis endpoints like the faults endpoint, and attaches nothing', async () => {
    const server = await LocalServer.start({ port: 0, regions: ['us-east-1'], cellsPerRegion: 1 });
    try {
      expect(server.nemesis).toBeUndefined();
      expect(server.freezer).toBeUndefined();
      const faults = await request(server.url, 'POST', '/v1/admin/faults', { step: 'copy', mode: 'error' });
      expect(faults.status).toBe(404);
      expect(faults.body.error.code).toBe('FAULTS_DISABLED');
      for (const method of ['GET', 'POST', 'DELETE']) {
        const body = method === 'POST' ? { throttleRate: 0.5 } : undefined;
        expect(await request(server.url, method, '/v1/admin/nemesis', body)).toEqual(faults);
      }
      const client = server.cluster.clientFor('us-east-1');
      const names = client.middlewareStack.identify().join(' ');
      expect(names).not.toMatch(/prestageStorageNemesis|prestageFreezeGate/);
    } finally {
      await server.close();
    }
  });
});

describe('prestage serve --nemesis-seed', () => {
  it('names the flag of a bad seed, exit code 2', async () => {
    const lines: string[] = [];
    const io = { stdout: { write: () => undefined }, stderr: { write: (s: string) => lines.push(s) } };
    for (const bad of ['x', '-1', '1.5', '4294967296', '']) {
      lines.length = 0;
      // `=`: parseArgs would take '-1' after a space for a flag.
      expect(await runCli(['serve', '--embedded', '--faults', `--nemesis-seed=${bad}`], io)).toBe(2);
      expect(lines.join('')).toMatch(/^prestage serve: .*--nemesis-seed.*expected an integer/);
      expect(lines.join('').trim().split('\n')).toHaveLength(1);
    }
    await expect(runServe(['--embedded', '--nemesis-seed', '7'], io, Promise.resolve())).rejects.toThrow(
      /--nemesis-seed.*needs --faults/,
    );
  });

  it('mentions the nemesis endpoints and the flag in the help', async () => {
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: () => undefined } };
    expect(await runCli(['serve', '--help'], io)).toBe(0);
    expect(out.join('')).toMatch(/\/v1\/admin\/nemesis/);
    expect(out.join('')).toMatch(/--nemesis-seed/);
  });
});
