/**
 * Are the embedded forecaster's upper quantiles calibrated a few steps ahead? For every partition × region series
 * of the named scenarios, from a cold start as the backtest's predictive policy runs it: after the warm-up, every
 * hour, the share of buckets above the forecast quantile and the quantile's ratio to the mean, per step ahead.
 * A calibrated 0.9 quantile is exceeded about 10% of the time.
 *
 *   npx tsx bench/scenarios/interval-calibration.ts [--only business-week,leisure-week] [--level 0.9] [--steps 8]
 */
import { parseArgs } from 'node:util';
import { createEmbeddedForecaster } from '../../src/domain/forecasting/embedded-forecaster.ts';
import { scenarioNamed } from './catalog.ts';
import { generateScenario } from './generate-scenario.ts';

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'business-week,leisure-week' },
    level: { type: 'string', default: '0.9' },
    steps: { type: 'string', default: '8' },
    'warmup-days': { type: 'string', default: '7' },
  },
});
const level = Number(values.level);
const H = Number(values.steps);
const warmupDays = Number(values['warmup-days']);
if (!(level > 0 && level < 1)) throw new RangeError(`--level must be in (0, 1), got ${values.level}`);
if (!(Number.isInteger(H) && H >= 1))
  throw new RangeError(`--steps must be a positive integer, got ${values.steps}`);

for (const name of values.only.split(',')) {
  const { input } = generateScenario(scenarioNamed(name));
  const trace = input.trace;
  const P = trace.partitions.length;
  const R = trace.regions.length;
  const from = Math.round((warmupDays * 86_400_000) / trace.bucketMs);
  const every = Math.max(1, Math.round(3_600_000 / trace.bucketMs));
  const mean = new Float64Array(H);
  const upper = [new Float64Array(H)];
  const above = new Float64Array(H);
  const count = new Float64Array(H);
  const ratios: number[][] = Array.from({ length: H }, () => []);
  for (let p = 0; p < P; p++) {
    for (let r = 0; r < R; r++) {
      const forecaster = createEmbeddedForecaster(trace.bucketMs);
      for (let b = 0; b + H < trace.bucketCount; b++) {
        if (b >= from && b % every === 0) {
          forecaster.forecastInto(H, [level], { mean, quantiles: upper });
          for (let h = 0; h < H; h++) {
            if (!(mean[h] > 0)) continue;
            const j = ((b + h) * P + p) * R + r;
            count[h]++;
            if (trace.reads[j] + trace.writes[j] > upper[0][h]) above[h]++;
            ratios[h].push(upper[0][h] / mean[h]);
          }
        }
        const i = (b * P + p) * R + r;
        forecaster.observe(trace.reads[i] + trace.writes[i]);
      }
    }
  }
  console.log(
    `\n${name}: q${level} over ${P} partitions × ${R} regions, hourly origins after day ${warmupDays}`,
  );
  console.log('| step ahead | above the quantile | quantile ÷ mean, p50 | p90 |');
  console.log('|---:|---:|---:|---:|');
  for (let h = 0; h < H; h++) {
    const sorted = ratios[h].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    console.log(
      `| ${h + 1} | ${((100 * above[h]) / count[h]).toFixed(1)}% | ${at(0.5).toFixed(2)} | ${at(0.9).toFixed(2)} |`,
    );
  }
}
