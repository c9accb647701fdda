import { InputValidationError } from '../domain/errors.ts';
import { isRegionName } from '../domain/region-name.ts';
import { DEFAULT_SIMULATION_OPTIONS, type SimulationInput } from '../domain/simulation/simulation-options.ts';
import { type BacktestFiles, readBacktestInput } from '../io/backtest-input.ts';
import type { TraceProvenance } from '../report/backtest-json.ts';
import { traceRequests } from './request-sampler.ts';

/** The part of a trace `prestage up` replays live, and how fast. */
export interface LiveWindow {
  /** The backtest's warm-up: the trace before the window, fed to the profiler as history. */
  readonly warmupMs: number;
  readonly startBucket: number;
  readonly endBucket: number;
  readonly startMs: number;
  readonly endMs: number;
  /** Trace ms per wall ms. */
  readonly speed: number;
  /** Requests sent per request of the trace. */
  readonly requestScale: number;
  /** Requests of the trace in the window. */
  readonly traceRequests: number;
}

export interface LiveInput {
  readonly files: BacktestFiles;
  readonly input: SimulationInput;
  readonly provenance?: TraceProvenance;
  readonly name: string;
}

/**
 * Read the trace, partitions and topology (each checked against the others by the readers: file, line and field
 * on the first problem), then what only a live run needs: every region must be an AWS region name, since each
 * gets a listener and an embedded DynamoDB of that name.
 */
export function readLiveInput(files: BacktestFiles): LiveInput {
  const { input, provenance } = readBacktestInput(files);
  for (const region of Object.keys(input.topology.regions)) {
    if (!isRegionName(region)) {
      throw new InputValidationError(
        { file: files.topology, field: `regions.${region}` },
        `'${region}' is not an AWS region name (such as eu-west-1): each region gets a listener named after it`,
      );
    }
  }
  const name = provenance?.name ?? files.trace.split('/').slice(-2, -1)[0] ?? files.trace;
  return { files, input, ...(provenance ? { provenance } : {}), name };
}

export interface WindowChoice {
  /** @default the backtest's 7 days */
  readonly warmupMs?: number;
  /** Trace ms per wall ms; @default the window in `targetWallMs` */
  readonly speed?: number;
  /** @default 240 s */
  readonly targetWallMs?: number;
  /** Requests per wall second the load generator aims at. @default 30 */
  readonly requestsPerSecond?: number;
}

/**
 * The measured window: the backtest's (`runBacktest` measures after `warmupMs`, default 7 days, to the end of
 * the trace), so the live run and the backtest compare the same stretch. The speed replays it in `targetWallMs`;
 * the request scale makes the load generator send `requestsPerSecond` on average.
 */
export function chooseWindow(input: SimulationInput, choice: WindowChoice = {}): LiveWindow {
  const { trace } = input;
  const warmupMs = choice.warmupMs ?? DEFAULT_SIMULATION_OPTIONS.warmupMs;
  const traceMs = trace.bucketCount * trace.bucketMs;
  const startBucket = Math.ceil(warmupMs / trace.bucketMs);
  if (startBucket >= trace.bucketCount) {
    throw new InputValidationError(
      { field: '--warmup' },
      `a warm-up of ${warmupMs / 3_600_000} h leaves nothing to replay in a trace of ${traceMs / 3_600_000} h; use a shorter --warmup`,
    );
  }
  const windowMs = (trace.bucketCount - startBucket) * trace.bucketMs;
  const speed = choice.speed ?? windowMs / (choice.targetWallMs ?? 240_000);
  const requests = traceRequests(trace, startBucket, trace.bucketCount);
  if (!(requests > 0)) {
    throw new InputValidationError({ field: 'trace' }, 'the trace has no requests in the window to replay');
  }
  const wallSeconds = windowMs / speed / 1000;
  const requestScale = ((choice.requestsPerSecond ?? 30) * wallSeconds) / requests;
  return {
    warmupMs: startBucket * trace.bucketMs,
    startBucket,
    endBucket: trace.bucketCount,
    startMs: trace.startMs + startBucket * trace.bucketMs,
    endMs: trace.startMs + traceMs,
    speed,
    requestScale,
    traceRequests: requests,
  };
}
