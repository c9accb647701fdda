/**
 * Lambda bundles: size (target ≤ 1 MB) and module initialization time (target ≤ 150 ms) of every function the
 * control-plane stack deploys, and of the interceptor the edge stacks deploy.
 *
 * Each entry is bundled exactly as PrestageFunction bundles it (esbuildOptionsFor: the same esbuild options as
 * LAMBDA_BUNDLING, ESM, minified, @aws-sdk/* left to the runtime), into out/lambda-bundles/ so the external SDK
 * resolves from node_modules as it does from the Lambda runtime's. Init time: a fresh Node process (this Node,
 * 24) with the function's environment (its stack environment, tokens replaced by placeholder names) imports the
 * bundle; the time of that `import()` is module initialization (configuration, SDK clients, Powertools). Median
 * of RUNS processes per bundle, after one warm-up process (file cache). Not measured: the Lambda runtime's own
 * start, and the first network call of an invocation.
 *
 * Run: npx tsx bench/lambda-bundles.ts   (writes bench/results/lambda-bundles.json)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { App, type CfnResource, type Stack, Token } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { buildPrestageApp } from '../lib/prestage-app.ts';
import { parsePrestageConfig } from '../lib/prestage-config.ts';
import { esbuildOptionsFor, type PrestageFunction, REPO_ROOT } from '../lib/prestage-function.ts';

const RUNS = 7;
const SIZE_TARGET_BYTES = 1024 * 1024;
const INIT_TARGET_MS = 150;
const OUT = join(REPO_ROOT, 'out', 'lambda-bundles');

interface BundleFigure {
  readonly id: string;
  readonly entry: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly bundleMs: number;
  readonly initMedianMs: number;
  readonly initMinMs: number;
  readonly initMaxMs: number;
  /** CPU time (user + system) of the import: what the load of other processes does not inflate. */
  readonly initCpuMedianMs: number;
}

/**
 * The functions the stacks deploy, with their environment (tokens → placeholders): the control plane's, and the
 * interceptor of the first data region's edge stack (every region's is the same bundle).
 */
function deployedFunctions() {
  const context = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')).context;
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const { controlPlane, edgeStacks } = buildPrestageApp(app, parsePrestageConfig(context), '123456789012');
  const [edge] = edgeStacks.values();
  const functions: [string, PrestageFunction, Stack][] = [
    ...[...controlPlane.functions].map(([id, fn]): [string, PrestageFunction, Stack] => [
      id,
      fn,
      controlPlane,
    ]),
    ['Interceptor', edge.interceptor, edge],
  ];
  return functions.map(([id, fn, stack]) => {
    const cfn = fn.fn.node.defaultChild as CfnResource & { environment?: unknown };
    const resolved = stack.resolve(cfn.environment) as { variables?: Record<string, unknown> } | undefined;
    const variables = resolved?.variables ?? {};
    const environment: Record<string, string> = {};
    for (const [name, value] of Object.entries(variables)) {
      environment[name] =
        typeof value === 'string' && !Token.isUnresolved(value)
          ? value
          : name.endsWith('_ARN')
            ? `arn:aws:states:us-east-1:123456789012:stateMachine:bench-${name.toLowerCase()}`
            : `bench-${name.toLowerCase().replace(/_/g, '-')}`;
    }
    return { id, entry: fn.entry, environment };
  });
}

/** Module initialization of one bundle in a fresh process: wall and CPU ms spent in `import()`. */
function initTime(bundle: string, environment: Record<string, string>): { wallMs: number; cpuMs: number } {
  const script = `const c0 = process.cpuUsage(); const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle).href)}); const c = process.cpuUsage(c0); process.stdout.write(JSON.stringify([performance.now() - t0, (c.user + c.system) / 1000]));`;
  let output: string;
  try {
    output = runInit(script, environment);
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? error);
    throw new Error(`importing ${bundle} failed: ${stderr.slice(-800)}`);
  }
  const [wallMs, cpuMs] = JSON.parse(output) as [number, number];
  return { wallMs, cpuMs };
}

function runInit(script: string, environment: Record<string, string>): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_LAMBDA_FUNCTION_NAME: 'bench-function',
      ...environment,
    },
    encoding: 'utf8',
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

async function main() {
  rmSync(OUT, { recursive: true, force: true });
  const loadBefore = loadavg()[0];
  const functions = deployedFunctions();
  const figures: BundleFigure[] = [];
  for (const fn of functions) {
    const outfile = join(OUT, fn.id, 'index.mjs');
    mkdirSync(join(OUT, fn.id), { recursive: true });
    const started = performance.now();
    await build(esbuildOptionsFor(fn.entry, outfile));
    const bundleMs = performance.now() - started;
    const bytes = statSync(outfile).size;
    const gzipBytes = gzipSync(readFileSync(outfile)).length;
    initTime(outfile, fn.environment); // warm the file cache
    const runs = Array.from({ length: RUNS }, () => initTime(outfile, fn.environment));
    const times = runs.map((r) => r.wallMs);
    figures.push({
      id: fn.id,
      entry: fn.entry,
      bytes,
      gzipBytes,
      bundleMs,
      initMedianMs: median(times),
      initMinMs: Math.min(...times),
      initMaxMs: Math.max(...times),
      initCpuMedianMs: median(runs.map((r) => r.cpuMs)),
    });
  }

  const kb = (b: number) => `${(b / 1024).toFixed(0)} KB`;
  const rows = figures.map((f) => [
    f.id,
    kb(f.bytes),
    kb(f.gzipBytes),
    f.initMedianMs.toFixed(1),
    `${f.initMinMs.toFixed(1)}–${f.initMaxMs.toFixed(1)}`,
    f.initCpuMedianMs.toFixed(1),
    f.bytes <= SIZE_TARGET_BYTES && f.initMedianMs <= INIT_TARGET_MS ? 'ok' : 'MISSED',
  ]);
  const header = [
    'function',
    'bundle',
    'gzip',
    'init ms (median)',
    `init ms (min–max of ${RUNS})`,
    'init CPU ms (all threads)',
    'targets',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  process.stdout.write(
    `Lambda bundles: ${figures.length} functions, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}\n` +
      `targets: bundle ≤ ${kb(SIZE_TARGET_BYTES)}, module init ≤ ${INIT_TARGET_MS} ms (wall median); ` +
      `1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after\n\n`,
  );
  process.stdout.write(`${line(header)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
  const largest = figures.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const slowest = figures.reduce((a, b) => (b.initMedianMs > a.initMedianMs ? b : a));
  const missed = figures.filter((f) => f.bytes > SIZE_TARGET_BYTES || f.initMedianMs > INIT_TARGET_MS);
  process.stdout.write(
    `\nlargest: ${largest.id} ${kb(largest.bytes)}; slowest init: ${slowest.id} ${slowest.initMedianMs.toFixed(1)} ms; ` +
      `${missed.length === 0 ? 'every bundle meets both targets' : `${missed.length} miss a target: ${missed.map((f) => f.id).join(', ')}`}\n`,
  );
  mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(REPO_ROOT, 'bench', 'results', 'lambda-bundles.json'),
    `${JSON.stringify(
      {
        node: process.version,
        loadAverage: { before: loadBefore, after: loadavg()[0] },
        runs: RUNS,
        targets: { bytes: SIZE_TARGET_BYTES, initMs: INIT_TARGET_MS },
        largest: { id: largest.id, bytes: largest.bytes },
        slowestInit: { id: slowest.id, ms: slowest.initMedianMs },
        allMeetTargets: missed.length === 0,
        functions: figures,
      },
      null,
      2,
    )}\n`,
  );
}

await main();
