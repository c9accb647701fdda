/**
 * Build the semi-synthetic multi-region traces in data/traces/ from the real series in data/real/.
 *
 *   npx tsx scripts/make-traces.ts                 # the bundled traces
 *   npx tsx scripts/make-traces.ts --out /tmp/big --partitions 200 --days 56 --only tweets
 *
 * Every partition's demand comes from a real series (NAB Twitter volumes or NYC taxi), decomposed into a
 * slow level, a weekly/daily profile and a residual that keeps the real spikes. Each region's profile is
 * shifted to its time zone, and each partition has a home-region mix (some shift over time), a
 * read/write split, a size and a hashed (not locality-aware) initial cell. Deterministic: seeded PRNG.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { gaussian, seededRandom } from '../src/domain/seeded-random.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const BUCKET_MS = 15 * 60_000;
const BUCKETS_PER_DAY = DAY_MS / BUCKET_MS;
const BUCKETS_PER_WEEK = 7 * BUCKETS_PER_DAY;
const GIB = 1024 ** 3;

export const REGIONS = [
  { name: 'us-east-1', utcOffsetHours: -5, weight: 0.45 },
  { name: 'eu-west-1', utcOffsetHours: 0, weight: 0.32 },
  { name: 'ap-northeast-1', utcOffsetHours: 9, weight: 0.23 },
] as const;

/**
 * Typical published average round-trip latencies between these regions (ms); see data/traces/README.md.
 * Configurable in each topology.json.
 */
export const LATENCY_MS = {
  'us-east-1': { 'eu-west-1': 80, 'ap-northeast-1': 145 },
  'eu-west-1': { 'ap-northeast-1': 212 },
};

// ------------------------------------------------------------------ sampling

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function weighted(random: () => number, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let x = random() * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i];
    if (x < 0) return i;
  }
  return weights.length - 1;
}

/** FNV-1a, for the hashed initial placement. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

// ------------------------------------------------------------------ real series

export interface RealSeries {
  readonly name: string;
  /** Timestamp (ms, as written in the file, read as UTC) of bucket 0. */
  readonly startMs: number;
  /** Values resampled to 15-minute buckets (mean of the source samples, gaps interpolated). */
  readonly values: Float64Array;
  /** UTC offset of the clock the file's timestamps use. */
  readonly timestampUtcOffsetHours: number;
  /** UTC offset of the audience whose daily cycle the series shows. */
  readonly audienceUtcOffsetHours: number;
}

/** Load a NAB `timestamp,value` file and resample it to 15-minute buckets aligned on midnight. */
export function loadNabSeries(
  path: string,
  name: string,
  timestampUtcOffsetHours: number,
  audienceUtcOffsetHours: number,
): RealSeries {
  const lines = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  const samples = lines.map((line) => {
    const [stamp, value] = line.split(',');
    return [Date.parse(`${stamp.replace(' ', 'T')}Z`), Number(value)] as const;
  });
  const startMs = Math.ceil(samples[0][0] / DAY_MS) * DAY_MS;
  const endMs = Math.floor(samples[samples.length - 1][0] / DAY_MS) * DAY_MS;
  const buckets = (endMs - startMs) / BUCKET_MS;
  const sums = new Float64Array(buckets);
  const counts = new Float64Array(buckets);
  for (const [ms, value] of samples) {
    const b = Math.floor((ms - startMs) / BUCKET_MS);
    if (b >= 0 && b < buckets) {
      sums[b] += value;
      counts[b]++;
    }
  }
  const values = new Float64Array(buckets).fill(Number.NaN);
  for (let b = 0; b < buckets; b++) if (counts[b] > 0) values[b] = sums[b] / counts[b];
  // A 30-minute series fills every other bucket; gaps (and those) are interpolated linearly.
  interpolateGaps(values);
  return { name, startMs, values, timestampUtcOffsetHours, audienceUtcOffsetHours };
}

function interpolateGaps(values: Float64Array): void {
  let last = -1;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) continue;
    if (last < 0) values.fill(values[i], 0, i);
    else
      for (let j = last + 1; j < i; j++)
        values[j] = values[last] + ((values[i] - values[last]) * (j - last)) / (i - last);
    last = i;
  }
  if (last >= 0) values.fill(values[last], last + 1);
}

/**
 * Multiplicative decomposition: level (centred 7-day mean) × weekly profile (672 slots, smoothed
 * median of value/level, mean 1) × residual (the rest, which keeps the real spikes).
 */
