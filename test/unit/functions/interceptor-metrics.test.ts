import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDynamoClient, documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../../../src/adapters/dynamodb/partition-repository.ts';
import { newPartitionRecord } from '../../../src/domain/data-plane/partition-record.ts';
import { METRIC, METRICS_NAMESPACE } from '../../../src/support/metrics.ts';

type Emf = Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string }[] } };

import { type DataPlaneLambdaEnv, startDataPlaneLambdaEnv } from '../../support/data-plane-lambda-env.ts';

/** The interceptor Lambda publishes latency and locality as EMF (Powertools metrics). */
describe('interceptor metrics', () => {
  let env: DataPlaneLambdaEnv;

  beforeAll(async () => {
    env = await startDataPlaneLambdaEnv('im', [
      ['use1-a', 'us-east-1'],
      ['euw1-a', 'eu-west-1'],
    ]);
  });
  afterAll(async () => env?.close());

  const request = (method: string, partition: string, body?: string) => ({
    version: '2.0',
    rawPath: `/v1/partitions/${partition}/items/k1`,
    // Ignored by the deployed handler: the request's region is the Lambda's (AWS_REGION, us-east-1 here).
    headers: { 'x-prestage-region': 'eu-west-1' },
    body,
    isBase64Encoded: false,
    requestContext: { http: { method, sourceIp: '1.2.3.4' } },
  });

  it('counts a request served in its region of arrival as local and one served elsewhere as remote', async () => {
    // A partition already held in eu-west-1.
    const partitions = new DynamoPartitionRepository(
      documentClient(createDynamoClient({ region: 'us-east-1' })),
      'im-partitions',
    );
    await partitions.createIfAbsent(newPartitionRecord('eu-users', 'euw1-a', 1, Date.now()));
    const { handler } = await import('../../../functions/interceptor/handler.ts');
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      // The first write places a new partition in the region it arrived in, whatever the header says.
      expect(await handler(request('PUT', 'us-users', '{"a":1}'), {})).toMatchObject({ statusCode: 200 });
      expect(await handler(request('PUT', 'eu-users', '{"b":1}'), {})).toMatchObject({ statusCode: 200 });
      expect(await handler(request('GET', 'us-users'), {})).toMatchObject({ statusCode: 200 });
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
    expect((await partitions.get('us-users'))!.cell).toBe('use1-a');
    for (const e of emf) {
      expect(e[METRIC.interceptorLatency]).toBeGreaterThan(0);
      expect(e.service).toBe('prestage');
    }
  });
});
