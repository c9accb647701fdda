import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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
