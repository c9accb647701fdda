import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { createForecastModel } from '../../../../src/adapters/sagemaker/forecast-model-factory.ts';
import { SageMakerForecastModel } from '../../../../src/adapters/sagemaker/sagemaker-forecast-model.ts';
import { createSageMakerRuntimeClient } from '../../../../src/adapters/sagemaker/sagemaker-runtime-client.ts';
import { EmbeddedForecastModel } from '../../../../src/domain/forecasting/embedded-forecaster.ts';

describe('createForecastModel', () => {
  const client = new SageMakerRuntimeClient({ region: 'us-east-1' });

  it('builds the embedded model or the SageMaker adapter from the deployment configuration', () => {
    expect(createForecastModel({ forecastModel: 'embedded', forecastContract: 'deepar' })).toBeInstanceOf(
      EmbeddedForecastModel,
    );
    const hosted = createForecastModel(
      { forecastModel: 'sagemaker', sagemakerEndpoint: 'demand-chronos', forecastContract: 'chronos' },
      { client },
    );
    expect(hosted).toBeInstanceOf(SageMakerForecastModel);
    expect(hosted.name).toBe('sagemaker:chronos(demand-chronos)');
    expect(() => createForecastModel({ forecastModel: 'sagemaker', forecastContract: 'deepar' })).toThrow(
      /endpoint name/,
    );
  });

  it('sends known events to DeepAR as dynamic_feat only when the deployment says its model was trained with it', async () => {
    const bodies: { instances: { dynamic_feat?: number[][] }[] }[] = [];
    const mocked = mockClient(client);
    mocked.on(InvokeEndpointCommand).callsFake((input: InvokeEndpointCommand['input']) => {
      const body = JSON.parse(String(input.Body));
      bodies.push(body);
      const predictions = body.instances.map(() => ({
        mean: [1, 1],
        quantiles: { '0.5': [1, 1] },
      }));
      return { Body: new TextEncoder().encode(JSON.stringify({ predictions })) } as never;
    });
    const request = {
      itemId: 'p#eu-west-1',
      series: { startMs: 0, intervalMs: 900_000, values: new Float64Array([1, 2, 3]) },
      horizon: 2,
      quantileLevels: [0.5],
      events: [
        { name: 'launch', region: 'eu-west-1', startMs: 3 * 900_000, endMs: 4 * 900_000, multiplier: 4 },
      ],
    };
    for (const forecastEventFeature of [true, false]) {
      const model = createForecastModel(
        {
          forecastModel: 'sagemaker',
          sagemakerEndpoint: 'demand-deepar',
          forecastContract: 'deepar',
          forecastEventFeature,
        },
        { client },
      );
      await model.forecast([request]);
    }
    mocked.restore();
    expect(bodies.map((b) => b.instances[0].dynamic_feat)).toEqual([[[1, 1, 1, 4, 1]], undefined]);
  });

  it('builds SDK clients that leave retries to the adapter', async () => {
    const built = createSageMakerRuntimeClient({ region: 'eu-west-1' });
    expect(await built.config.maxAttempts()).toBe(1);
    expect(await built.config.region()).toBe('eu-west-1');
  });
});
