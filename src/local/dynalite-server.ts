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
  private readonly pending = new Map<number, (response: ThreadResponse) => void>();
  private nextId = 0;

  constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (message: ThreadResponse | number) => {
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
      this.pending.set(id, resolve);
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
parentPort.on('message', (message) => {
  const req = new EventEmitter();
  req.method = message.method;
  req.url = message.url;
  req.headers = {};
  for (const [name, value] of Object.entries(message.headers)) req.headers[name.toLowerCase()] = value;
  const headers = {};
  const res = {
    statusCode: 200,
    setHeader(name, value) { headers[name.toLowerCase()] = String(value); },
    getHeader(name) { return headers[name.toLowerCase()]; },
    end(body) {
      parentPort.postMessage({
        id: message.id,
        statusCode: res.statusCode,
        headers,
        body: body === undefined ? '' : typeof body === 'string' ? body : Buffer.from(body).toString('utf8'),
      });
    },
  };
  handler(req, res);
  const body = typeof message.body === 'string'
    ? Buffer.from(message.body, 'utf8')
    : Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
  if (body.length > 0) req.emit('data', body);
  req.emit('end');
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
