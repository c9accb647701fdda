import { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

/** An in-process dynalite (the DynamoDB API over HTTP, in memory) on 127.0.0.1. */
export interface LocalDynamo {
  readonly endpoint: string;
  close(): Promise<void>;
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
