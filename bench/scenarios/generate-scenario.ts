/**
 * Turn a ScenarioSpec into the backtest's input (topology, trace, initial placement, relationships), in
 * memory and deterministically: the same spec gives the same arrays, bit for bit.
 *
 * Recipe (different from scripts/make-traces.ts, which replays real NAB series): each partition has a
 * log-normal demand scale, a home region and a regional mix (drifting partitions move linearly to another
 * mix over `drift.days`); each region's audience follows a parametric day and week in its own time zone and
 * a linear trend; news bursts add a rise-and-decay pulse to a few partitions, mostly in the story's region.
 * Capacity is sized on the first week's regional peaks without bursts (what an operator would have
 * provisioned for), then partitions too hot for a cell are scaled down.
 *
 * Each concern draws from its own seeded stream, so turning one knob (say the burst rate) does not
 * reshuffle the others (the partitions, their sizes, the placement).
 */
import { gaussian } from '../../src/domain/seeded-random.ts';
import { type DemandTrace, emptyTrace } from '../../src/domain/simulation/demand-trace.ts';
import type { SimulationInput } from '../../src/domain/simulation/simulation-options.ts';
import { burstPulse, dailyProfile, localSlot, localWeekday, ramp, weeklyFactor } from './demand-shapes.ts';
import { type ScenarioRegion, scenarioRegions } from './regions.ts';
import { apportion, buildCells, buildTopology, placePartitions, relatedPairs } from './scenario-layout.ts';
import type { ScenarioSpec } from './scenario-spec.ts';
import { normalized, otherRegion, stream, weightedIndex } from './seeded-draws.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
export const BUCKET_MS = 15 * MINUTE_MS;
const BUCKETS_PER_DAY = DAY_MS / BUCKET_MS;
const GIB = 1024 ** 3;
/** Fraction of a burst's extra demand that comes from the story's region; the rest follows the usual mix. */
const BURST_ORIGIN_SHARE = 0.75;
/** Per-bucket log-normal noise on every partition × region. */
const NOISE_SIGMA = 0.1;

/** A partition's audience: its regional mix, and (if it drifts) the mix it moves to and when. */
export interface PartitionAudience {
  readonly home: number;
  readonly mixBefore: Float64Array;
  readonly mixAfter: Float64Array;
  /** Bucket where the drift starts and ends (NaN: no drift). */
  readonly driftStart: number;
  readonly driftEnd: number;
  /** Related group (-1: none). */
  readonly group: number;
  /** Mean ops/s before the day, week and trend shapes. */
  readonly scale: number;
  readonly writeFraction: number;
  readonly sizeBytes: number;
}

export interface NewsBurst {
  readonly onsetBucket: number;
  readonly region: number;
  readonly partitions: readonly number[];
  readonly peakMultiple: number;
}

/** What the generator decided, beyond the input itself: for the report and the tests. */
export interface ScenarioFacts {
  readonly regions: readonly ScenarioRegion[];
  readonly cellsPerRegion: readonly number[];
  readonly capacityOpsPerSec: number;
  /** Largest first-week regional peak (bursts excluded) per initial cell of that region. */
  readonly fairSharePeakOpsPerSec: number;
  readonly audiences: readonly PartitionAudience[];
  readonly bursts: readonly NewsBurst[];
  /** Partitions whose initial cell is outside their home region. */
  readonly misplaced: number;
  /** Partitions scaled down so their peak fits `maxPartitionPeakShare` of a cell. */
  readonly clampedPartitions: number;
}

export interface GeneratedScenario {
  readonly spec: ScenarioSpec;
  readonly input: SimulationInput;
  readonly facts: ScenarioFacts;
}

export function generateScenario(spec: ScenarioSpec): GeneratedScenario {
  const regions = scenarioRegions(spec.regions);
  const R = regions.length;
  const P = spec.partitions;
  const T = spec.days * BUCKETS_PER_DAY;
  const startMs = Date.parse(spec.startIso);
  const weights = normalized(regions.map((r) => r.audienceWeight));
  const audiences = planAudiences(spec, weights, T);
  const ids = audiences.map((_, p) => `p${String(p).padStart(4, '0')}`);
  const trace = emptyTrace(
    startMs,
    BUCKET_MS,
    T,
    ids,
    regions.map((r) => r.name),
  );
  fillBaseline(spec, trace, regions, audiences);

  const firstWeek = Math.min(T, 7 * BUCKETS_PER_DAY);
  const regionPeaks = regionalPeaks(trace, firstWeek);
  const totalCells = spec.cells ?? Math.max(R, Math.round(0.8 * Math.sqrt(P)));
  const cellsPerRegion = apportion(regionPeaks, totalCells);
  const fairShare = Math.max(...regionPeaks.map((peak, r) => peak / cellsPerRegion[r]));
  const capacityOpsPerSec = Math.max(1, Math.round(spec.capacityTightness * fairShare));

  const bursts = addBursts(spec, trace, audiences, weights);
  const clampedPartitions = clampPartitionPeaks(trace, capacityOpsPerSec * spec.maxPartitionPeakShare);

  const cells = buildCells(regions, cellsPerRegion, capacityOpsPerSec, audiences);
  const { partitions, misplaced } = placePartitions(spec, ids, audiences, cells, regions, weights);
  const topology = buildTopology(spec, regions, cells, cellsPerRegion, startMs);
  const relationships = relatedPairs(ids, audiences);
  return {
    spec,
    input: { topology, trace, partitions, relationships },
    facts: {
      regions,
      cellsPerRegion,
      capacityOpsPerSec,
      fairSharePeakOpsPerSec: fairShare,
      audiences,
      bursts,
      misplaced,
      clampedPartitions,
    },
  };
}

