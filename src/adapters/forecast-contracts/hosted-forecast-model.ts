import type { Forecast, ForecastModel, ForecastRequest } from '../../domain/forecasting/forecast-model.ts';
import { type ForecastCodec, MalformedForecastResponseError } from './forecast-codec.ts';

/** Sends one serialised request body to the endpoint and resolves with its response body (e.g. SageMaker InvokeEndpoint). */
export type InvokeEndpoint = (body: string) => Promise<string>;

export interface HostedForecastModelProps {
  /** The endpoint's contract (deepArCodec(), chronosCodec()). */
  readonly codec: ForecastCodec;
  /** Supplied by the SageMaker adapter; tests pass a fake. */
  readonly invoke: InvokeEndpoint;
  /** Series per endpoint call; requests are also split by horizon and quantile levels. @default 100 */
  readonly maxItemsPerRequest?: number;
}

/**
 * A hosted model (DeepAR, Chronos) behind the same ForecastModel port as the embedded one. Requests are
 * grouped by (horizon, quantile levels), since one body carries one configuration, and sent in batches,
 * one call at a time; forecasts come back in request order.
 */
export class HostedForecastModel implements ForecastModel {
  readonly name: string;
  private readonly codec: ForecastCodec;
  private readonly invoke: InvokeEndpoint;
  private readonly batchSize: number;

  constructor(props: HostedForecastModelProps) {
    const batchSize = props.maxItemsPerRequest ?? 100;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`maxItemsPerRequest must be a positive integer, got ${batchSize}`);
    }
    this.name = props.codec.name;
    this.codec = props.codec;
    this.invoke = props.invoke;
    this.batchSize = batchSize;
  }

  async forecast(requests: readonly ForecastRequest[]): Promise<Forecast[]> {
    const groups = new Map<string, number[]>();
    requests.forEach((request, i) => {
      const key = `${request.horizon}|${request.quantileLevels.join(',')}`;
      const group = groups.get(key);
      if (group) group.push(i);
      else groups.set(key, [i]);
    });
    const out: Forecast[] = new Array(requests.length);
    for (const indices of groups.values()) {
      for (let b = 0; b < indices.length; b += this.batchSize) {
        const batchIdx = indices.slice(b, b + this.batchSize);
        const batch = batchIdx.map((i) => requests[i]);
        const responseText = await this.invoke(JSON.stringify(this.codec.encode(batch)));
        let body: unknown;
        try {
          body = JSON.parse(responseText);
        } catch (error) {
          throw new MalformedForecastResponseError('(body)', `not JSON: ${(error as Error).message}`);
        }
        const forecasts = this.codec.decode(body, batch);
        batchIdx.forEach((requestIndex, k) => {
          out[requestIndex] = forecasts[k];
        });
      }
    }
    return out;
  }
}
