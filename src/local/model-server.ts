import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InputValidationError } from '../domain/errors.ts';
import { createEmbeddedForecaster } from '../domain/forecasting/embedded-forecaster.ts';

/**
 * A local stand-in for a SageMaker real-time endpoint serving DeepAR, backed by the embedded model.
 *
 *   POST /endpoints/{EndpointName}/invocations   the SageMaker runtime path (what the SDK's InvokeEndpoint calls)
 *   POST /invocations                            the container path, same contract
 *   GET  /ping                                   200 when up (the container health check)
 *
 * Contract (SageMaker "DeepAR Inference Formats", JSON):
 *   request  {"instances":[{"start":"YYYY-MM-DD HH:MM:SS","target":[…|"NaN"],"dynamic_feat"?:[[…]]}],
 *             "configuration":{"num_samples"?:n,"output_types"?:["mean","quantiles"],"quantiles"?:["0.1","0.9"]}}
 *   response {"predictions":[{"mean":[…],"quantiles":{"0.1":[…],"0.9":[…]}}]}
 *
 * Like a trained DeepAR model, the server has one prediction length and one bucket interval (time_freq).
 * The single dynamic feature, when sent, is the known-event demand multiplier for history and horizon.
 * Errors are answered the way the SageMaker runtime does, with `x-amzn-ErrorType` and a JSON body, so the
 * SDK raises ModelError (a bad request: 400, naming the field) or ValidationError (unknown endpoint).
 */
export interface ModelServerOptions {
  /** @default 8080; 0 picks a free port */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Steps forecast per series, like DeepAR's prediction_length. @default 8 (the profiler's default horizon) */
  readonly predictionLength?: number;
  /** Bucket length of the series, like DeepAR's time_freq. @default 900000 (15 minutes, the profiler's default) */
  readonly intervalMs?: number;
  /**
   * How the "model" was trained with respect to the known-event feature, as DeepAR checks it: `required` (trained
   * with one dynamic feature: every instance must send it), `refused` (trained without: none may), `optional`
   * (accepts both, instance by instance). @default 'optional'
   */
  readonly dynamicFeat?: DynamicFeatMode;
  /** Endpoint names served; any other name answers ValidationError like a missing endpoint. @default any name */
  readonly endpointNames?: readonly string[];
  /** One line per invocation. */
  readonly log?: (line: string) => void;
  /**
   * Fault injection (tests, local runs): called for each invocation after its body is read; a reply it
   * returns is sent instead of the model's answer. It may also wait, to hold calls in flight.
   */
  readonly intercept?: (
    invocation: ModelInvocation,
  ) => ModelServerReply | undefined | Promise<ModelServerReply | undefined>;
}

export interface ModelInvocation {
  /** The `{EndpointName}` of the path; undefined on the container path `/invocations`. */
  readonly endpointName: string | undefined;
  readonly body: string;
  /** 1 for the first invocation the server received. */
  readonly number: number;
}

export interface ModelServerReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Live counters. `maxInFlight` is the most invocations being handled at once (intercept time included). */
export interface ModelServerStats {
  readonly invocations: number;
  readonly inFlight: number;
  readonly maxInFlight: number;
  readonly seriesForecast: number;
}

