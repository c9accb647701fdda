import middy from '@middy/core';
import type { AccessRecorder } from '../data-plane/access-recorder.ts';
import type { DataApi, DataResponse } from './data-api.ts';
import { type FunctionUrlEvent, functionUrlEventSchema, toDataRequest } from './function-url-event.ts';

export interface InterceptorHandlerDeps {
  readonly api: DataApi;
  readonly recorder?: AccessRecorder;
  readonly logError?: (error: unknown) => void;
}

const BAD_EVENT: DataResponse = {
  statusCode: 400,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ error: { code: 'INVALID_REQUEST', message: 'malformed request' } }),
};

/**
 * The interceptor Lambda handler (Function URL / HTTP API v2) on middy: validate the event, serve it through the
 * data API, and start a flush of the access counts when their interval is due (not awaited). Validation and unexpected errors become JSON
 * error bodies; nothing internal reaches the caller.
 */
export function createInterceptorHandler(deps: InterceptorHandlerDeps) {
  return middy<unknown, DataResponse>()
    .use({
      before: (request) => {
        const parsed = functionUrlEventSchema.safeParse(request.event);
        if (!parsed.success) return BAD_EVENT;
        request.event = parsed.data;
        return undefined;
      },
      after: () => {
        // Off the request path: the flush is started, never awaited. If the sandbox freezes first, the flush
        // resumes when it thaws (the next invocation); if Lambda reclaims the environment instead, the counts of
        // at most one flush interval are lost, which a 15-minute demand bucket barely notices. A failed flush
        // keeps its counts for the next one (AccessRecorder).
        void deps.recorder?.flushIfDue().catch((error) => deps.logError?.(error));
      },
      onError: (request) => {
        deps.logError?.(request.error);
        request.response = {
          statusCode: 500,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error' } }),
        };
      },
    })
    .handler(async (event) => deps.api.handle(toDataRequest(event as FunctionUrlEvent)));
}
