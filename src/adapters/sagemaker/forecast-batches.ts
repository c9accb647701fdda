import type { ForecastRequest } from '../../domain/forecasting/forecast-model.ts';
import type { ForecastCodec } from '../forecast-contracts/forecast-codec.ts';
import { ForecastRequestContractError } from '../forecast-contracts/forecast-codec.ts';

/** SageMaker real-time inference rejects request payloads above 6 MB. */
export const SAGEMAKER_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

export interface BatchLimits {
  /** Series per endpoint call. */
  readonly maxSeriesPerRequest: number;
  /** Serialised request body size per call, in bytes (UTF-8). */
  readonly maxPayloadBytes: number;
}

/** One endpoint call: the serialised body and the indices (into the caller's request list) it carries, in order. */
export interface EncodedBatch {
  readonly indices: readonly number[];
  readonly body: string;
  readonly bytes: number;
}

/** Requests that cannot be sent: one that alone exceeds the payload limit, or one the contract refuses. */
export interface RefusedBatch {
  readonly indices: readonly number[];
  readonly reason: 'payload-too-large' | 'request-contract';
  readonly message: string;
}

export interface BatchPlan {
  readonly batches: EncodedBatch[];
  readonly refused: RefusedBatch[];
}

/**
 * Splits requests into endpoint calls. One body carries one configuration, so requests are grouped by
 * (horizon, quantile levels, interval); each group is cut into chunks of at most `maxSeriesPerRequest`,
 * and a chunk whose body is too large, or that the contract refuses (a too-short Chronos series, a
 * duplicate id), is halved until its parts fit. A single request that still does not fit is refused, so
 * one bad series never costs its neighbours their hosted forecast. Every index lands in exactly one batch
 * or refusal. Each body is encoded here once and sent as is.
 */
export function planForecastBatches(
  requests: readonly ForecastRequest[],
  codec: ForecastCodec,
  limits: BatchLimits,
): BatchPlan {
  const groups = new Map<string, number[]>();
  requests.forEach((request, i) => {
    const key = `${request.horizon}|${request.quantileLevels.join(',')}|${request.series.intervalMs}`;
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  const plan: BatchPlan = { batches: [], refused: [] };
  for (const indices of groups.values()) {
    for (let from = 0; from < indices.length; from += limits.maxSeriesPerRequest) {
      encodeFitting(indices.slice(from, from + limits.maxSeriesPerRequest), requests, codec, limits, plan);
    }
  }
  return plan;
}

function encodeFitting(
  indices: number[],
  requests: readonly ForecastRequest[],
  codec: ForecastCodec,
  limits: BatchLimits,
  plan: BatchPlan,
): void {
  let body: string;
  try {
    body = JSON.stringify(codec.encode(indices.map((i) => requests[i])));
  } catch (error) {
    if (!(error instanceof ForecastRequestContractError)) throw error;
    if (indices.length === 1) {
      plan.refused.push({ indices, reason: 'request-contract', message: error.message });
      return;
    }
    splitInHalves(indices, requests, codec, limits, plan);
    return;
  }
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes <= limits.maxPayloadBytes) {
    plan.batches.push({ indices, body, bytes });
  } else if (indices.length === 1) {
    plan.refused.push({
      indices,
      reason: 'payload-too-large',
      message: `series '${requests[indices[0]].itemId}' alone makes a ${bytes}-byte request body; the limit is ${limits.maxPayloadBytes} (send less history)`,
    });
  } else {
    splitInHalves(indices, requests, codec, limits, plan);
  }
}

function splitInHalves(
  indices: number[],
  requests: readonly ForecastRequest[],
  codec: ForecastCodec,
  limits: BatchLimits,
  plan: BatchPlan,
): void {
  const half = Math.ceil(indices.length / 2);
  encodeFitting(indices.slice(0, half), requests, codec, limits, plan);
  encodeFitting(indices.slice(half), requests, codec, limits, plan);
}
