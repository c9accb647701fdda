/**
 * The knobs of a generated scenario, with their defaults. A scenario is a spec plus a seed; the generator
 * (generate-scenario.ts) turns it into the backtest's input, deterministically.
 */
import { MAX_REGIONS, MIN_REGIONS } from './regions.ts';

/** Shape of a region's day, in its audience's local time (bumps over a floor, mean 1). */
export type DailyShape = 'office' | 'evening' | 'twin-peak';

export interface BurstKnobs {
  /** News bursts per day per 100 partitions (a burst is one story in one region). */
  readonly perDayPer100Partitions: number;
  /** Median peak of a burst, as a multiple of the partition's mean demand (added on top of it). */
  readonly peakMultiple: number;
  /** Partitions one story touches (a related group counts as one pick and bursts together). */
  readonly partitionsPerBurst: number;
  /** Time for a burst to decay to 1/e of its peak after a 30-45 min rise. */
  readonly decayHours: number;
}

export interface DriftKnobs {
  /** Share of partitions whose audience moves to another home region during the trace. */
  readonly share: number;
  /** Days over which a drifting partition's regional mix moves from the old mix to the new (linear). */
  readonly days: number;
}

/** A cell added to, or removed from, a region at a given day (fractional days allowed). */
export interface ScheduledCellChange {
  readonly day: number;
  readonly action: 'add' | 'remove';
  readonly region: string;
}

export interface ScenarioSpec {
  readonly name: string;
  /** What the scenario exercises, in one line (printed and written to the result). */
  readonly summary: string;
  /**
   * The split family: each family holds two scenarios that vary the same dimension, one per half
   * (catalog.ts). Not a knob of the generator.
   */
  readonly family: string;
  readonly seed: number;
  /** Monday 00:00 UTC, so weekly shapes start on a known weekday. */
  readonly startIso: string;
  readonly days: number;
  /** 2 to 6: the first N regions of the catalog (regions.ts). */
  readonly regions: number;
  /** 50 to 2,000. */
  readonly partitions: number;
  /** Initial cells over all regions; undefined: round(0.8 × √partitions), at least one per region. */
  readonly cells?: number;
  /**
   * Cell ops capacity as a multiple of the fair share of the peak: the largest, over regions, of the
   * region's peak demand in the first week (bursts excluded) divided by its initial cells. Below 1 even a
   * perfectly local placement overloads at the daily peak until cells are added.
   */
  readonly capacityTightness: number;
  /** Mean ops/s of a typical partition (before the daily and weekly shape). */
  readonly meanOpsPerPartition: number;
  /** Log-normal σ of the partitions' demand scale (0: all alike). */
  readonly demandSkew: number;
  /** Partition sizes: log-normal with this median (GiB) and σ, clamped to [0.1, 40] GiB. */
  readonly sizeMedianGiB: number;
  readonly sizeSpread: number;
  /** Mean share of writes in a partition's operations (spread log-normally around it, clamped to [0.01, 0.9]). */
  readonly writeFraction: number;
  /** Share of partitions that start in a cell outside their home (largest-share) region. */
  readonly misplacedShare: number;
  /** Share of a partition's demand from its home region (the rest spread over the others). */
  readonly homeShare: number;
  readonly dailyShape: DailyShape;
  /** 0: flat day; 1: the full shape (night trough near 0.1 of the mean). */
  readonly dailyAmplitude: number;
  /** Level of Saturday and Sunday (local time) relative to weekdays: 1 none, < 1 business, > 1 leisure. */
  readonly weekendLevel: number;
  readonly bursts: BurstKnobs;
  readonly drift: DriftKnobs;
  /** Demand of a region's audience at the end of the trace relative to the start (linear ramp); 1 by default. */
  readonly regionTrend: Readonly<Record<string, number>>;
  readonly cellChanges: readonly ScheduledCellChange[];
  /** Share of partitions in related groups of 2-3 (co-accessed, same audience, burst together). */
  readonly relatedShare: number;
  /** No partition's peak may exceed this share of a cell's ops capacity (a hotter one would be split). */
  readonly maxPartitionPeakShare: number;
}

export type ScenarioKnobs = Omit<ScenarioSpec, 'name' | 'summary' | 'family'>;