export interface RunningModelServer {
  /** `http://host:port`, what an SDK client takes as `endpoint`. */
  readonly url: string;
  readonly port: number;
  readonly stats: ModelServerStats;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** The largest request body SageMaker real-time inference accepts. */
const MAX_BODY_BYTES = 6 * 1024 * 1024;
const DEFAULT_QUANTILES = ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9'];
const OUTPUT_TYPES = new Set(['mean', 'quantiles', 'samples']);
const INVOCATION_PATH = /^\/endpoints\/([^/]+)\/invocations$/;

export type DynamicFeatMode = 'optional' | 'required' | 'refused';

export interface DeepArServingConfig {
  readonly predictionLength: number;
  readonly intervalMs: number;
  /** @default 'optional' */
  readonly dynamicFeat?: DynamicFeatMode;
}

interface ParsedInstance {
  readonly target: Float64Array;
  readonly feature?: Float64Array;
}

/**
 * Answers one DeepAR request body with the embedded model: each instance's history is replayed through an
 * online forecaster (the same one EmbeddedForecastModel uses, with the same options), then forecast.
 * Throws InputValidationError naming the field of a bad request.
 */
export function answerDeepArRequest(
  body: unknown,
  config: DeepArServingConfig,
): { predictions: Record<string, unknown>[] } {
  const request = expectRecord(body, '(body)');
  const { outputTypes, quantileKeys, levels } = parseConfiguration(request.configuration);
  if (!Array.isArray(request.instances) || request.instances.length === 0) {
    throw bad('instances', 'expected a non-empty array of {start, target, dynamic_feat?}');
  }
  const P = config.predictionLength;
  const instances = request.instances.map((raw, i) => parseInstance(raw, `instances[${i}]`, P));
  checkDynamicFeat(instances, config.dynamicFeat ?? 'optional');
  const predictions = instances.map(({ target, feature }) => {
    const forecaster = createEmbeddedForecaster(config.intervalMs, { maxHorizon: Math.max(24, P) });
    const n = target.length;
    for (let t = 0; t < n; t++) forecaster.observe(target[t], feature ? feature[t] : 1);
    const mean = new Float64Array(P);
    const quantiles = levels.map(() => new Float64Array(P));
    forecaster.forecastInto(P, levels, { mean, quantiles }, feature?.subarray(n));
    const prediction: Record<string, unknown> = {};
    if (outputTypes.has('mean')) prediction.mean = Array.from(mean);
    if (outputTypes.has('quantiles')) {
      prediction.quantiles = Object.fromEntries(
        quantileKeys.map((key, q) => [key, Array.from(quantiles[q])]),
      );
    }
    return prediction;
  });
  return { predictions };
}

function parseConfiguration(value: unknown): {
  outputTypes: Set<string>;
  quantileKeys: string[];
  levels: number[];
} {
  const configuration = value === undefined ? {} : expectRecord(value, 'configuration');
  const samples = configuration.num_samples;
  if (samples !== undefined && !(Number.isInteger(samples) && (samples as number) > 0)) {
    throw bad('configuration.num_samples', `expected a positive integer, found ${show(samples)}`);
  }
  let outputTypes = new Set(['mean', 'quantiles']);
  if (configuration.output_types !== undefined) {
    const types = configuration.output_types;
    if (!Array.isArray(types) || types.length === 0) {
      throw bad('configuration.output_types', 'expected a non-empty array of "mean", "quantiles"');
    }
    types.forEach((type, i) => {
      if (typeof type !== 'string' || !OUTPUT_TYPES.has(type)) {
        throw bad(`configuration.output_types[${i}]`, `expected "mean" or "quantiles", found ${show(type)}`);
      }
      if (type === 'samples') {
        throw bad(
          `configuration.output_types[${i}]`,
          'the local model server draws no sample paths; ask for "mean" and "quantiles"',
        );
      }
    });
    outputTypes = new Set(types as string[]);
  }
  const rawQuantiles = configuration.quantiles ?? DEFAULT_QUANTILES;
  if (!Array.isArray(rawQuantiles) || rawQuantiles.length === 0) {
    throw bad(
      'configuration.quantiles',
      'expected a non-empty array of quantile levels such as ["0.1","0.9"]',
    );
  }
  const quantileKeys: string[] = [];
  const levels: number[] = [];
  rawQuantiles.forEach((raw, i) => {
    const level = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof level !== 'number' || !(level > 0 && level < 1)) {
      throw bad(
        `configuration.quantiles[${i}]`,
        `expected a level in (0, 1) such as "0.9", found ${show(raw)}`,
      );
    }
    quantileKeys.push(String(raw));
    levels.push(level);
  });
  return { outputTypes, quantileKeys, levels };
}

