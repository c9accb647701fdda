import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
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

  it('builds SDK clients that leave retries to the adapter', async () => {
    const built = createSageMakerRuntimeClient({ region: 'eu-west-1' });
    expect(await built.config.maxAttempts()).toBe(1);
    expect(await built.config.region()).toBe('eu-west-1');
  });
});
