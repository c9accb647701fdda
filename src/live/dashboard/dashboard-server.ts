/**
 * The live dashboard's HTTP server, run by `prestage up` in its own process: `GET /` is the page, `GET
 * /api/snapshot` the run's current LiveSnapshot as JSON; any other path is a 404 and any other method a 405.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PortInUseError } from '../../local/regional-listener.ts';
import type { LiveSnapshot } from '../live-snapshot.ts';
import { dashboardClientScript } from './client-script.ts';
import { DASHBOARD_CONTENT_SECURITY_POLICY, renderDashboardPage } from './dashboard-page.ts';

export interface DashboardOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Called on every `/api/snapshot` request: the run's state now. */
  readonly snapshot: () => LiveSnapshot;
  /** Where a failing request is reported. @default nothing is written */
  readonly log?: (line: string) => void;
}

export interface Dashboard {
  /** The page's address, e.g. `http://127.0.0.1:8090/`. */
  readonly url: string;
  /** Stops listening and closes open (keep-alive) connections, so the process can exit. */
  close(): Promise<void>;
}

const ALLOWED_METHODS = 'GET, HEAD';

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const page = renderDashboardPage(await dashboardClientScript());
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/': (req, res) =>
      send(req, res, 200, 'text/html; charset=utf-8', page, {
        'content-security-policy': DASHBOARD_CONTENT_SECURITY_POLICY,
      }),
    '/api/snapshot': (req, res) =>
      send(req, res, 200, 'application/json; charset=utf-8', JSON.stringify(options.snapshot())),
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    const route = routes[path];
    try {
      if (!route) send(req, res, 404, 'text/plain; charset=utf-8', `not found: ${path}\n`);
      else if (req.method !== 'GET' && req.method !== 'HEAD')
        send(req, res, 405, 'text/plain; charset=utf-8', `method not allowed: ${req.method}\n`, {
          allow: ALLOWED_METHODS,
        });
      else route(req, res);
    } catch (error) {
      options.log?.(`dashboard: ${req.method} ${path} failed: ${(error as Error).stack ?? error}`);
      if (!res.headersSent) send(req, res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new PortInUseError(options.port, 'dashboard')
          : new Error(`cannot listen on ${host}:${options.port} for the dashboard: ${error.message}`),
      );
    });
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
