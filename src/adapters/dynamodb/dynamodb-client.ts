import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoClientOptions {
  readonly region: string;
  /** A local endpoint (dynalite); AWS endpoints are resolved by the SDK when absent. */
  readonly endpoint?: string;
  /** Sockets kept open per client; copies and catch-ups run many requests at once. @default 64 */
  readonly maxSockets?: number;
  /**
   * Instead of HTTP with keep-alive sockets: a request handler of the caller's (a local dynalite on another
   * thread of the same process takes requests as messages: `src/local/dynalite-server.ts`).
   */
  readonly requestHandler?: DynamoDBClientConfig['requestHandler'];
}

/**
 * The SDK's logger middleware calls `logger?.info?.({ input: filter(input), output: filter(output) })` after
 * every request, and its sensitive-data filter copies the whole request and response (every item of a Query or
 * BatchWriteItem) even though the default no-op logger drops the result. A no-op logger without `info` skips that
 * walk (5–7% of a copy's CPU time in the profile). The SDK calls `info` only as `logger?.info?.(...)`.
 */
const QUIET_LOGGER = {
  debug: () => undefined,
  trace: () => undefined,
  warn: () => undefined,
  error: () => undefined,
} as unknown as NonNullable<DynamoDBClientConfig['logger']>;

type AuthScheme = NonNullable<DynamoDBClientConfig['httpAuthSchemes']>[number];

/**
 * The signer of a local endpoint. dynalite checks that a request carries a SigV4-shaped Authorization header and a
 * date, never the signature itself, and computing one (canonical request, HMAC chain) is about a tenth of the busy
 * CPU of `prestage up`'s request path in a profile. So a local request gets a well-formed header with no
 * signature; a request to AWS is always signed by the SDK's SigV4 signer.
 */
const LOCAL_SIGNER = {
  sign: async (request: { headers: Record<string, string> }) => {
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    request.headers['x-amz-date'] = date;
    request.headers.authorization = `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/local/dynamodb/aws4_request, SignedHeaders=host, Signature=unsigned`;
    return request;
  },
};

/**
 * A DynamoDB client with keep-alive sockets. Against a local endpoint it uses fixed dummy credentials, so a
 * laptop without an AWS profile works, and the local signer; against AWS the default credential chain applies.
 */
export function createDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  const maxSockets = options.maxSockets ?? 64;
  return new DynamoDBClient({
    region: options.region,
    logger: QUIET_LOGGER,
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          httpAuthSchemes: [
            {
              schemeId: 'aws.auth#sigv4',
              identityProvider: (config) => config.getIdentityProvider('aws.auth#sigv4'),
              signer: LOCAL_SIGNER as unknown as AuthScheme['signer'],
            } satisfies AuthScheme,
          ],
        }
      : {}),
    requestHandler: options.requestHandler ?? {
      httpAgent: new Agent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    },
  });
}

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