/** `homeShare` (±0.08) at home, the rest over the other regions by weight with some spread. */
function regionalMix(random: () => number, spec: ScenarioSpec, weights: readonly number[], home: number) {
  const R = weights.length;
  const share = Math.min(0.97, Math.max(1 / R + 0.02, spec.homeShare + (random() - 0.5) * 0.16));
  const others = weights.map((w, r) => (r === home ? 0 : w * (0.5 + random())));
  const othersTotal = others.reduce((a, b) => a + b, 0);
  return Float64Array.from(others, (w, r) => (r === home ? share : ((1 - share) * w) / othersTotal));
}

function planAudiences(spec: ScenarioSpec, weights: readonly number[], T: number): PartitionAudience[] {
  const random = stream(spec.seed, 'audiences');
  const sizes = stream(spec.seed, 'sizes');
  const drift = stream(spec.seed, 'drift');
  // A group draw of 2-3 (mean 2.5) with probability q puts a share s = 2.5q / (2.5q + 1 - q) of partitions
  // in groups; solve for q.
  const groupOdds = spec.relatedShare / (2.5 - 1.5 * spec.relatedShare);
  const audiences: PartitionAudience[] = [];
  let group = 0;
  while (audiences.length < spec.partitions) {
    const size = random() < groupOdds ? 2 + Math.floor(random() * 2) : 1;
    const home = weightedIndex(random, weights);
    const mixBefore = regionalMix(random, spec, weights, home);
    let mixAfter = mixBefore;
    let driftStart = Number.NaN;
    let driftEnd = Number.NaN;
    if (drift() < spec.drift.share) {
      mixAfter = regionalMix(drift, spec, weights, otherRegion(drift, weights, home));
      const latestStartDay = spec.days - spec.drift.days - 1;
      driftStart = Math.floor((1 + drift() * (latestStartDay - 1)) * BUCKETS_PER_DAY);
      driftEnd = Math.min(T, driftStart + Math.round(spec.drift.days * BUCKETS_PER_DAY));
    }
    const skew = spec.demandSkew;
    const groupScale = spec.meanOpsPerPartition * Math.exp(skew * gaussian(random) - (skew * skew) / 2);
    for (let k = 0; k < size && audiences.length < spec.partitions; k++) {
      const gib = Math.min(
        40,
        Math.max(0.1, spec.sizeMedianGiB * Math.exp(spec.sizeSpread * gaussian(sizes))),
      );
      const writeFraction = Math.min(
        0.9,
        Math.max(0.01, spec.writeFraction * Math.exp(0.5 * gaussian(sizes) - 0.125)),
      );
      audiences.push({
        home,
        mixBefore,
        mixAfter,
        driftStart,
        driftEnd,
        group: size > 1 ? group : -1,
        scale: groupScale * (size > 1 ? 0.7 + 0.6 * random() : 1),
        writeFraction,
        sizeBytes: Math.round(gib * GIB),
      });
    }
    if (size > 1) group++;
  }
  return audiences;
}

/** Day × week × trend per region and bucket, times each partition's scale and (drifting) mix, with noise. */
function fillBaseline(
  spec: ScenarioSpec,
  trace: DemandTrace,
  regions: readonly ScenarioRegion[],
  audiences: readonly PartitionAudience[],
): void {
  const noise = stream(spec.seed, 'noise');
  const R = regions.length;
  const P = audiences.length;
  const T = trace.bucketCount;
  const day = dailyProfile(spec.dailyShape, spec.dailyAmplitude, BUCKETS_PER_DAY);
  const regionFactor = new Float64Array(R);
  const noiseMean = Math.exp((NOISE_SIGMA * NOISE_SIGMA) / 2);
  for (let t = 0; t < T; t++) {
    const ms = trace.startMs + t * BUCKET_MS;
    for (let r = 0; r < R; r++) {
      const { utcOffsetHours, name } = regions[r];
      const trend = 1 + ((spec.regionTrend[name] ?? 1) - 1) * (t / T);
      regionFactor[r] =
        day[localSlot(ms, utcOffsetHours, BUCKETS_PER_DAY)] *
        weeklyFactor(localWeekday(ms, utcOffsetHours), spec.weekendLevel) *
        trend;
    }
    for (let p = 0; p < P; p++) {
      const a = audiences[p];
      const moved = Number.isNaN(a.driftStart) ? 0 : ramp(t, a.driftStart, a.driftEnd);
      for (let r = 0; r < R; r++) {
        const mix = a.mixBefore[r] * (1 - moved) + a.mixAfter[r] * moved;
        const ops = (a.scale * mix * regionFactor[r] * Math.exp(NOISE_SIGMA * gaussian(noise))) / noiseMean;
        const i = (t * P + p) * R + r;
        trace.writes[i] = ops * a.writeFraction;
        trace.reads[i] = ops - trace.writes[i];
      }
    }
  }
}

