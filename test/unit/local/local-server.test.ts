import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrate } from '../../../src/cli/commands/migrate.ts';
import { LocalServer } from '../../../src/local/local-server.ts';
import { captureCliIo } from '../../support/cli-capture.ts';
import { testAsl } from '../../support/migration-harness.ts';
import { TEST_LEASE } from '../../support/test-cluster.ts';

/**
 * TEST_LEASE's short request deadline (300 ms) is for in-process clients; a request here crosses HTTP, a cold
 * dynalite and, for the first write, a partition's creation in the home region. On a loaded 2-core machine that
 * took longer than 300 ms and the write was (correctly) answered 503 WRITE_OUTCOME_UNKNOWN. The deadline here
 * is the one a slow machine needs; leases stay short so the migrations stay quick.
 */
const SERVE_TEST_LEASE = { ...TEST_LEASE, maxRequestMs: 3_000 };

describe('prestage serve --embedded (LocalServer)', () => {
  let server: LocalServer;
  const req = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    region = 'us-east-1',
  ) => {
    const response = await fetch(`${server.urls.get(region)}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return {
      status: response.status,
      headers: response.headers,
      // biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON bodies
      body: (await response.json()) as Record<string, any>,
    };
  };

  beforeAll(async () => {
    testAsl();
    server = await LocalServer.start({
      port: 0,
      regions: ['us-east-1', 'eu-west-1'],
      cellsPerRegion: 2,
      faults: true,
      lease: SERVE_TEST_LEASE,
      waitOverrideMs: 0,
      shardsPerPartition: 4,
      tuning: { stepBudgetMs: 250, queryPageItems: 20, copyItemsPerInvocation: 40 },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves the data API, health and the cells', async () => {
    expect(await req('GET', '/healthz')).toMatchObject({
      status: 200,
      body: { status: 'ok', region: 'us-east-1', cells: 4 },
    });
    // One listener per region; each answers health and the admin API with its own region.
    expect(await req('GET', '/healthz', undefined, {}, 'eu-west-1')).toMatchObject({
      status: 200,
      body: { status: 'ok', region: 'eu-west-1', cells: 4 },
    });
    const cells = await req('GET', '/v1/admin/cells');
    expect(cells.body.cells.map((c: { id: string }) => c.id)).toEqual([
      'eu-west-1-c1',
      'eu-west-1-c2',
      'us-east-1-c1',
      'us-east-1-c2',
    ]);
    expect(
      await req(
        'PUT',
        '/v1/partitions/shop/items/cart%2F1',
        { items: 2 },
        // Ignored: the request arrives on the eu-west-1 listener, and that is its region.
        { 'x-prestage-region': 'us-east-1' },
        'eu-west-1',
      ),
    ).toMatchObject({ status: 200, body: { version: 1 } });
    expect(await req('GET', '/v1/partitions/shop/items/cart%2F1')).toMatchObject({
      status: 200,
      body: { value: { items: 2 }, version: 1 },
    });
    const partition = await req('GET', '/v1/admin/partitions/shop');
    expect(partition.body).toMatchObject({
      cell: expect.stringMatching(/^eu-west-1-c/),
      status: 'ACTIVE',
      version: 1,
    });
    expect(partition.body.routing).toMatchObject({ phase: 'stable' });
    expect(await req('GET', '/v1/admin/partitions/none')).toMatchObject({
      status: 404,
      body: { error: { code: 'PARTITION_NOT_FOUND' } },
    });
    expect(await req('PUT', '/v1/partitions/shop/items/x', '{bad')).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_JSON' } },
    });
  });

  it('runs a migration through the admin API and reports its stage and status', async () => {
    for (let i = 0; i < 30; i++) await req('PUT', `/v1/partitions/orders/items/o${i}`, { i });
    const from = (await req('GET', '/v1/admin/partitions/orders')).body.cell as string;
    const to = from === 'us-east-1-c1' ? 'eu-west-1-c2' : 'us-east-1-c1';
    const started = await req('POST', '/v1/admin/migrations', {
      partition: 'orders',
      targetCell: to,
      canarySteps: [1],
    });
    expect(started.status).toBe(202);
    const id = started.body.migrationId as string;
    let state = await req('GET', `/v1/admin/migrations/${id}`);
    expect(['RUNNING', 'SUCCEEDED']).toContain(state.body.status);
    while (state.body.status === 'RUNNING') {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = await req('GET', `/v1/admin/migrations/${id}`);
    }
    expect(state.body).toMatchObject({
      status: 'SUCCEEDED',
      stage: 'commit',
      partition: 'orders',
      targetCell: to,
    });
    expect((await req('GET', '/v1/admin/partitions/orders')).body).toMatchObject({
      cell: to,
      version: expect.any(Number),
    });
    expect((await req('GET', '/v1/partitions/orders/items/o7')).body).toEqual({
      value: { i: 7 },
      version: 1,
    });
  });

  it('validates migration requests and fault requests', async () => {
    expect(
      await req('POST', '/v1/admin/migrations', { partition: 'missing', targetCell: 'us-east-1-c1' }),
    ).toMatchObject({
      status: 404,
    });
    expect(
      await req('POST', '/v1/admin/migrations', { partition: 'orders', targetCell: 'nowhere' }),
    ).toMatchObject({
      status: 400,
      body: { error: { code: 'UNKNOWN_CELL' } },
    });
    expect(await req('POST', '/v1/admin/migrations', { partition: 'orders' })).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_MIGRATION' } },
    });
    expect(
      await req('POST', '/v1/admin/faults', { step: 'teleport', mode: 'error', times: 1 }),
    ).toMatchObject({
      status: 400,
      body: {
        error: { code: 'INVALID_STEP', message: expect.stringContaining('acquire, createReplica, copy') },
      },
    });
    expect(await req('GET', '/v1/admin/migrations/nope')).toMatchObject({ status: 404 });
  });

  it('rolls back on an injected fault, and prestage migrate follows it to the end', async () => {
    await req('PUT', '/v1/partitions/fragile/items/a', 1);
    const from = (await req('GET', '/v1/admin/partitions/fragile')).body.cell as string;
    const to = from === 'us-east-1-c2' ? 'eu-west-1-c1' : 'us-east-1-c2';
    expect(await req('POST', '/v1/admin/faults', { step: 'verify', mode: 'error', times: 1 })).toMatchObject({
      status: 201,
    });
    const cli = captureCliIo();
    const code = await runMigrate(
      ['--partition', 'fragile', '--to', to, '--server', server.url, '--canary', '1'],
      cli.io,
      20,
    );
    expect(code).toBe(1);
    expect(cli.out()).toMatch(/migration mig-.*: fragile → /);
    expect(cli.out()).toMatch(/\] acquire\n/);
    expect(cli.out()).toMatch(
      /ROLLED_BACK after .*s \(failed at verify\): InjectedFaultError: injected failure in verify/,
    );
    expect((await req('GET', '/v1/admin/partitions/fragile')).body).toMatchObject({
      cell: from,
      lastMigration: { outcome: 'ROLLED_BACK', stage: 'verify' },
    });

    const ok = captureCliIo();
    expect(
      await runMigrate(
        ['--partition', 'fragile', '--to', to, '--server', server.url, '--canary', '0.5,1'],
        ok.io,
        20,
      ),
    ).toBe(0);
    expect(ok.out()).toMatch(/SUCCEEDED in/);
    // Every stage is shown, in order, even those that end between two polls.
    const shown = [...ok.out().matchAll(/\] (\w+)/g)].map((m) => m[1]);
    const firstOf = (stage: string) => shown.indexOf(stage);
    for (const stage of ['acquire', 'copy', 'verify', 'shiftReads', 'cutover', 'removeSource', 'commit']) {
      expect(firstOf(stage), `${stage} in:\n${ok.out()}`).toBeGreaterThanOrEqual(0);
    }
    expect(firstOf('copy')).toBeLessThan(firstOf('verify'));
    expect(firstOf('cutover')).toBeLessThan(firstOf('commit'));

    // A migration to the cell the partition is already in is refused before any workflow starts.
    const before = (await req('GET', '/v1/admin/migrations')).body.migrations.length as number;
    const same = captureCliIo();
    expect(
      await runMigrate(['--partition', 'fragile', '--to', to, '--server', server.url], same.io, 20),
    ).toBe(2);
    expect(same.err()).toMatch(/ALREADY_IN_TARGET: partition 'fragile' is already in cell/);
    expect((await req('GET', '/v1/admin/migrations')).body.migrations).toHaveLength(before);
  });

  it('prestage migrate names an unreachable server and bad options', async () => {
    const cli = captureCliIo();
    await expect(
      runMigrate(['--partition', 'p', '--to', 'c', '--server', 'http://127.0.0.1:9'], cli.io),
    ).rejects.toThrow(/cannot reach the prestage server at http:\/\/127.0.0.1:9/);
    await expect(runMigrate(['--partition', 'p', '--to', 'c', '--canary', '2'], cli.io)).rejects.toThrow(
      /--canary/,
    );
    await expect(runMigrate(['--to', 'c'], cli.io)).rejects.toThrow(/--partition/);
  });
});
