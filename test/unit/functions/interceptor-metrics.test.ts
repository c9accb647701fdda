import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoCellRepository } from '../../../src/adapters/dynamodb/cell-repository.ts';
import { documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import {
  accessStatsTableDefinition,
  cellDataTableDefinition,
  cellsTableDefinition,
  ensureTable,
  partitionsTableDefinition,
} from '../../../src/adapters/dynamodb/table-definitions.ts';
import { DATA_PLANE_ENV } from '../../../src/lambda/data-plane-config.ts';
import { METRIC, METRICS_NAMESPACE } from '../../../src/lambda/metric-names.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { localDynamo } from '../../support/local-tables.ts';

type Emf = Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string }[] } };

/** The interceptor Lambda publishes latency and locality as EMF (Powertools metrics). */
describe('interceptor metrics', () => {
  let dynamo: LocalDynamo;
  const saved = { ...process.env };

  beforeAll(async () => {
    const local = await localDynamo();
    dynamo = local.dynamo;
    await ensureTable(local.client, partitionsTableDefinition('im-partitions'));
    await ensureTable(local.client, cellsTableDefinition('im-cells'));
    await ensureTable(local.client, accessStatsTableDefinition('im-stats'));
    const cells = new DynamoCellRepository(documentClient(local.client), 'im-cells');
    for (const [id, region] of [
      ['use1-a', 'us-east-1'],
      ['euw1-a', 'eu-west-1'],
    ]) {
      await ensureTable(local.client, cellDataTableDefinition(`im-data-${id}`));
      await cells.register({
        id,
        region,
        table: `im-data-${id}`,
        capacityOpsPerSec: 100,
        capacityBytes: 1e9,
        status: 'ACTIVE',
        version: 1,
      });
    }
    local.client.destroy();
    Object.assign(process.env, {
      [DATA_PLANE_ENV.partitionsTable]: 'im-partitions',
      [DATA_PLANE_ENV.cellsTable]: 'im-cells',
      [DATA_PLANE_ENV.accessStatsTable]: 'im-stats',
      [DATA_PLANE_ENV.homeRegion]: 'us-east-1',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
  });
  afterAll(async () => {
    process.env = saved;
    await dynamo.close();
  });

  const request = (method: string, callerRegion: string, body?: string) => ({
    version: '2.0',
    rawPath: '/v1/partitions/eu-users/items/k1',
    headers: { 'x-prestage-region': callerRegion },
    body,
    isBase64Encoded: false,
    requestContext: { http: { method, sourceIp: '1.2.3.4' } },
  });

  it('counts a request served in the caller’s region as local and one served elsewhere as remote', async () => {
    const { handler } = await import('../../../functions/interceptor/handler.ts');
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      // The first write from Europe places the partition in the European cell.
      expect(await handler(request('PUT', 'eu-west-1', '{"a":1}'), {})).toMatchObject({ statusCode: 200 });
      expect(await handler(request('GET', 'us-east-1'), {})).toMatchObject({ statusCode: 200 });
      expect(await handler(request('GET', 'eu-west-1'), {})).toMatchObject({ statusCode: 200 });
    } finally {
      spy.mockRestore();
    }
    const emf = written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Emf);
    expect(emf).toHaveLength(3);
    expect(emf.every((e) => e._aws.CloudWatchMetrics[0].Namespace === METRICS_NAMESPACE)).toBe(true);
    expect(emf.map((e) => [e[METRIC.interceptorLocalRequests], e[METRIC.interceptorRemoteRequests]])).toEqual(
      [
        [1, 0],
        [0, 1],
        [1, 0],
      ],
    );
    for (const e of emf) {
      expect(e[METRIC.interceptorLatency]).toBeGreaterThan(0);
      expect(e.service).toBe('prestage');
    }
  });
});