function parseInstance(value: unknown, field: string, predictionLength: number): ParsedInstance {
  const instance = expectRecord(value, field);
  const start = instance.start;
  if (typeof start !== 'string' || Number.isNaN(parseDeepArStart(start))) {
    throw bad(`${field}.start`, `expected a timestamp 'YYYY-MM-DD HH:MM:SS', found ${show(start)}`);
  }
  const rawTarget = instance.target;
  if (!Array.isArray(rawTarget) || rawTarget.length === 0) {
    throw bad(
      `${field}.target`,
      `expected a non-empty array of numbers ("NaN" for missing), found ${show(rawTarget)}`,
    );
  }
  const target = new Float64Array(rawTarget.length);
  rawTarget.forEach((v, t) => {
    if (typeof v === 'number' && Number.isFinite(v)) target[t] = v;
    else if (v === 'NaN' || v === null) target[t] = Number.NaN;
    else throw bad(`${field}.target[${t}]`, `expected a number or "NaN", found ${show(v)}`);
  });
  if (instance.dynamic_feat === undefined) return { target };
  const features = instance.dynamic_feat;
  if (!Array.isArray(features) || features.length !== 1) {
    throw bad(
      `${field}.dynamic_feat`,
      `expected one feature (the known-event multiplier) as [[…]], found ${Array.isArray(features) ? `${features.length} features` : show(features)}`,
    );
  }
  const row = features[0];
  const expected = rawTarget.length + predictionLength;
  if (!Array.isArray(row) || row.length !== expected) {
    throw bad(
      `${field}.dynamic_feat[0]`,
      `expected ${expected} values (target length ${rawTarget.length} + prediction length ${predictionLength}), found ${show(row)}`,
    );
  }
  const feature = new Float64Array(expected);
  row.forEach((v, t) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw bad(`${field}.dynamic_feat[0][${t}]`, `expected a non-negative number, found ${show(v)}`);
    }
    feature[t] = v;
  });
  return { target, feature };
}

/**
 * What a trained DeepAR model checks of the instances' dynamic features: a model trained with the feature needs it
 * in every instance, one trained without refuses it. `optional` (a stand-in for either) accepts both.
 */
function checkDynamicFeat(instances: readonly ParsedInstance[], mode: DynamicFeatMode): void {
  instances.forEach((instance, i) => {
    const field = `instances[${i}].dynamic_feat`;
    if (instance.feature === undefined && mode === 'required')
      throw bad(
        field,
        'the model was trained with one dynamic feature (the known-event multiplier); send it',
      );
    if (instance.feature !== undefined && mode === 'refused')
      throw bad(field, 'the model was trained without dynamic features; send none');
  });
}

/** `YYYY-MM-DD[ hh:mm[:ss]]` (a `T` also accepted) as UTC milliseconds; NaN when it is not a valid date. */
function parseDeepArStart(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  if (!m) return Number.NaN;
  const [year, month, day, hour, minute, second] = m.slice(1).map((part) => Number(part ?? 0));
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(ms);
  const valid =
    d.getUTCFullYear() === year &&
    d.getUTCMonth() === month - 1 &&
    d.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60;
  return valid ? ms : Number.NaN;
}

function expectRecord(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(field, `expected a JSON object, found ${show(value)}`);
  }
  return value as Record<string, unknown>;
}

