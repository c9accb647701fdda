import { InputValidationError } from './errors.ts';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parse `90s`, `15m`, `2h`, `7d`, `1w` (or an ISO-8601 duration such as PT5M) into milliseconds. */
export function parseDuration(text: string, field: string): number {
  const simple = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(text.trim());
  if (simple) return Number(simple[1]) * UNIT_MS[simple[2]];
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text.trim());
  if (iso && text.trim() !== 'P' && text.trim() !== 'PT') {
    const [, d, h, m, s] = iso;
    return (
      Number(d ?? 0) * UNIT_MS.d +
      Number(h ?? 0) * UNIT_MS.h +
      Number(m ?? 0) * UNIT_MS.m +
      Number(s ?? 0) * 1000
    );
  }
  throw new InputValidationError({ field }, `expected a duration such as 15m, 2h or 7d, found '${text}'`);
}

/** Milliseconds as an ISO-8601 duration (`PT5M`, `PT1H`, `P1D`). */
export function formatIsoDuration(ms: number): string {
  if (ms % UNIT_MS.d === 0) return `P${ms / UNIT_MS.d}D`;
  let rest = ms / 1000;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s ? `${s}S` : ''}`;
}
