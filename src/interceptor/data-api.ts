import type { RoutingClient } from '../data-plane/routing-client.ts';
import {
  DataPlaneError,
  InvalidRequestError,
  ItemNotFoundError,
  ItemTooLargeError,
  PartitionFencedError,
  PartitionNotFoundError,
  VersionConflictError,
} from '../domain/data-plane/data-plane-errors.ts';
import { checkValueSize } from '../domain/data-plane/item-rules.ts';
import {
  parseSampleWeight,
  SAMPLE_WEIGHT_HEADER,
  type SampleWeight,
} from '../domain/data-plane/sample-weight.ts';
import { isRegionName } from '../domain/region-name.ts';

/** A data API request, independent of its transport (Function URL event or the local HTTP server). */
export interface DataRequest {
  readonly method: string;
  readonly rawPath: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  /** Caller identity for co-access sampling (IAM principal or source IP). */
  readonly clientId?: string;
}

export interface DataResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const ITEM_PATH = /^\/v1\/partitions\/([^/]+)\/items\/([^/]+)$/;
const JSON_HEADERS = { 'content-type': 'application/json' };

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

function respond(statusCode: number, body: string, headers: Record<string, string> = {}): DataResponse {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body };
}

function decodeSegment(segment: string, what: 'partition' | 'key'): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidRequestError('INVALID_PATH', `the ${what} in the path is not valid percent-encoding`);
  }
}

function parseIfMatch(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(value);
  if (!match)
    throw new InvalidRequestError('INVALID_HEADER', 'If-Match must be an item version, such as 3 or "3"');
  return Number(match[1]);
}

function parseRegion(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const region = value.trim();
  if (!isRegionName(region)) {
    throw new InvalidRequestError(
      'INVALID_REGION',
      'x-prestage-region must be an AWS region name, such as eu-west-1',
    );
  }
  return region;
}

export interface DataApiOptions {
  readonly logError?: (error: unknown) => void;
  /**
   * Whether `x-prestage-region` names the request's region. A testing switch for in-process tests only: a
   * deployed interceptor and `prestage serve` ignore the header, and a request's region is the region it
   * arrived in (the RoutingClient's), which a client can neither omit nor spoof. @default false
   */
  readonly honourRegionHeader?: boolean;
  /**
   * Whether `x-prestage-sample-weight` sets what a request counts as in the access recorder (see
   * `SampleWeight`). Only a local replay's listeners turn it on; a deployed interceptor ignores the header, so
   * no client can inflate its partition's counts. @default false
   */
  readonly honourSampleWeightHeader?: boolean;
}

function parseWeight(value: string | undefined): SampleWeight | undefined {
  if (value === undefined) return undefined;
  const weight = parseSampleWeight(value);
  if (typeof weight === 'string') {
    throw new InvalidRequestError('INVALID_HEADER', `${SAMPLE_WEIGHT_HEADER}: ${weight}`);
  }
  return weight;
}

/**
 * The data API contract shared by the interceptor Lambda and `prestage serve`:
 * `PUT|GET|DELETE /v1/partitions/{partition}/items/{key}`, `If-Match` for optimistic concurrency, and errors
 * as `{"error":{"code","message"}}` that never expose internals.
 */
export class DataApi {
  private readonly client: RoutingClient;
  private readonly logError: (error: unknown) => void;
  private readonly honourRegionHeader: boolean;
  private readonly honourSampleWeightHeader: boolean;

  constructor(client: RoutingClient, options: DataApiOptions = {}) {
    this.client = client;
    this.logError = options.logError ?? (() => undefined);
    this.honourRegionHeader = options.honourRegionHeader ?? false;
    this.honourSampleWeightHeader = options.honourSampleWeightHeader ?? false;
  }

  async handle(request: DataRequest): Promise<DataResponse> {
    try {
      return await this.route(request);
    } catch (error) {
      return this.mapError(error);
    }
  }

  private async route(request: DataRequest): Promise<DataResponse> {
    const match = ITEM_PATH.exec(request.rawPath);
    if (!match) {
      return respond(
        404,
        errorBody('NOT_FOUND', 'no such route; expected /v1/partitions/{partition}/items/{key}'),
      );
    }
    const partition = decodeSegment(match[1], 'partition');
    const key = decodeSegment(match[2], 'key');
    const region = this.honourRegionHeader ? parseRegion(request.headers['x-prestage-region']) : undefined;
    const ifMatch = parseIfMatch(request.headers['if-match']);
    const standsFor = this.honourSampleWeightHeader
      ? parseWeight(request.headers[SAMPLE_WEIGHT_HEADER])
      : undefined;
    const call = { region, clientId: request.clientId, ifMatch, ...(standsFor ? { standsFor } : {}) };
    switch (request.method.toUpperCase()) {
      case 'GET': {
        const read = await this.client.get(partition, key, call);
        return respond(200, `{"value":${read.json},"version":${read.version}}`, {
          etag: `"${read.version}"`,
        });
      }
      case 'PUT': {
        const json = this.parseBody(request);
        const written = await this.client.put(partition, key, json, { ...call, isJsonText: true });
        return respond(200, JSON.stringify({ version: written.version }), { etag: `"${written.version}"` });
      }
      case 'DELETE': {
        const deleted = await this.client.delete(partition, key, call);
        return respond(200, JSON.stringify({ version: deleted.version }));
      }
      default:
        return respond(405, errorBody('METHOD_NOT_ALLOWED', `method ${request.method} is not allowed here`), {
          allow: 'GET, PUT, DELETE',
        });
    }
  }

  /** The body as compact JSON text; 400 for missing or malformed JSON, 413 above the item limit. */
  private parseBody(request: DataRequest): string {
    if (request.body === undefined || request.body === '') {
      throw new InvalidRequestError('INVALID_JSON', 'PUT needs a JSON body');
    }
    const text = request.isBase64Encoded
      ? Buffer.from(request.body, 'base64').toString('utf8')
      : request.body;
    checkValueSize(Buffer.byteLength(text, 'utf8'));
    try {
      return JSON.stringify(JSON.parse(text));
    } catch {
      throw new InvalidRequestError('INVALID_JSON', 'the body is not valid JSON');
    }
  }

  private mapError(error: unknown): DataResponse {
    if (error instanceof DataPlaneError) {
      const body = errorBody(error.code, error.message);
      if (error instanceof InvalidRequestError) return respond(400, body);
      if (error instanceof ItemTooLargeError) return respond(413, body);
      if (error instanceof PartitionNotFoundError || error instanceof ItemNotFoundError)
        return respond(404, body);
      if (error instanceof VersionConflictError) return respond(409, body);
      if (error instanceof PartitionFencedError) {
        return respond(503, body, { 'retry-after': String(error.retryAfterSeconds) });
      }
      this.logError(error);
      return respond(503, body, { 'retry-after': '1' });
    }
    this.logError(error);
    return respond(500, errorBody('INTERNAL', 'internal error'));
  }
}