export interface Decomposition {
  readonly level: Float64Array;
  readonly profile: Float64Array;
  readonly residual: Float64Array;
}

export function decompose(values: Float64Array, smoothResidual: number): Decomposition {
  const n = values.length;
  const half = Math.floor(BUCKETS_PER_WEEK / 2);
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + values[i];
  const level = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.max(0, i - half);
    const b = Math.min(n, i + half);
    level[i] = Math.max(1e-9, (prefix[b] - prefix[a]) / (b - a));
  }
  const bySlot: number[][] = Array.from({ length: BUCKETS_PER_WEEK }, () => []);
  for (let i = 0; i < n; i++) bySlot[i % BUCKETS_PER_WEEK].push(values[i] / level[i]);
  const raw = bySlot.map((xs) => median(xs));
  const profile = new Float64Array(BUCKETS_PER_WEEK);
  for (let k = 0; k < BUCKETS_PER_WEEK; k++) {
    let sum = 0;
    for (let d = -2; d <= 2; d++) sum += raw[(k + d + BUCKETS_PER_WEEK) % BUCKETS_PER_WEEK];
    profile[k] = Math.max(0.05, sum / 5);
  }
  const mean = profile.reduce((a, b) => a + b, 0) / profile.length;
  for (let k = 0; k < profile.length; k++) profile[k] /= mean;
  const residual = new Float64Array(n);
  for (let i = 0; i < n; i++) residual[i] = values[i] / (level[i] * profile[i % BUCKETS_PER_WEEK]);
  if (smoothResidual > 1) {
    const copy = residual.slice();
    for (let i = 0; i < n; i++) {
      let sum = 0;
      let count = 0;
      for (let j = i - smoothResidual + 1; j <= i; j++) {
        if (j >= 0) {
          sum += copy[j];
          count++;
        }
      }
      residual[i] = sum / count;
    }
  }
  const levelMean = level.reduce((a, b) => a + b, 0) / n;
  for (let i = 0; i < n; i++) level[i] /= levelMean;
  return { level, profile, residual };
}

