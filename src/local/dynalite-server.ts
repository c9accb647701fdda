import { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import dynalite from 'dynalite';

/** An in-process dynalite (the DynamoDB API over HTTP, in memory) on 127.0.0.1. */
export interface LocalDynamo {
  readonly endpoint: string;
  /**
   * For a client in the thread that started it (a dynalite on a thread of its own): the SDK's request handler
   * that hands each request to the dynalite thread as a message instead of an HTTP request over loopback (see
   * `ThreadRequestHandler`). Clients in other threads use `endpoint`.
   */
  readonly requestHandler?: ThreadRequestHandler;
  close(): Promise<void>;
}

/** What the SDK hands its request handler (the subset a DynamoDB JSON request uses). */
interface SdkHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Record<string, string | string[] | null>;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
}

interface ThreadRequest {
  readonly id: number;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  /** JSON text, or its UTF-8 bytes. */
  readonly body: string | Uint8Array;
}

interface ThreadResponse {
  readonly id: number;
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One DynamoDB JSON request of a batch (`ThreadRequestHandler.batch`): its operation and its body. */
export interface ThreadBatchRequest {
  /** `DynamoDB_20120810.UpdateItem`, … */
  readonly target: string;
  readonly body: string;
}

interface ThreadBatchResponse {
  readonly id: number;
  readonly results: readonly { readonly statusCode: number; readonly body: string }[];
}

/**
 * An SDK request handler that sends each DynamoDB request to a dynalite on another thread of this process as a
 * message and reads its answer the same way: the same dynalite request handler, the same JSON in and out, without
 * the HTTP client, the socket and the HTTP parser on both sides (on \`prestage up\`'s run thread, a third of its
 * busy time in a profile, where every data request makes one or two DynamoDB calls). An aborted call rejects
 * with an \`AbortError\` at once, as the HTTP handler does; the dynalite thread may still apply it (an unknown
 * outcome, as over HTTP).
 */
export class ThreadRequestHandler {
  private readonly worker: Worker;
  private readonly pending = new Map<number, (response: ThreadResponse | ThreadBatchResponse) => void>();
  private nextId = 0;

  constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (message: ThreadResponse | ThreadBatchResponse | number) => {
      if (typeof message === 'number') return;
      const resolve = this.pending.get(message.id);
      this.pending.delete(message.id);
      resolve?.(message);
    });
  }

  async handle(
    request: SdkHttpRequest,
    options: { abortSignal?: unknown } = {},
  ): Promise<{ response: { statusCode: number; headers: Record<string, string>; body: Uint8Array } }> {
    // The caller's AbortController's signal (the SDK passes it on as given).
    const signal = options.abortSignal as AbortSignal | undefined;
    if (signal?.aborted) throw abortError();
    const id = this.nextId++;
    const query = request.query
      ? new URLSearchParams(request.query as Record<string, string>).toString()
      : '';
    // The SDK serializes JSON into a Uint8Array subclass whose string methods warn: pass its bytes as they are.
    const body =
      request.body === undefined
        ? ''
        : typeof request.body === 'string'
          ? request.body
          : new Uint8Array(request.body.buffer, request.body.byteOffset, request.body.byteLength);
    const answer = new Promise<ThreadResponse>((resolve, reject) => {
      this.pending.set(id, resolve as (response: ThreadResponse | ThreadBatchResponse) => void);
      signal?.addEventListener(
        'abort',
        () => {
          this.pending.delete(id);
          reject(abortError());
        },
        { once: true },
      );
    });
    this.worker.postMessage({
      id,
      method: request.method,
      url: query ? `${request.path}?${query}` : request.path,
      headers: request.headers,
      body,
    } satisfies ThreadRequest);
    const response = await answer;
    return {
      response: {
        statusCode: response.statusCode,
        headers: response.headers,
        body: Buffer.from(response.body, 'utf8'),
      },
    };
  }

  /**
   * Several DynamoDB JSON requests in one message, served by the dynalite thread as if each had come alone; the
   * answers in order. For writes made in bulk by this thread (the access recorders' flushes), which otherwise
   * cost the SDK's work per request here.
   */
  async batch(requests: readonly ThreadBatchRequest[]): Promise<{ statusCode: number; body: string }[]> {
    const id = this.nextId++;
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const headers = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-date': date,
      authorization: `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/local/dynamodb/aws4_request, SignedHeaders=host, Signature=unsigned`,
    };
    const answer = new Promise<ThreadBatchResponse>((resolve) => {
      this.pending.set(id, resolve as (response: ThreadResponse | ThreadBatchResponse) => void);
    });
    this.worker.postMessage({
      id,
      batch: requests.map((r) => ({
        method: 'POST',
        url: '/',
        headers: { ...headers, 'x-amz-target': r.target },
        body: r.body,
      })),
    });
    return [...(await answer).results];
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}

function abortError(): Error {
  const error = new Error('Request aborted');
  error.name = 'AbortError';
  return error;
}

export async function startDynalite(port = 0): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    // Plain http.Server close: dynalite's own close also closes its store, and requests still being processed
    // (a zombie step, a timer) would then fail inside dynalite. The in-memory store is simply dropped.
    close: () =>
      new Promise<void>((resolve) => {
        Server.prototype.close.call(server, () => resolve());
        server.closeAllConnections?.();
      }),
  };
}

/**
 * Worker code: CommonJS, so it runs without the TypeScript loader. Besides listening, it serves requests posted
 * by its parent (ThreadRequestHandler) through dynalite's own request handler, with a request and a response
 * that carry what that handler reads and writes.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { EventEmitter } = require('node:events');
const dynalite = require(workerData.dynalitePath);
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
const handler = server.listeners('request')[0];
function serve(request, reply) {
  const req = new EventEmitter();
  req.method = request.method;
  req.url = request.url;
  req.headers = {};
  for (const [name, value] of Object.entries(request.headers)) req.headers[name.toLowerCase()] = value;
  const headers = {};
  const res = {
    statusCode: 200,
    setHeader(name, value) { headers[name.toLowerCase()] = String(value); },
    getHeader(name) { return headers[name.toLowerCase()]; },
    end(body) {
      reply({
        statusCode: res.statusCode,
        headers,
        body: body === undefined ? '' : typeof body === 'string' ? body : Buffer.from(body).toString('utf8'),
      });
    },
  };
  handler(req, res);
  const body = typeof request.body === 'string'
    ? Buffer.from(request.body, 'utf8')
    : Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  if (body.length > 0) req.emit('data', body);
  req.emit('end');
}
parentPort.on('message', (message) => {
  if (!message.batch) {
    serve(message, (response) => parentPort.postMessage({ id: message.id, ...response }));
    return;
  }
  // A batch: every request served, one answer with each one's status and body, in order.
  const results = new Array(message.batch.length);
  let left = message.batch.length;
  message.batch.forEach((request, i) => {
    serve(request, (response) => {
      results[i] = { statusCode: response.statusCode, body: response.body };
      if (--left === 0) parentPort.postMessage({ id: message.id, results });
    });
  });
  if (message.batch.length === 0) parentPort.postMessage({ id: message.id, results });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

/**
 * A dynalite on its own thread of this process, so serving requests does not compete with the client for one
 * JavaScript thread (as DynamoDB's servers do not compete with a Lambda's CPU). Used by the benchmarks.
 */
export async function startDynaliteInWorker(): Promise<LocalDynamo> {
  const dynalitePath = createRequire(import.meta.url).resolve('dynalite');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { dynalitePath } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requestHandler: new ThreadRequestHandler(worker),
    close: async () => {
      await worker.terminate();
    },
  };
}