function bad(field: string, problem: string): InputValidationError {
  return new InputValidationError({ field }, problem);
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** An error answered the way the SageMaker runtime does: `x-amzn-ErrorType` names it, the body carries Message. */
export function sageMakerErrorReply(
  errorType: string,
  status: number,
  message: string,
  extra: Readonly<Record<string, unknown>> = {},
): ModelServerReply {
  return {
    status,
    headers: { 'x-amzn-ErrorType': errorType, 'content-type': 'application/json' },
    body: JSON.stringify({ Message: message, message, ...extra }),
  };
}

/** A model container's error wrapped as SageMaker wraps it (ModelError with OriginalStatusCode). */
export function modelErrorReply(
  originalStatus: number,
  originalMessage: string,
  status = 424,
  extra: Readonly<Record<string, unknown>> = {},
): ModelServerReply {
  const kind = originalStatus >= 500 ? 'server' : 'client';
  return sageMakerErrorReply(
    'ModelError',
    status,
    `Received ${kind} error (${originalStatus}) from model with message "${originalMessage}"`,
    {
      ErrorCode: `${kind.toUpperCase()}_ERROR_FROM_MODEL`,
      OriginalStatusCode: originalStatus,
      OriginalMessage: originalMessage,
      ...extra,
    },
  );
}

export async function startModelServer(options: ModelServerOptions = {}): Promise<RunningModelServer> {
  const config: DeepArServingConfig = {
    predictionLength: options.predictionLength ?? 8,
    intervalMs: options.intervalMs ?? 900_000,
    dynamicFeat: options.dynamicFeat ?? 'optional',
  };
  if (!Number.isInteger(config.predictionLength) || config.predictionLength < 1) {
    throw new RangeError(`predictionLength must be a positive integer, got ${config.predictionLength}`);
  }
  if (!Number.isInteger(config.intervalMs) || config.intervalMs < 1000) {
    throw new RangeError(
      `intervalMs must be a whole number of milliseconds >= 1000, got ${config.intervalMs}`,
    );
  }
  const endpoints = options.endpointNames ? new Set(options.endpointNames) : undefined;
  const stats = { invocations: 0, inFlight: 0, maxInFlight: 0, seriesForecast: 0 };
  const log = options.log ?? (() => undefined);

  const invoke = async (
    endpointName: string | undefined,
    body: string,
    number: number,
    contentType: string | undefined,
  ): Promise<ModelServerReply> => {
    if (endpointName !== undefined && endpoints && !endpoints.has(endpointName)) {
      return sageMakerErrorReply(
        'ValidationError',
        400,
        `Endpoint ${endpointName} of account 000000000000 not found.`,
      );
    }
    const injected = await options.intercept?.({ endpointName, body, number });
    if (injected) return injected;
    if (contentType !== undefined && !/^application\/json\b/i.test(contentType)) {
      return modelErrorReply(
        400,
        `field 'ContentType': expected application/json, found '${contentType}'`,
        400,
        {
          field: 'ContentType',
        },
      );
    }
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch (error) {
        throw bad('(body)', `not JSON: ${(error as Error).message}`);
      }
      const answer = answerDeepArRequest(parsed, config);
      stats.seriesForecast += answer.predictions.length;
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'x-amzn-invoked-production-variant': 'AllTraffic' },
        body: JSON.stringify(answer),
      };
    } catch (error) {
      if (!(error instanceof InputValidationError)) throw error;
      // SageMaker answers a container's 400 as ModelError; here with the status kept at 400 and the field named.
      return modelErrorReply(400, error.message, 400, { field: error.location.field });
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/ping') {
      if (req.method !== 'GET') return send(res, methodNotAllowed('GET'));
      return send(res, {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"status":"ok"}',
      });
    }
    const match = INVOCATION_PATH.exec(path);
    if (!match && path !== '/invocations') {
      req.resume();
      return send(
        res,
        sageMakerErrorReply(
          'UnknownOperationException',
          404,
          `no route for ${req.method} ${path}; use POST /endpoints/{EndpointName}/invocations or GET /ping`,
        ),
      );
    }
    if (req.method !== 'POST') {
      req.resume();
      return send(res, methodNotAllowed('POST'));
    }
    const endpointName = match ? decodeURIComponent(match[1]) : undefined;
    const number = ++stats.invocations;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let reply: ModelServerReply;
    try {
      const body = await readBody(req);
      if (body === undefined) {
        reply = sageMakerErrorReply(
          'ValidationError',
          413,
          `Request payload exceeds ${MAX_BODY_BYTES} bytes`,
        );
      } else {
        reply = await invoke(endpointName, body, number, req.headers['content-type']);
      }
    } finally {
      stats.inFlight--;
    }
    send(res, reply);
    log(
      `POST ${path} ${reply.status} ${(performance.now() - started).toFixed(1)} ms${
        reply.status === 200 ? '' : ` ${reply.headers?.['x-amzn-ErrorType'] ?? ''}`
      }`,
    );
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`internal error: ${(error as Error).message}`);
      if (!res.headersSent) send(res, sageMakerErrorReply('InternalFailure', 500, 'internal error'));
      else res.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function methodNotAllowed(allowed: string): ModelServerReply {
  return {
    ...sageMakerErrorReply('UnknownOperationException', 405, `method not allowed; use ${allowed}`),
    headers: { allow: allowed, 'content-type': 'application/json' },
  };
}

/** The request body as text, or undefined when it exceeds MAX_BODY_BYTES (the rest is drained). */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, reply: ModelServerReply): void {
  res.writeHead(reply.status, { 'content-length': Buffer.byteLength(reply.body), ...reply.headers });
  res.end(reply.body);
}