/** The defaults: a 3-region, 100-partition, 12-day workload with a business day and a few bursts. */
export const DEFAULT_KNOBS: ScenarioKnobs = {
  seed: 1,
  startIso: '2024-03-04T00:00:00Z',
  days: 12,
  regions: 3,
  partitions: 100,
  capacityTightness: 1.2,
  meanOpsPerPartition: 40,
  demandSkew: 0.7,
  sizeMedianGiB: 3,
  sizeSpread: 0.8,
  writeFraction: 0.15,
  misplacedShare: 0.3,
  homeShare: 0.7,
  dailyShape: 'office',
  dailyAmplitude: 0.7,
  weekendLevel: 0.7,
  bursts: { perDayPer100Partitions: 1, peakMultiple: 4, partitionsPerBurst: 2, decayHours: 2 },
  drift: { share: 0, days: 3 },
  regionTrend: {},
  cellChanges: [],
  relatedShare: 0.15,
  maxPartitionPeakShare: 0.45,
};

/** A named scenario: the defaults overridden by `knobs` (nested burst and drift knobs merge too). */
export function defineScenario(
  name: string,
  family: string,
  summary: string,
  knobs: Partial<Omit<ScenarioKnobs, 'bursts' | 'drift'>> & {
    readonly bursts?: Partial<BurstKnobs>;
    readonly drift?: Partial<DriftKnobs>;
  },
): ScenarioSpec {
  const spec: ScenarioSpec = {
    ...DEFAULT_KNOBS,
    ...knobs,
    bursts: { ...DEFAULT_KNOBS.bursts, ...knobs.bursts },
    drift: { ...DEFAULT_KNOBS.drift, ...knobs.drift },
    name,
    family,
    summary,
  };
  validateSpec(spec);
  return spec;
}

/** Throw, naming the knob, when a spec is outside what the generator models. */
export function validateSpec(spec: ScenarioSpec): void {
  const fail = (knob: string, why: string): never => {
    throw new RangeError(`scenario ${spec.name}: ${knob} ${why}`);
  };
  if (!Number.isInteger(spec.regions) || spec.regions < MIN_REGIONS || spec.regions > MAX_REGIONS)
    fail('regions', `must be a whole number from ${MIN_REGIONS} to ${MAX_REGIONS}`);
  if (!Number.isInteger(spec.partitions) || spec.partitions < 1)
    fail('partitions', 'must be a whole number ≥ 1');
  if (!Number.isInteger(spec.days) || spec.days < 8)
    fail('days', 'must be a whole number ≥ 8 (the backtest measures after a 7-day warm-up)');
  if (spec.cells !== undefined && (!Number.isInteger(spec.cells) || spec.cells < spec.regions))
    fail('cells', 'must be a whole number, at least one per region');
  if (!(spec.capacityTightness > 0)) fail('capacityTightness', 'must be > 0');
  for (const [knob, value] of [
    ['misplacedShare', spec.misplacedShare],
    ['drift.share', spec.drift.share],
    ['relatedShare', spec.relatedShare],
    ['dailyAmplitude', spec.dailyAmplitude],
  ] as const) {
    if (!(value >= 0 && value <= 1)) fail(knob, 'must be in [0, 1]');
  }
  if (!(spec.homeShare > 1 / spec.regions && spec.homeShare <= 1))
    fail('homeShare', `must be above an even split (1/${spec.regions}) and at most 1`);
  if (!(spec.writeFraction > 0 && spec.writeFraction < 1)) fail('writeFraction', 'must be in (0, 1)');
  if (!(spec.weekendLevel > 0)) fail('weekendLevel', 'must be > 0');
  if (!(spec.drift.days > 0)) fail('drift.days', 'must be > 0');
  if (spec.drift.share > 0 && spec.drift.days + 2 > spec.days)
    fail('drift.days', 'must leave two days of trace');
  if (!(spec.bursts.perDayPer100Partitions >= 0)) fail('bursts.perDayPer100Partitions', 'must be ≥ 0');
  if (!(spec.bursts.peakMultiple >= 0)) fail('bursts.peakMultiple', 'must be ≥ 0');
  if (!(spec.bursts.decayHours > 0)) fail('bursts.decayHours', 'must be > 0');
  if (!(spec.maxPartitionPeakShare > 0 && spec.maxPartitionPeakShare <= 1))
    fail('maxPartitionPeakShare', 'must be in (0, 1]');
  for (const change of spec.cellChanges) {
    if (!(change.day > 0 && change.day < spec.days))
      fail('cellChanges.day', `${change.day} is outside the trace`);
  }
}
