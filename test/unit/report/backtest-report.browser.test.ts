import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../../src/domain/simulation/backtest.ts';
import { productionDependencies } from '../../../src/domain/simulation/default-dependencies.ts';
import { parseTopology } from '../../../src/domain/topology.ts';
import { regionalDemand, renderBacktestReport, routeLabels } from '../../../src/report/backtest-report.ts';
import { buildInput, HOUR, MIN } from '../domain/simulation/simulation-fixtures.ts';

// The report in headless Chromium: it loads from a file:// URL with no console error and no request, hover
// shows values, legend entries toggle, the demand panel is as wide as the grid. The screenshots land in
// out/screenshots/ for a person to look at.

/** Where Debian's chromium package puts the browser (`apt-get install -y chromium`). */
const CHROMIUM = process.env.PRESTAGE_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = resolve('out/screenshots');

/** The part of playwright-core's API this test uses, so the suite typechecks without the package. */
interface Locator {
  nth(index: number): Locator;
  first(): Locator;
  locator(selector: string): Locator;
  count(): Promise<number>;
  boundingBox(): Promise<{ x: number; y: number; width: number; height: number } | null>;
  innerText(): Promise<string>;
  getAttribute(name: string): Promise<string | null>;
  isVisible(): Promise<boolean>;
  click(): Promise<void>;
  scrollIntoViewIfNeeded(): Promise<void>;
}
interface Page {
  on(event: 'console', fn: (msg: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', fn: (error: Error) => void): void;
  on(event: 'request', fn: (request: { url(): string }) => void): void;
  goto(url: string): Promise<unknown>;
  locator(selector: string): Locator;
  mouse: { move(x: number, y: number): Promise<void> };
  screenshot(options: { path: string; fullPage?: boolean; clip?: object }): Promise<Buffer>;
}
interface Browser {
  newPage(options: { viewport: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}
interface Chromium {
  launch(options: { executablePath: string; args: string[] }): Promise<Browser>;
}

// A variable specifier: playwright-core is a devDependency that a checkout may not have installed yet.
const playwrightModule = 'playwright-core';
const chromium = await import(playwrightModule)
  .then((m: { chromium: Chromium }) => m.chromium)
  .catch(() => undefined);
const skipReason = !chromium
  ? 'playwright-core is not installed (npm install)'
  : !existsSync(CHROMIUM)
    ? `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set PRESTAGE_CHROMIUM)`
    : undefined;
if (skipReason) console.warn(`backtest report browser test skipped: ${skipReason}`);

/** How the hover script writes a value: integers as they are, otherwise three or four significant digits. */
function shownAs(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  return abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** Three regions whose partitions peak in their own daytime, so policies differ and every chart has data. */
function reportFixture(): string {
  const topology = parseTopology({
    regions: {
      'us-east-1': { utcOffsetHours: -5 },
      'eu-west-1': { utcOffsetHours: 0 },
      'ap-northeast-1': { utcOffsetHours: 9 },
    },
    latencyMs: {
      'us-east-1': { 'eu-west-1': 80, 'ap-northeast-1': 145 },
      'eu-west-1': { 'ap-northeast-1': 212 },
    },
    transferCostPerGB: 0.02,
    migrationBandwidthBytesPerSec: 50_000_000,
    cells: ['us-east-1', 'eu-west-1', 'ap-northeast-1'].map((region) => ({
      id: `${region}-a`,
      region,
      capacityOpsPerSec: 400,
      capacityBytes: 1e12,
    })),
    scalingEvents: [],
    // Small cells, so daytime peaks overload some and alarms add cells: the cell and cost charts have data.
    alarmScaling: { cellCapacityOpsPerSec: 400, cellCapacityBytes: 1e12, cooldownMinutes: 120 },
  });
  const partitions = Array.from({ length: 12 }, (_, p) => ({
    id: `p${p}`,
    sizeBytes: 2e9 + p * 1e8,
    cell: topology.cells[p % 3].id,
  }));
  const offsets = [-5, 0, 9];
  const input = buildInput(topology, partitions, 4 * 96, 15 * MIN, (t, p, r) => {
    const home = (p + 1) % 3;
    const hour = (((t / 4 + offsets[r]) % 24) + 24) % 24;
    const daytime = Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI));
    const reads = (r === home ? 60 : 12) * (0.2 + daytime) * (1 + 0.1 * Math.sin(t / 7 + p));
    return [reads, reads / 4];
  });
  const result = runBacktest(input, productionDependencies(), { warmupMs: 24 * HOUR });
  return renderBacktestReport(result, {
    files: { trace: 'three-regions.csv' },
    provenance: { name: 'three regions, four days (browser test fixture)' },
    generatedAt: '2024-01-05T00:00:00.000Z',
    routes: routeLabels(topology, result.options.localLatencyMs),
    regionalDemand: regionalDemand(input.trace),
  });
}

describe.skipIf(skipReason !== undefined)('backtest report in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const requests: string[] = [];
  let url: string;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const file = join(SCREENSHOTS, 'backtest-report.html');
    writeFileSync(file, reportFixture());
    url = pathToFileURL(file).href;
    browser = await chromium!.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(url);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('loads with no console error and fetches nothing but the page itself', async () => {
    await page.screenshot({ path: join(SCREENSHOTS, 'backtest-report.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(requests).toEqual([url]);
    const png = readFileSync(join(SCREENSHOTS, 'backtest-report.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1400); // full-page width
    expect(png.readUInt32BE(20)).toBeGreaterThan(2000); // and everything below the fold
  });

  it('shows every policy value under the pointer on a time chart', async () => {
    const remote = page.locator('svg[data-chart]').nth(1);
    await remote.scrollIntoViewIfNeeded();
    expect(await remote.getAttribute('aria-label')).toBe('Remote share of requests (6-hour mean)');
    const area = (await remote.locator('.hover-area').boundingBox())!;
    await page.mouse.move(area.x + area.width * 0.75, area.y + area.height / 2);
    const tip = page.locator('.tip');
    expect(await tip.isVisible()).toBe(true);
    const text = await tip.innerText();
    // The slot under the pointer: 0.75 of the way along the chart's slots.
    const data = JSON.parse((await remote.getAttribute('data-chart'))!) as {
      series: { name: string; values: (number | null)[] }[];
    };
    const slot = Math.floor(0.75 * data.series[0].values.length);
    for (const series of data.series) {
      expect(text).toContain(series.name);
      const value = series.values[slot]!;
      expect(text).toContain(`${shownAs(value)} %`);
    }
    expect(text).toMatch(/^Jan \d\d \d\d:00–\d\d:00 UTC/);
    // A vertical line has no width, so Playwright never calls it visible: check that it is shown, in the slot.
    const crosshair = remote.locator('.crosshair');
    expect(await crosshair.getAttribute('style')).not.toMatch(/display:\s*none/);
    const [left, , right] = JSON.parse((await remote.getAttribute('data-chart'))!).plot as number[];
    const x = Number(await crosshair.getAttribute('x1'));
    expect(x).toBeCloseTo(left + ((slot + 0.5) / data.series[0].values.length) * (right - left), 6);
    await page.screenshot({ path: join(SCREENSHOTS, 'backtest-report-hover.png') });
  });

  it('hides a policy when its legend entry is clicked, and shows it again', async () => {
    const remote = page.locator('svg[data-chart]').nth(1);
    const staticLine = remote.locator('.series[data-series="0"]');
    const staticLegend = remote.locator('[data-toggle="0"]');
    expect(await staticLine.isVisible()).toBe(true);
    await staticLegend.click();
    expect(await staticLine.isVisible()).toBe(false);
    expect(await staticLegend.getAttribute('aria-pressed')).toBe('false');
    const area = (await remote.locator('.hover-area').boundingBox())!;
    await page.mouse.move(area.x + area.width * 0.5, area.y + area.height / 2);
    expect(await page.locator('.tip').innerText()).not.toMatch(/\bstatic\b/);
    await staticLegend.click();
    expect(await staticLine.isVisible()).toBe(true);
  });

  it('shows a bar segment’s share and route on hover', async () => {
    const segment = page.locator('svg.bars').first().locator('.segment').nth(1);
    await segment.scrollIntoViewIfNeeded();
    const box = (await segment.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const text = await page.locator('.tip').innerText();
    expect(text).toBe((await segment.getAttribute('data-tip'))!);
    expect(text).toMatch(/^\w[\w-]*( \(prestage\))?: [\d.]+% of requests at \d+ ms\n(local|[\w-]+ ↔ [\w-]+)/);
  });

  it('draws the demand panel exactly as wide as the grid of charts below it', async () => {
    const grid = (await page.locator('.charts').first().boundingBox())!;
    const demand = (await page.locator('.panel.wide svg').first().boundingBox())!;
    const left = (await page.locator('.panel svg').nth(1).boundingBox())!;
    const right = (await page.locator('.panel svg').nth(2).boundingBox())!;
    expect(demand.width).toBeCloseTo(grid.width, 0);
    expect(demand.x).toBeCloseTo(left.x, 0);
    expect(demand.x + demand.width).toBeCloseTo(right.x + right.width, 0);
  });
});
