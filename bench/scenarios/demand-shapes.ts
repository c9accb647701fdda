/**
 * The parametric shapes a scenario's demand is made of: the day, the week, a news burst's pulse and the
 * linear ramps of drift and trend. Unlike scripts/make-traces.ts (real NAB series, decomposed), every shape
 * here is a formula, so each knob can be turned on its own.
 */
import type { DailyShape } from './scenario-spec.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface Bump {
  /** Local hour of the bump's centre. */
  readonly hour: number;
  readonly height: number;
  /** Standard deviation in hours. */
  readonly width: number;
}

/** Bumps over a small floor; normalized to mean 1 over the day by `dailyProfile`. */
const DAILY_BUMPS: Readonly<Record<DailyShape, readonly Bump[]>> = {
  // Working hours, with the afternoon a little busier than the morning.
  office: [
    { hour: 10.5, height: 1, width: 2 },
    { hour: 15, height: 1.15, width: 2.2 },
  ],
  // Consumer evening peak.
  evening: [
    { hour: 20.5, height: 1.4, width: 2.2 },
    { hour: 13, height: 0.4, width: 2.5 },
  ],
  // Commute peaks, morning and evening.
  'twin-peak': [
    { hour: 8.5, height: 1.1, width: 1.5 },
    { hour: 18.5, height: 1, width: 1.8 },
  ],
};

const DAILY_FLOOR = 0.1;

/**
 * The day's level at each quarter hour of local time (96 values, mean 1): `amplitude` blends a flat day (0)
 * with the full shape (1).
 */
export function dailyProfile(shape: DailyShape, amplitude: number, slotsPerDay = 96): Float64Array {
  const raw = new Float64Array(slotsPerDay);
  for (let s = 0; s < slotsPerDay; s++) {
    const hour = ((s + 0.5) * 24) / slotsPerDay;
    let level = DAILY_FLOOR;
    for (const bump of DAILY_BUMPS[shape]) {
      const d = Math.min(Math.abs(hour - bump.hour), 24 - Math.abs(hour - bump.hour));
      level += bump.height * Math.exp(-(d * d) / (2 * bump.width * bump.width));
    }
    raw[s] = level;
  }
  const mean = raw.reduce((a, b) => a + b, 0) / slotsPerDay;
  for (let s = 0; s < slotsPerDay; s++) raw[s] = 1 - amplitude + (amplitude * raw[s]) / mean;
  return raw;
}

/** Local weekday (0 = Sunday) of a UTC instant for an audience at `utcOffsetHours`. */
export function localWeekday(ms: number, utcOffsetHours: number): number {
  return new Date(ms + utcOffsetHours * HOUR_MS).getUTCDay();
}

/** Quarter-hour slot of the local day (0..slotsPerDay-1). */
export function localSlot(ms: number, utcOffsetHours: number, slotsPerDay = 96): number {
  const local = (((ms + utcOffsetHours * HOUR_MS) % DAY_MS) + DAY_MS) % DAY_MS;
  return Math.floor((local * slotsPerDay) / DAY_MS);
}

/** Weekly factor: `weekendLevel` on local Saturday and Sunday, 1 otherwise. */
export function weeklyFactor(weekday: number, weekendLevel: number): number {
  return weekday === 0 || weekday === 6 ? weekendLevel : 1;
}

/** 0 before `start`, 1 after `end`, linear between. */
export function ramp(x: number, start: number, end: number): number {
  if (x <= start) return 0;
  if (x >= end) return 1;
  return (x - start) / (end - start);
}

/**
 * A news burst's shape at `sinceOnsetMs` after its onset, peak 1: a linear rise over `riseMs`, then an
 * exponential decay with time constant `decayMs`. 0 before the onset.
 */
export function burstPulse(sinceOnsetMs: number, riseMs: number, decayMs: number): number {
  if (sinceOnsetMs < 0) return 0;
  if (sinceOnsetMs < riseMs) return (sinceOnsetMs + 1) / (riseMs + 1);
  return Math.exp(-(sinceOnsetMs - riseMs) / decayMs);
}
