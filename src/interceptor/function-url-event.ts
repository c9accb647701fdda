import { z } from 'zod';
import type { DataRequest } from './data-api.ts';

/**
 * The parts of a Lambda Function URL / API Gateway HTTP API (payload 2.0) event the interceptor reads.
 * Validated at the edge of the handler; anything else in the event is ignored.
 */
export const functionUrlEventSchema = z.object({
  version: z.literal('2.0').optional(),
  rawPath: z.string().startsWith('/'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().default(false),
  requestContext: z.object({
    http: z.object({ method: z.string().min(1), sourceIp: z.string().optional() }),
    authorizer: z
      .object({ iam: z.object({ userArn: z.string().optional() }).partial().optional() })
      .partial()
      .optional(),
  }),
});

export type FunctionUrlEvent = z.infer<typeof functionUrlEventSchema>;

export function toDataRequest(event: FunctionUrlEvent): DataRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers)) headers[name.toLowerCase()] = value;
  return {
    method: event.requestContext.http.method,
    rawPath: event.rawPath,
    headers,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded,
    clientId:
      headers['x-prestage-client'] ??
      event.requestContext.authorizer?.iam?.userArn ??
      event.requestContext.http.sourceIp,
  };
}
