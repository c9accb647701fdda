/**
 * Series per second through the SageMaker forecast adapter (real SDK client over HTTP) against the local model
 * server (`prestage model-server`, DeepAR contract, embedded model) running in its own process, by batch size
 * and concurrency; and the adapter's own client CPU per series (encode, SDK, HTTP, decode), which is what a
 * profiler Lambda pays when the model is hosted. Baseline: the embedded model in process.
 *
 * Series: windows of 672 buckets (one week at 15 minutes) cut from the real NYC taxi series (NAB, MIT),
 * scaled per window; horizon 8, quantiles 0.1/0.5/0.9. One warm-up pass per configuration.
 *
 * Run: npx tsx bench/model-server-throughput.ts   (writes bench/results/model-server-throughput.json)
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { SageMakerForecastModel } from '../src/adapters/sagemaker/sagemaker-forecast-model.ts';
import { createSageMakerRuntimeClient } from '../src/adapters/sagemaker/sagemaker-runtime-client.ts';
import { EmbeddedForecastModel } from '../src/domain/forecasting/embedded-forecaster.ts';
import type { ForecastModel, ForecastRequest } from '../src/domain/forecasting/forecast-model.ts';
import { readSeriesCsv } from '../src/io/series-csv.ts';

const SERIES = 2000;
const LENGTH = 672;
const HORIZON = 8;
const INTERVAL_MS = 900_000;

async function buildRequests(): Promise<ForecastRequest[]> {
  const taxi = await readSeriesCsv('data/real/nab/realKnownCause/nyc_taxi.csv');
  const stride = Math.floor((taxi.values.length - LENGTH) / SERIES);
  return Array.from({ length: SERIES }, (_, i) => ({
    itemId: `p${i}#us-east-1`,
    // The taxi data is half-hourly; here it stands in for 15-minute partition demand (the server's time_freq).
    series: {
      startMs: taxi.startMs + i * stride * INTERVAL_MS,
      intervalMs: INTERVAL_MS,
      values: taxi.values.slice(i * stride, i * stride + LENGTH).map((v) => v / (50 + (i % 97))),
    },
    horizon: HORIZON,
    quantileLevels: [0.1, 0.5, 0.9],
  }));
}

async function startServerProcess(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bin/prestage.ts',
      'model-server',
      '--port',
      '0',
      '--quiet',
      '--prediction-length',
      String(HORIZON),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`model server exited with ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

interface Row {
  readonly model: string;
  readonly maxSeriesPerRequest: number | null;
  readonly maxConcurrency: number | null;
  readonly seriesPerSecond: number;
  readonly clientCpuMicrosPerSeries: number;
  readonly requests: number | null;
  readonly fallbacks: number;
}

async function measure(model: ForecastModel, requests: ForecastRequest[]) {
  await model.forecast(requests.slice(0, 200)); // warm-up
  const cpu = process.cpuUsage();
  const started = performance.now();
  const forecasts = await model.forecast(requests);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  if (forecasts.length !== requests.length) throw new Error('missing forecasts');
  return {
    seriesPerSecond: requests.length / seconds,
    clientCpuMicrosPerSeries: (used.user + used.system) / requests.length,
  };
}

async function main(): Promise<void> {
  const requests = await buildRequests();
  const rows: Row[] = [];
  const embedded = await measure(new EmbeddedForecastModel(), requests);
  rows.push({
    model: 'embedded (in process)',
    maxSeriesPerRequest: null,
    maxConcurrency: null,
    ...embedded,
    requests: null,
    fallbacks: 0,
  });
  const server = await startServerProcess();
  const client = createSageMakerRuntimeClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  try {
    for (const [batch, concurrency] of [
      [1, 1],
      [1, 4],
      [10, 4],
      [100, 1],
      [100, 4],
      [500, 4],
    ]) {
      let fallbacks = 0;
      const adapter = new SageMakerForecastModel({
        client,
        endpointName: 'bench',
        contract: 'deepar',
        maxSeriesPerRequest: batch,
        maxConcurrency: concurrency,
        onFallback: () => fallbacks++,
      });
      const before = adapter.stats.invocations;
      const figures = await measure(adapter, requests);
      rows.push({
        model: 'sagemaker adapter → local model server',
        maxSeriesPerRequest: batch,
        maxConcurrency: concurrency,
        ...figures,
        requests: adapter.stats.invocations - before - Math.ceil(200 / batch),
        fallbacks,
      });
    }
  } finally {
    client.destroy();
    await server.stop();
  }

  const table = [
    '| model | series/request | concurrency | series/s | client CPU µs/series | requests | fallbacks |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.maxSeriesPerRequest ?? '-'} | ${r.maxConcurrency ?? '-'} | ${r.seriesPerSecond.toFixed(0)} | ${r.clientCpuMicrosPerSeries.toFixed(0)} | ${r.requests ?? '-'} | ${r.fallbacks} |`,
    ),
  ];
  // Wall-clock figures depend on what else the machine runs; client CPU per series much less so.
  const load = loadavg()[0];
  process.stdout.write(
    `${SERIES} series × ${LENGTH} buckets (real NYC taxi windows), horizon ${HORIZON}, quantiles 0.1/0.5/0.9; load average ${load.toFixed(1)}\n${table.join('\n')}\n`,
  );
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/model-server-throughput.json',
    `${JSON.stringify({ generatedAt: new Date().toISOString(), loadAverage: load, series: SERIES, length: LENGTH, horizon: HORIZON, rows }, null, 2)}\n`,
  );
}

await main();
