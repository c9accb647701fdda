import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PANEL_IDS } from '../../../src/live/dashboard/dashboard-panels.ts';
import { type Dashboard, startDashboard } from '../../../src/live/dashboard/dashboard-server.ts';
import { demoSnapshot } from '../../../src/live/dashboard/demo-snapshots.ts';
import type { LiveSnapshot } from '../../../src/live/live-snapshot.ts';
import { PortInUseError } from '../../../src/local/regional-listener.ts';

const started: Dashboard[] = [];

async function start(snapshot: () => LiveSnapshot, log?: (line: string) => void): Promise<Dashboard> {
  const dashboard = await startDashboard({ port: 0, snapshot, log });
  started.push(dashboard);
  return dashboard;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((d) => d.close()));
});

describe('startDashboard', () => {
  it('serves the page at / with its script and style inline and a policy that allows nothing else', async () => {
    const dashboard = await start(() => demoSnapshot(0));
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const response = await fetch(dashboard.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const page = await response.text();
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toMatch(/<style>[^<]+<\/style>/);
    expect(page).toMatch(/<script>[\s\S]+<\/script>/);
    expect(page).not.toMatch(/\b(src|href)=/);
    for (const id of PANEL_IDS) expect(page).toContain(`id="${id}"`);
  });

  it('answers /api/snapshot with the snapshot as it is at each request', async () => {
    let step = 5;
    const dashboard = await start(() => demoSnapshot(step));
    const first = await fetch(`${dashboard.url}api/snapshot`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(await first.json()).toEqual(demoSnapshot(5));
    step = 9;
    const second = await fetch(`${dashboard.url}api/snapshot?poll=2`);
    expect(await second.json()).toEqual(demoSnapshot(9));
  });

  it('answers HEAD like GET with no body', async () => {
    const dashboard = await start(() => demoSnapshot(0));
    const response = await fetch(dashboard.url, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(1000);
    expect(await response.text()).toBe('');
  });

  it('answers 404 for any other path and 405 (with Allow) for any other method', async () => {
    const dashboard = await start(() => demoSnapshot(0));
    for (const path of ['favicon.ico', 'api', 'api/snapshot/', 'index.html']) {
      const response = await fetch(`${dashboard.url}${path}`);
      expect(response.status, path).toBe(404);
    }
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const response = await fetch(`${dashboard.url}api/snapshot`, { method });
      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
    }
    expect((await fetch(`${dashboard.url}elsewhere`, { method: 'POST' })).status).toBe(404);
  });

  it('answers 500 and logs when the snapshot cannot be taken, and keeps serving', async () => {
    const lines: string[] = [];
    let broken = true;
    const dashboard = await start(
      () => {
        if (broken) throw new Error('the run is gone');
        return demoSnapshot(0);
      },
      (line) => lines.push(line),
    );
    expect((await fetch(`${dashboard.url}api/snapshot`)).status).toBe(500);
    expect(lines.join('\n')).toMatch(/GET \/api\/snapshot failed: Error: the run is gone/);
    broken = false;
    expect((await fetch(`${dashboard.url}api/snapshot`)).status).toBe(200);
  });

  it('rejects a port in use with PortInUseError naming the port', async () => {
    const first = await start(() => demoSnapshot(0));
    const port = Number(new URL(first.url).port);
    const attempt = startDashboard({ port, snapshot: () => demoSnapshot(0) });
    await expect(attempt).rejects.toBeInstanceOf(PortInUseError);
    await expect(attempt).rejects.toThrow(`port ${port} (the dashboard listener) is already in use`);
  });

  it('close() also closes keep-alive and half-open connections, so the process can exit', async () => {
    const dashboard = await startDashboard({ port: 0, snapshot: () => demoSnapshot(0) });
    const { hostname, port } = new URL(dashboard.url);
    // An idle keep-alive connection, after one answered request.
    const agent = new Agent({ keepAlive: true });
    let idleClosed: Promise<void> | undefined;
    await new Promise<void>((resolve, reject) => {
      const req = request(`${dashboard.url}api/snapshot`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('socket', (socket: Socket) => {
        idleClosed = new Promise((closed) => socket.once('close', () => closed()));
      });
      req.on('error', reject);
      req.end();
    });
    // A client that sent half a request: server.close() alone would wait for it (up to the headers timeout).
    const halfOpen = connect(Number(port), hostname);
    await new Promise<void>((resolve) => halfOpen.once('connect', () => resolve()));
    halfOpen.write('GET /api/snapshot HTTP/1.1\r\nHost: dashboard\r\n');
    const halfOpenClosed = new Promise<void>((closed) => halfOpen.once('close', () => closed()));
    halfOpen.on('error', () => {
      // The server resets it: that is the point.
    });
    await dashboard.close();
    await Promise.all([idleClosed, halfOpenClosed]);
    agent.destroy();
  });
});
