import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATION_TASKS } from '../../../src/domain/migration/migration-tasks.ts';
import { DATA_PLANE_ENV, readDataPlaneConfig } from '../../../src/lambda/data-plane-config.ts';

import { type DataPlaneLambdaEnv, startDataPlaneLambdaEnv } from '../../support/data-plane-lambda-env.ts';

/** The Lambda entry points, loaded as Lambda loads them (module scope reads the environment), on dynalite. */
describe('Lambda entry points', () => {
  let env: DataPlaneLambdaEnv;

  beforeAll(async () => {
    env = await startDataPlaneLambdaEnv('lambda', [
      ['use1-a', 'us-east-1'],
      ['use1-b', 'us-east-1'],
    ]);
  });
  afterAll(async () => env?.close());

  it('reject a bad environment with the variable name', () => {
    expect(() => readDataPlaneConfig({ AWS_REGION: 'us-east-1' })).toThrow(/PRESTAGE_PARTITIONS_TABLE/);
    expect(() => readDataPlaneConfig({ ...process.env, [DATA_PLANE_ENV.leaseTtlMs]: 'soon' })).toThrow(
      /PRESTAGE_LEASE_TTL_MS/,
    );
  });

  it('the interceptor serves a Function URL event', async () => {
    const { handler } = await import('../../../functions/interceptor/handler.ts');
    const event = (method: string, body?: string) => ({
      version: '2.0',
      rawPath: '/v1/partitions/lp/items/k1',
      headers: { 'x-prestage-region': 'us-east-1' },
      body,
      isBase64Encoded: false,
      requestContext: { http: { method, sourceIp: '1.2.3.4' } },
    });
    expect(await handler(event('PUT', '{"a":1}'), {})).toMatchObject({
      statusCode: 200,
      body: '{"version":1}',
    });
    expect(await handler(event('GET'), {})).toMatchObject({
      statusCode: 200,
      body: '{"value":{"a":1},"version":1}',
    });
  });

  it('has one step handler file per Task state, each validating its input', async () => {
    for (const { file } of Object.values(MIGRATION_TASKS)) {
      expect(existsSync(new URL(`../../../functions/migrate-partition/${file}.ts`, import.meta.url))).toBe(
        true,
      );
    }
    const { handler } = await import('../../../functions/migrate-partition/acquire.ts');
    await expect(handler({ partition: 'lp' }, {})).rejects.toMatchObject({ name: 'InvalidStepInputError' });
    const state = {
      input: { partition: 'lp', targetCell: 'use1-b', canarySteps: [1], waitSeconds: 0, retainSource: false },
      migrationId: 'exec-1',
      startedAt: new Date().toISOString(),
    };
    const result = (await handler(state, {})) as { sourceCell: string; targetCell: string };
    expect(result.targetCell).toBe('use1-b');
    expect(result.sourceCell).toBe('use1-a');
    await expect(handler({ ...state, migrationId: 'exec-2' }, {})).rejects.toMatchObject({
      name: 'MigrationInProgressError',
    });
  });
});