function median(xs: number[]): number {
  if (xs.length === 0) return 1;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// ------------------------------------------------------------------ recipes

interface SourceRef {
  readonly series: RealSeries;
  readonly parts: Decomposition;
}

export interface TraceRecipe {
  readonly name: string;
  readonly title: string;
  /** Committed under data/traces (the others are built on demand, e.g. by the backtest bench). */
  readonly bundled: boolean;
  /** Real series it draws on, and their origin, for meta.json. */
  readonly provenance: string;
  readonly seed: number;
  readonly startIso: string;
  readonly days: number;
  readonly partitions: number;
  /** Which real series, and where in each series a partition's window may start (in whole weeks). */
  readonly sources: () => SourceRef[];
  readonly maxWindowOffsetWeeks: number;
  /** Residual exponent: < 1 keeps spikes but compresses 100x news bursts to a size a cell can take. */
  readonly spikeExponent: number;
  /** Mean ops/s of a typical partition. */
  readonly meanOpsPerPartition: number;
  readonly cells: Readonly<Record<string, number>>;
  /**
   * Cell capacity as a multiple of the busiest region's 95th-percentile demand per initial cell, so that
   * under a local placement the daily peaks cross the alarm threshold and the spikes overload cells.
   */
  readonly capacityFactor: number;
  /** No partition's peak may exceed this fraction of a cell (a hotter one would be split). */
  readonly maxPartitionPeakShare: number;
  /** Growth of ap-northeast-1 demand over the trace (a new market ramping up). */
  readonly apGrowth: number;
}

function tweetSources(): SourceRef[] {
  // CVS and PFE are left out: their median count is 0, so scaled up they would be quantization noise.
  return ['AAPL', 'AMZN', 'CRM', 'FB', 'GOOG', 'IBM', 'KO', 'UPS'].map((ticker) => {
    const series = loadNabSeries(
      `data/real/nab/realTweets/Twitter_volume_${ticker}.csv`,
      `realTweets/Twitter_volume_${ticker}.csv`,
      0,
      -5,
    );
    const lowVolume = series.values.reduce((a, b) => a + b, 0) / series.values.length < 10;
    return { series, parts: decompose(series.values, lowVolume ? 4 : 1) };
  });
}

function taxiSources(): SourceRef[] {
  // NYC taxi timestamps are New York local time.
  const series = loadNabSeries(
    'data/real/nab/realKnownCause/nyc_taxi.csv',
    'realKnownCause/nyc_taxi.csv',
    -5,
    -5,
  );
  return [{ series, parts: decompose(series.values, 1) }];
}

export const RECIPES: readonly TraceRecipe[] = [
  {
    name: 'tweets-3region',
    title: 'NAB Twitter volumes, 3 regions',
    bundled: true,
    provenance:
      'NAB realTweets Twitter_volume_{AAPL,AMZN,CRM,FB,GOOG,IBM,KO,UPS}.csv (numenta/NAB, 5-minute counts, 2015-02-26..2015-04-23)',
    seed: 20150227,
    startIso: '2015-02-27T00:00:00Z',
    days: 21,
    partitions: 80,
    sources: tweetSources,
    maxWindowOffsetWeeks: 3,
    spikeExponent: 0.7,
    meanOpsPerPartition: 40,
    cells: { 'us-east-1': 3, 'eu-west-1': 2, 'ap-northeast-1': 2 },
    capacityFactor: 1.15,
    maxPartitionPeakShare: 0.45,
    apGrowth: 0.6,
  },
  {
    name: 'taxi-3region',
    title: 'NYC taxi demand, 3 regions',
    bundled: false,
    provenance:
      'NAB realKnownCause/nyc_taxi.csv (numenta/NAB, NYC taxi passengers per 30 minutes, 2014-07..2015-01)',
    seed: 20140707,
    startIso: '2014-07-07T00:00:00Z',
    days: 28,
    partitions: 96,
    sources: taxiSources,
    maxWindowOffsetWeeks: 24,
    spikeExponent: 1,
    meanOpsPerPartition: 40,
    cells: { 'us-east-1': 3, 'eu-west-1': 2, 'ap-northeast-1': 2 },
    capacityFactor: 1.0,
    maxPartitionPeakShare: 0.45,
    apGrowth: 0.5,
  },
];

// ------------------------------------------------------------------ synthesis

interface PartitionPlan {
  readonly id: string;
  readonly source: SourceRef;
  readonly windowOffset: number;
  readonly scale: number;
  readonly writeFraction: number;
  readonly sizeBytes: number;
  /** Region shares before and after a shift, and when the shift ramps (NaN = never). */
  readonly sharesBefore: readonly number[];
  readonly sharesAfter: readonly number[];
  readonly shiftStart: number;
  readonly shiftEnd: number;
  /** A temporary shift ramps back at these buckets (NaN = permanent). */
  readonly revertStart: number;
  readonly revertEnd: number;
  readonly group: number;
}

export interface GeneratedTrace {
  readonly recipe: TraceRecipe;
  readonly startMs: number;
  readonly buckets: number;
  readonly plans: readonly PartitionPlan[];
  /** Mean ops/s at ((t * P) + p) * R + r, before splitting reads and writes. */
  readonly demand: Float64Array;
  readonly relationships: readonly { a: string; b: string; coAccessPerSec: number }[];
  readonly capacityOpsPerSec: number;
}

function homeShares(random: () => number, home: number, second: number): number[] {
  const shares = [0, 0, 0];
  const main = 0.6 + random() * 0.28;
  const next = (1 - main) * (0.55 + random() * 0.4);
  shares[home] = main;
  shares[second] = next;
  const rest = REGIONS.findIndex((_, r) => r !== home && r !== second);
  shares[rest] = 1 - main - next;
  return shares;
}

function otherRegion(random: () => number, not: number): number {
  const options = REGIONS.map((_, r) => r).filter((r) => r !== not);
  return pick(random, options);
}

function planPartitions(recipe: TraceRecipe, sources: SourceRef[], buckets: number): PartitionPlan[] {
  const random = seededRandom(recipe.seed);
  const plans: PartitionPlan[] = [];
  const weights = REGIONS.map((r) => r.weight);
  let group = 0;
  const warmup = 7 * BUCKETS_PER_DAY;
  while (plans.length < recipe.partitions) {
    // Related groups of 2-4 partitions share a source, a window and a region mix, and shift together.
    const size = random() < 0.2 ? 2 + Math.floor(random() * 3) : 1;
    const source = pick(random, sources);
    const align = weekAlignment(Date.parse(recipe.startIso), source.series);
    const maxOffset = Math.floor((source.series.values.length - align - buckets) / BUCKETS_PER_WEEK);
    const windowOffset =
      Math.floor(random() * (Math.min(maxOffset, recipe.maxWindowOffsetWeeks) + 1)) * BUCKETS_PER_WEEK;
    const home = weighted(random, weights);
    const even = random() < 0.12;
    const before = even ? [0.34, 0.33, 0.33] : homeShares(random, home, otherRegion(random, home));
    let after = before;
    let shiftStart = Number.NaN;
    let shiftEnd = Number.NaN;
    let revertStart = Number.NaN;
    let revertEnd = Number.NaN;
    const shiftRoll = random();
    if (!even && shiftRoll < 0.3) {
      // The dominant region changes: a migration of users or a launch elsewhere.
      const newHome = otherRegion(random, home);
      after = homeShares(random, newHome, home);
      shiftStart = warmup + Math.floor(random() * (buckets - warmup - BUCKETS_PER_DAY * 3));
      shiftEnd = shiftStart + Math.floor((0.25 + random() * 1.75) * BUCKETS_PER_DAY);
      if (random() < 0.4) {
        // A campaign: back to the old mix after 2-6 days.
        revertStart = shiftEnd + Math.floor((2 + random() * 4) * BUCKETS_PER_DAY);
        revertEnd = revertStart + Math.floor(0.5 * BUCKETS_PER_DAY);
      }
    }
    const scale = recipe.meanOpsPerPartition * Math.exp(0.7 * gaussian(random) - 0.25);
    const writeFraction = 0.05 + random() ** 1.5 * 0.4;
    for (let k = 0; k < size && plans.length < recipe.partitions; k++) {
      const id = `p${String(plans.length).padStart(4, '0')}`;
      const sizeBytes = Math.round(Math.min(40, Math.max(0.25, 3 * Math.exp(0.8 * gaussian(random)))) * GIB);
      plans.push({
        id,
        source,
        windowOffset,
        scale: scale * (0.6 + random() * 0.8),
        writeFraction,
        sizeBytes,
        sharesBefore: before,
        sharesAfter: after,
        shiftStart,
        shiftEnd,
        revertStart,
        revertEnd,
        group: size > 1 ? group : -1,
      });
    }
    if (size > 1) group++;
  }
  return plans;
}

/** Index in the source series with the same weekday and time as `startMs`. */
function weekAlignment(startMs: number, series: RealSeries): number {
  const buckets = Math.round((startMs - series.startMs) / BUCKET_MS);
  return ((buckets % BUCKETS_PER_WEEK) + BUCKETS_PER_WEEK) % BUCKETS_PER_WEEK;
}

function ramp(t: number, start: number, end: number): number {
  if (Number.isNaN(start) || t <= start) return 0;
  if (t >= end) return 1;
  return (t - start) / (end - start);
}

export function generateTrace(
  recipe: TraceRecipe,
  overrides: { partitions?: number; days?: number } = {},
): GeneratedTrace {
  const effective = { ...recipe, ...overrides };
  const sources = recipe.sources();
  const startMs = Date.parse(effective.startIso);
  const buckets = effective.days * BUCKETS_PER_DAY;
  const plans = planPartitions(effective, sources, buckets);
  const P = plans.length;
  const R = REGIONS.length;
  const demand = new Float64Array(buckets * P * R);
  const noise = seededRandom(effective.seed ^ 0x5eed);
  for (let p = 0; p < P; p++) {
    const plan = plans[p];
    const { series, parts } = plan.source;
    const baseIndex = weekAlignment(startMs, series) + plan.windowOffset;
    for (let t = 0; t < buckets; t++) {
      const i = Math.min(series.values.length - 1, baseIndex + t);
      const global = parts.level[i] * Math.min(8, parts.residual[i] ** effective.spikeExponent);
      const mix = ramp(t, plan.shiftStart, plan.shiftEnd) * (1 - ramp(t, plan.revertStart, plan.revertEnd));
      for (let r = 0; r < R; r++) {
        // The audience in region r follows the series' daily cycle at its own local time.
        const shiftHours =
          REGIONS[r].utcOffsetHours - series.audienceUtcOffsetHours + series.timestampUtcOffsetHours;
        const slot = i + Math.round((shiftHours * HOUR_MS) / BUCKET_MS);
        const profile = parts.profile[((slot % BUCKETS_PER_WEEK) + BUCKETS_PER_WEEK) % BUCKETS_PER_WEEK];
        const share = plan.sharesBefore[r] * (1 - mix) + plan.sharesAfter[r] * mix;
        const growth = REGIONS[r].name === 'ap-northeast-1' ? 1 + (effective.apGrowth * t) / buckets : 1;
        const jitter = Math.exp(0.08 * gaussian(noise));
        demand[(t * P + p) * R + r] = plan.scale * share * global * profile * growth * jitter;
      }
    }
  }
  const capacityOpsPerSec = sizeCapacity(effective, demand, buckets, P);
  const relationships: { a: string; b: string; coAccessPerSec: number }[] = [];
  for (let p = 0; p < P; p++) {
    for (let q = p + 1; q < P && plans[q].group === plans[p].group && plans[p].group >= 0; q++) {
      relationships.push({
        a: plans[p].id,
        b: plans[q].id,
        coAccessPerSec: Math.round(0.3 * Math.min(plans[p].scale, plans[q].scale) * 100) / 100,
      });
    }
  }
  return { recipe: effective, startMs, buckets, plans, demand, relationships, capacityOpsPerSec };
}

/**
 * Cell capacity from the demand (see `capacityFactor`); then partitions whose peak would exceed
 * `maxPartitionPeakShare` of a cell are scaled down to it.
 */
function sizeCapacity(recipe: TraceRecipe, demand: Float64Array, buckets: number, P: number): number {
  const R = REGIONS.length;
  let perCell = 0;
  for (let r = 0; r < R; r++) {
    const totals = new Float64Array(buckets);
    for (let t = 0; t < buckets; t++) for (let p = 0; p < P; p++) totals[t] += demand[(t * P + p) * R + r];
    totals.sort();
    perCell = Math.max(perCell, totals[Math.floor(0.95 * buckets)] / (recipe.cells[REGIONS[r].name] ?? 1));
  }
  const capacity = Math.round((perCell * recipe.capacityFactor) / 50) * 50;
  const limit = capacity * recipe.maxPartitionPeakShare;
  for (let p = 0; p < P; p++) {
    let peak = 0;
    for (let t = 0; t < buckets; t++) {
      let total = 0;
      for (let r = 0; r < R; r++) total += demand[(t * P + p) * R + r];
      peak = Math.max(peak, total);
    }
    if (peak <= limit) continue;
    const factor = limit / peak;
    for (let t = 0; t < buckets; t++) for (let r = 0; r < R; r++) demand[(t * P + p) * R + r] *= factor;
  }
  return capacity;
}

// ------------------------------------------------------------------ output

function cellIds(recipe: TraceRecipe): { id: string; region: string }[] {
  const cells: { id: string; region: string }[] = [];
  for (const region of REGIONS) {
    const count = recipe.cells[region.name] ?? 0;
    for (let i = 0; i < count; i++)
      cells.push({ id: `${region.name}-${String.fromCharCode(97 + i)}`, region: region.name });
  }
  return cells;
}

export function buildTopology(generated: GeneratedTrace): Record<string, unknown> {
  const { recipe, plans, startMs, capacityOpsPerSec } = generated;
  const cells = cellIds(recipe);
  const totalBytes = plans.reduce((s, p) => s + p.sizeBytes, 0);
  const capacityBytes = Math.ceil(((totalBytes / cells.length) * 2.5) / GIB) * GIB;
  const at = (days: number) => new Date(startMs + days * DAY_MS).toISOString().replace('.000Z', 'Z');
  return {
    regions: Object.fromEntries(REGIONS.map((r) => [r.name, { utcOffsetHours: r.utcOffsetHours }])),
    latencyMs: LATENCY_MS,
    transferCostPerGB: 0.02,
    migrationBandwidthBytesPerSec: 8 * 1024 * 1024,
    cells: cells.map((c) => ({ id: c.id, region: c.region, capacityOpsPerSec, capacityBytes })),
    scalingEvents: [
      {
        at: at(recipe.days * 0.5 + 0.5),
        action: 'add',
        cell: { id: 'eu-west-1-z', region: 'eu-west-1', capacityOpsPerSec, capacityBytes },
      },
      { at: at(recipe.days * 0.75 + 0.25), action: 'remove', cellId: 'us-east-1-c' },
    ],
    alarmScaling: {
      utilizationThreshold: 0.8,
      sustainMinutes: 10,
      provisionMinutes: 15,
      cooldownMinutes: 60,
      maxCellsPerRegion: 5,
      cellCapacityOpsPerSec: capacityOpsPerSec,
      cellCapacityBytes: capacityBytes,
    },
  };
}

export function partitionsCsv(generated: GeneratedTrace): string {
  const cells = cellIds(generated.recipe);
  const lines = ['partition,sizeBytes,cell'];
  // Hashed placement: what a system that ignores locality does.
  for (const plan of generated.plans)
    lines.push(`${plan.id},${plan.sizeBytes},${cells[fnv1a(plan.id) % cells.length].id}`);
  return `${lines.join('\n')}\n`;
}

export function traceCsv(generated: GeneratedTrace): string {
  const { demand, buckets, plans, startMs } = generated;
  const P = plans.length;
  const R = REGIONS.length;
  const seconds = BUCKET_MS / 1000;
  const chunks: string[] = ['timestamp,partition,region,reads,writes\n'];
  for (let t = 0; t < buckets; t++) {
    const stamp = new Date(startMs + t * BUCKET_MS).toISOString().replace('.000Z', 'Z');
    let chunk = '';
    for (let p = 0; p < P; p++) {
      const wf = plans[p].writeFraction;
      for (let r = 0; r < R; r++) {
        const ops = demand[(t * P + p) * R + r] * seconds;
        const writes = significant(ops * wf);
        const reads = significant(ops * (1 - wf));
        if (reads <= 0 && writes <= 0) continue;
        chunk += `${stamp},${plans[p].id},${REGIONS[r].name},${Math.max(0, reads)},${writes}\n`;
      }
    }
    chunks.push(chunk);
  }
  return chunks.join('');
}

/** Round a count to 3 significant digits: 0.5% at most, far below the noise, and it gzips 2-3x better. */
function significant(count: number): number {
  if (count < 1000) return Math.round(count);
  const scale = 10 ** (Math.floor(Math.log10(count)) - 2);
  return Math.round(count / scale) * scale;
}

export function relationshipsCsv(generated: GeneratedTrace): string {
  const lines = [
    'a,b,coAccessPerSec',
    ...generated.relationships.map((r) => `${r.a},${r.b},${r.coAccessPerSec}`),
  ];
  return `${lines.join('\n')}\n`;
}

export function metaJson(generated: GeneratedTrace): Record<string, unknown> {
  const { recipe, plans, buckets } = generated;
  const sources = [...new Set(plans.map((p) => p.source.series.name))].sort();
  return {
    name: recipe.name,
    semiSynthetic: true,
    description:
      `${recipe.title}: ${plans.length} partitions x ${REGIONS.length} regions x ${buckets} buckets of 15 min. ` +
      "Each partition's demand is a real public series (level, weekly/daily profile and residual spikes), " +
      "split across regions with each region's daily cycle shifted to its time zone, plus synthetic home-region " +
      'mixes, region shifts, growth, read/write splits and sizes (scripts/make-traces.ts, seeded). ' +
      'It is not a recorded multi-region trace.',
    sources: sources.map((s) => `NAB ${s}`),
    license: 'MIT (numenta/NAB; see data/real/SOURCES.md)',
    provenance: recipe.provenance,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'data/traces' },
      only: { type: 'string' },
      partitions: { type: 'string' },
      days: { type: 'string' },
    },
  });
  const overrides = {
    ...(values.partitions ? { partitions: Number(values.partitions) } : {}),
    ...(values.days ? { days: Number(values.days) } : {}),
  };
  for (const recipe of RECIPES) {
    if (values.only ? values.only !== recipe.name : !recipe.bundled) continue;
    const generated = generateTrace(recipe, overrides);
    const dir = join(values.out, recipe.name);
    mkdirSync(dir, { recursive: true });
    const trace = gzipSync(traceCsv(generated), { level: 9 });
    writeFileSync(join(dir, 'trace.csv.gz'), trace);
    writeFileSync(join(dir, 'partitions.csv'), partitionsCsv(generated));
    writeFileSync(join(dir, 'relationships.csv'), relationshipsCsv(generated));
    writeFileSync(join(dir, 'topology.json'), `${JSON.stringify(buildTopology(generated), null, 2)}\n`);
    writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(metaJson(generated), null, 2)}\n`);
    process.stdout.write(
      `${dir}: ${generated.plans.length} partitions x ${REGIONS.length} regions x ${generated.buckets} buckets, trace.csv.gz ${(trace.length / 1e6).toFixed(2)} MB\n`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