/** Each region's peak total demand over the first `buckets` buckets. */
function regionalPeaks(trace: DemandTrace, buckets: number): number[] {
  const P = trace.partitions.length;
  const R = trace.regions.length;
  const peaks = new Array<number>(R).fill(0);
  const totals = new Float64Array(R);
  for (let t = 0; t < buckets; t++) {
    totals.fill(0);
    for (let p = 0; p < P; p++) {
      for (let r = 0; r < R; r++) {
        const i = (t * P + p) * R + r;
        totals[r] += trace.reads[i] + trace.writes[i];
      }
    }
    for (let r = 0; r < R; r++) peaks[r] = Math.max(peaks[r], totals[r]);
  }
  return peaks;
}

function addBursts(
  spec: ScenarioSpec,
  trace: DemandTrace,
  audiences: readonly PartitionAudience[],
  weights: readonly number[],
): NewsBurst[] {
  const random = stream(spec.seed, 'bursts');
  const { perDayPer100Partitions, peakMultiple, partitionsPerBurst, decayHours } = spec.bursts;
  const count = Math.round((perDayPer100Partitions * spec.partitions * spec.days) / 100);
  if (peakMultiple === 0) return [];
  const P = audiences.length;
  const R = weights.length;
  const T = trace.bucketCount;
  const members = new Map<number, number[]>();
  audiences.forEach((a, p) => {
    if (a.group >= 0) members.set(a.group, [...(members.get(a.group) ?? []), p]);
  });
  const bursts: NewsBurst[] = [];
  for (let b = 0; b < count; b++) {
    const onsetBucket = Math.floor(random() * T);
    const region = weightedIndex(random, weights);
    const hit = new Set<number>();
    while (hit.size < Math.min(partitionsPerBurst, P)) {
      const p = Math.floor(random() * P);
      for (const q of audiences[p].group >= 0 ? members.get(audiences[p].group)! : [p]) hit.add(q);
    }
    const multiple = peakMultiple * Math.exp(0.4 * gaussian(random));
    const riseMs = (30 + 15 * Math.floor(random() * 2)) * MINUTE_MS;
    const decayMs = decayHours * HOUR_MS * Math.exp(0.3 * gaussian(random));
    const lastBucket = Math.min(T, onsetBucket + Math.ceil((riseMs + 5 * decayMs) / BUCKET_MS) + 1);
    for (const p of hit) {
      const a = audiences[p];
      for (let t = onsetBucket; t < lastBucket; t++) {
        const pulse = burstPulse((t - onsetBucket) * BUCKET_MS, riseMs, decayMs);
        const extra = multiple * a.scale * pulse;
        for (let r = 0; r < R; r++) {
          const share = (r === region ? BURST_ORIGIN_SHARE : 0) + (1 - BURST_ORIGIN_SHARE) * a.mixBefore[r];
          const i = (t * P + p) * R + r;
          trace.writes[i] += extra * share * a.writeFraction;
          trace.reads[i] += extra * share * (1 - a.writeFraction);
        }
      }
    }
    bursts.push({ onsetBucket, region, partitions: [...hit], peakMultiple: multiple });
  }
  return bursts;
}

/** Scale down every partition whose peak (all regions) exceeds `limit` ops/s; returns how many. */
function clampPartitionPeaks(trace: DemandTrace, limit: number): number {
  const P = trace.partitions.length;
  const R = trace.regions.length;
  const peaks = new Float64Array(P);
  for (let t = 0; t < trace.bucketCount; t++) {
    for (let p = 0; p < P; p++) {
      let total = 0;
      for (let r = 0; r < R; r++) {
        const i = (t * P + p) * R + r;
        total += trace.reads[i] + trace.writes[i];
      }
      if (total > peaks[p]) peaks[p] = total;
    }
  }
  let clamped = 0;
  for (let p = 0; p < P; p++) {
    if (peaks[p] <= limit) continue;
    clamped++;
    const factor = limit / peaks[p];
    for (let t = 0; t < trace.bucketCount; t++) {
      for (let r = 0; r < R; r++) {
        const i = (t * P + p) * R + r;
        trace.reads[i] *= factor;
        trace.writes[i] *= factor;
      }
    }
  }
  return clamped;
}
