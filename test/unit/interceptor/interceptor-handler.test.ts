import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessRecorder } from '../../../src/data-plane/access-recorder.ts';
import { DataApi } from '../../../src/interceptor/data-api.ts';
import { createInterceptorHandler } from '../../../src/interceptor/interceptor-handler.ts';
import type { EmbeddedCluster } from '../../../src/local/embedded-cluster.ts';
import { clientOn, startTestCluster } from '../../support/test-cluster.ts';

function event(
  method: string,
  rawPath: string,
  options: { body?: string; headers?: Record<string, string> } = {},
) {
  return {
    version: '2.0',
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body,
    isBase64Encoded: false,
    requestContext: { http: { method, path: rawPath, sourceIp: '10.0.0.1' }, accountId: '123456789012' },
  };
}

describe('interceptor handler (Function URL event, middy)', () => {
  let cluster: EmbeddedCluster;
  let handler: ReturnType<typeof createInterceptorHandler>;
  const logged: unknown[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster();
    handler = createInterceptorHandler({
      // The header is a testing switch here; the deployed handler ignores it (see the test below).
      api: new DataApi(clientOn(cluster), { logError: (e) => logged.push(e), honourRegionHeader: true }),
      logError: (e) => logged.push(e),
    });
  });
  afterAll(async () => {
    await cluster.close();
  });

  const call = async (...args: Parameters<typeof event>) => {
    const response = await handler(event(...args), {} as never);
    return { ...response, json: JSON.parse(response.body) };
  };

  it('serves PUT, GET and DELETE with versions', async () => {
    expect(await call('PUT', '/v1/partitions/p1/items/a', { body: '{"x": [1, 2]}' })).toMatchObject({
      statusCode: 200,
      json: { version: 1 },
    });
    expect(await call('GET', '/v1/partitions/p1/items/a')).toMatchObject({
      statusCode: 200,
      json: { value: { x: [1, 2] }, version: 1 },
      headers: { etag: '"1"' },
    });
    expect(await call('DELETE', '/v1/partitions/p1/items/a')).toMatchObject({
      statusCode: 200,
      json: { version: 2 },
    });
    expect(await call('GET', '/v1/partitions/p1/items/a')).toMatchObject({
      statusCode: 404,
      json: { error: { code: 'ITEM_NOT_FOUND' } },
    });
    expect(await call('DELETE', '/v1/partitions/p1/items/a')).toMatchObject({ statusCode: 404 });
  });

  it('accepts any JSON value and keys that need percent-encoding', async () => {
    for (const body of ['"text"', '42', 'null', 'true', '[1,{"a":null}]']) {
      expect((await call('PUT', '/v1/partitions/p2/items/user%2F7%20%C3%A9', { body })).statusCode).toBe(200);
      expect((await call('GET', '/v1/partitions/p2/items/user%2F7%20%C3%A9')).json.value).toEqual(
        JSON.parse(body),
      );
    }
  });

  it('answers 409 on an If-Match conflict', async () => {
    await call('PUT', '/v1/partitions/p3/items/k', { body: '1' });
    expect(
      await call('PUT', '/v1/partitions/p3/items/k', { body: '2', headers: { 'If-Match': '"7"' } }),
    ).toMatchObject({
      statusCode: 409,
      json: { error: { code: 'VERSION_CONFLICT' } },
    });
    expect(
      await call('PUT', '/v1/partitions/p3/items/k', { body: '2', headers: { 'If-Match': '1' } }),
    ).toMatchObject({
      statusCode: 200,
      json: { version: 2 },
    });
    expect(await call('DELETE', '/v1/partitions/p3/items/k', { headers: { 'if-match': '1' } })).toMatchObject(
      {
        statusCode: 409,
      },
    );
  });

  it('ignores x-prestage-region unless told to: a request is in the region it arrived in', async () => {
    const client = clientOn(cluster);
    const deployed = createInterceptorHandler({ api: new DataApi(client) });
    const response = await deployed(
      event('PUT', '/v1/partitions/spoofed/items/k', {
        body: '1',
        headers: { 'x-prestage-region': 'eu-west-1' },
      }),
      {} as never,
    );
    expect(response).toMatchObject({ statusCode: 200 });
    const record = await cluster.partitions.get('spoofed');
    // The client's own region (the test cluster's home region), not the header's.
    expect(cluster.regionOfCell(record!.cell)).toBe(cluster.homeRegion);
    expect(cluster.homeRegion).not.toBe('eu-west-1');
  });

  it('counts a request as the sample weight it declares only when told to trust it (a local replay)', async () => {
    const countsOf = async (recorder: AccessRecorder, partition: string) => {
      await recorder.flush();
      return (await cluster.accessStats.countsFor(partition)).reduce(
        (sum, c) => ({ count: sum.count + c.count, writes: sum.writes + (c.writes ?? 0) }),
        { count: 0, writes: 0 },
      );
    };
    const weighted = {
      body: '1',
      headers: { 'x-prestage-sample-weight': 'reads=1200.5,writes=300' },
    };
    // Deployed: the header is ignored, every request counts as one (no client can inflate its counts).
    const deployedRecorder = new AccessRecorder(cluster.accessStats, { flushIntervalMs: 60_000 });
    const deployed = createInterceptorHandler({
      api: new DataApi(clientOn(cluster, { accessRecorder: deployedRecorder })),
    });
    expect(await deployed(event('PUT', '/v1/partitions/w1/items/k', weighted), {} as never)).toMatchObject({
      statusCode: 200,
    });
    expect(await countsOf(deployedRecorder, 'w1')).toEqual({ count: 1, writes: 1 });
    // Trusted: the request counts as the reads and writes it stands for, whatever its own kind.
    const replayRecorder = new AccessRecorder(cluster.accessStats, { flushIntervalMs: 60_000 });
    const replay = createInterceptorHandler({
      api: new DataApi(clientOn(cluster, { accessRecorder: replayRecorder }), {
        honourSampleWeightHeader: true,
      }),
    });
    expect(await replay(event('PUT', '/v1/partitions/w2/items/k', weighted), {} as never)).toMatchObject({
      statusCode: 200,
    });
    expect(await replay(event('GET', '/v1/partitions/w2/items/k', weighted), {} as never)).toMatchObject({
      statusCode: 200,
    });
    expect(await countsOf(replayRecorder, 'w2')).toEqual({ count: 3001, writes: 600 });
    // A malformed weight is a 400 naming the header, and nothing is written or counted.
    for (const bad of ['reads=1', 'reads=-1,writes=0', 'reads=0,writes=0', 'reads=1,writes=2,extra=3', 'x']) {
      const response = await replay(
        event('PUT', '/v1/partitions/w3/items/k', {
          body: '1',
          headers: { 'x-prestage-sample-weight': bad },
        }),
        {} as never,
      );
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body).error).toMatchObject({ code: 'INVALID_HEADER' });
      expect(JSON.parse(response.body).error.message).toMatch(/^x-prestage-sample-weight: /);
    }
    expect(await cluster.partitions.get('w3')).toBeUndefined();
    expect(await countsOf(replayRecorder, 'w3')).toEqual({ count: 0, writes: 0 });
  });

  it('places a new partition in the region named by x-prestage-region (testing switch on)', async () => {
    await call('PUT', '/v1/partitions/eu1/items/k', {
      body: '1',
      headers: { 'x-prestage-region': 'eu-west-1' },
    });
    const record = await cluster.partitions.get('eu1');
    expect(cluster.regionOfCell(record!.cell)).toBe('eu-west-1');
  });

  it.each([
    ['a malformed path', 'GET', '/v1/partitions/p1/things/a', {}, 404, 'NOT_FOUND'],
    ['bad percent-encoding', 'GET', '/v1/partitions/p1/items/%E0%A4%A', {}, 400, 'INVALID_PATH'],
    ['a bad partition id', 'PUT', '/v1/partitions/a%23b/items/k', { body: '1' }, 400, 'INVALID_PARTITION'],
    [
      'a key over 1024 bytes',
      'PUT',
      `/v1/partitions/p1/items/${'k'.repeat(1025)}`,
      { body: '1' },
      400,
      'INVALID_KEY',
    ],
    [
      'a key with a control character',
      'PUT',
      '/v1/partitions/p1/items/a%00b',
      { body: '1' },
      400,
      'INVALID_KEY',
    ],
    ['malformed JSON', 'PUT', '/v1/partitions/p1/items/k', { body: '{"a":' }, 400, 'INVALID_JSON'],
    ['a missing body', 'PUT', '/v1/partitions/p1/items/k', {}, 400, 'INVALID_JSON'],
    [
      'a bad If-Match',
      'PUT',
      '/v1/partitions/p1/items/k',
      { body: '1', headers: { 'if-match': 'abc' } },
      400,
      'INVALID_HEADER',
    ],
    [
      'a bad region',
      'PUT',
      '/v1/partitions/p9/items/k',
      { body: '1', headers: { 'x-prestage-region': 'mars' } },
      400,
      'INVALID_REGION',
    ],
    [
      'an unknown region',
      'PUT',
      '/v1/partitions/p9/items/k',
      { body: '1', headers: { 'x-prestage-region': 'sa-east-1' } },
      400,
      'INVALID_REGION',
    ],
    [
      'a value over 400 KB',
      'PUT',
      '/v1/partitions/p1/items/k',
      { body: JSON.stringify('x'.repeat(410_000)) },
      413,
      'ITEM_TOO_LARGE',
    ],
    ['an unknown partition', 'GET', '/v1/partitions/never/items/k', {}, 404, 'PARTITION_NOT_FOUND'],
    ['another method', 'POST', '/v1/partitions/p1/items/k', { body: '1' }, 405, 'METHOD_NOT_ALLOWED'],
  ])('answers %s with %i', async (_what, method, path, options, status, code) => {
    const response = await call(method, path, options);
    expect(response.statusCode).toBe(status);
    expect(response.json).toEqual({ error: { code, message: expect.any(String) } });
  });

  it('answers 400 to an event that is not an HTTP event', async () => {
    const response = await handler({ hello: 'world' }, {} as never);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error.code).toBe('INVALID_REQUEST');
  });

  it('answers a fenced write with 503 and Retry-After', async () => {
    await call('PUT', '/v1/partitions/moving/items/k', { body: '1' });
    const record = (await cluster.partitions.get('moving'))!;
    const peer = cluster.cellIds().find((c) => c !== record.cell)!;
    await cluster.partitions.update('moving', (r) => ({
      ...r,
      routing: { phase: 'fenced', peer, readWeight: 0, fencedAtMs: Date.now() },
    }));
    const fresh = createInterceptorHandler({ api: new DataApi(clientOn(cluster)) });
    const response = await fresh(event('PUT', '/v1/partitions/moving/items/k', { body: '2' }), {} as never);
    expect(response.statusCode).toBe(503);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(response.body).error.code).toBe('PARTITION_MOVING');
  });

  it('never leaks internals: a storage failure is a 503 with a generic message, logged with its cause', async () => {
    const broken = clientOn(cluster, {
      stores: {
        forCell: () => {
          throw new Error('connect ECONNREFUSED 10.1.2.3:8000 table prestage-data-secret');
        },
      },
    });
    const api = createInterceptorHandler({ api: new DataApi(broken, { logError: (e) => logged.push(e) }) });
    const response = await api(event('GET', '/v1/partitions/p3/items/k'), {} as never);
    expect(response.statusCode).toBe(500);
    expect(response.body).toBe('{"error":{"code":"INTERNAL","message":"internal error"}}');
    expect(response.body).not.toMatch(/ECONNREFUSED|prestage-data|stack/);
    expect(String(logged.at(-1))).toMatch(/ECONNREFUSED/);
  });
});
