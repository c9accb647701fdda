import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChronosRequestBody } from '../../../../src/adapters/forecast-contracts/chronos-codec.ts';
import { createEmbeddedForecaster } from '../../../../src/domain/forecasting/embedded-forecaster.ts';

/**
 * A test double of a Chronos JumpStart endpoint: the SageMaker runtime path, the Chronos request
 * (`inputs`, `parameters`) and the Chronos response shape (`predictions[].{mean, "<level>": […], item_id, start}`),
 * answered by the embedded model (past covariate = observed multiplier, future covariate = forecast multiplier).
 */
export interface ChronosDouble {
  readonly url: string;
  readonly requests: ChronosRequestBody[];
  close(): Promise<void>;
}

export async function startChronosDouble(
  intervalMs: number,
  options: { reorder?: boolean } = {},
): Promise<ChronosDouble> {
  const requests: ChronosRequestBody[] = [];
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const body = JSON.parse(text) as ChronosRequestBody;
    requests.push(body);
    const { prediction_length: horizon, quantile_levels: levels } = body.parameters;
    const predictions = body.inputs.map((input) => {
      const forecaster = createEmbeddedForecaster(intervalMs, { maxHorizon: Math.max(24, horizon) });
      const past = input.past_covariates?.event_multiplier;
      input.target.forEach((v, t) => {
        forecaster.observe(v, past ? past[t] : 1);
      });
      const mean = new Float64Array(horizon);
      const quantiles = levels.map(() => new Float64Array(horizon));
      const future = input.future_covariates?.event_multiplier;
      forecaster.forecastInto(
        horizon,
        levels,
        { mean, quantiles },
        future ? Float64Array.from(future) : undefined,
      );
      const firstStep = Date.parse(`${input.start}Z`) + input.target.length * intervalMs;
      return {
        mean: Array.from(mean),
        ...Object.fromEntries(levels.map((level, q) => [String(level), Array.from(quantiles[q])])),
        item_id: input.item_id,
        start: new Date(firstStep).toISOString().slice(0, 19),
      };
    });
    if (options.reorder) predictions.reverse();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ predictions }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
