import { formatIsoDuration } from '../../domain/duration.ts';
import { InputValidationError } from '../../domain/errors.ts';
import { EmbeddedForecastModel } from '../../domain/forecasting/embedded-forecaster.ts';
import type { Forecast, ForecastModel, KnownEvent } from '../../domain/forecasting/forecast-model.ts';
import { ANY_REGION } from '../../domain/forecasting/known-events.ts';
import { SeasonalNaiveForecastModel } from '../../domain/forecasting/seasonal-naive.ts';
import { readEventsCalendar } from '../../io/events-calendar.ts';
import { type DuplicatePolicy, readSeriesCsv } from '../../io/series-csv.ts';
import { type CliCommand, parseOptions, parsePositiveInt, requireOption } from '../command.ts';

const NAME = 'forecast';
const MODELS = ['embedded', 'seasonal-naive'] as const;
const DUPLICATES: readonly DuplicatePolicy[] = ['reject', 'sum', 'mean'];

const HELP = `Usage: prestage forecast --series FILE.csv --horizon N [options]

Forecast a demand series (mean and quantiles per step) with the embedded model or the
seasonal-naive baseline. The series is a CSV with a 'timestamp,value' or 'ds,y' header; rows may be
in any order, the interval is the most common gap, and missing buckets are treated as unknown.

Options:
  --series FILE.csv         demand series (required)
  --horizon N               number of future steps, each one interval long (required)
  --quantiles LIST          comma-separated quantile levels in (0, 1) (default 0.1,0.5,0.9)
  --model NAME              embedded | seasonal-naive (default embedded)
  --events EVENTS.json      known events [{"name","region","start","end","multiplier"}]; needs --region
  --region R                region of the series; selects its events (and those for region "*")
  --duplicates POLICY       rows in the same bucket: reject | sum | mean (default reject)
  --json                    print {"model","interval","start","mean","quantiles"} as JSON
  -h, --help                show this help

Example:
  prestage forecast --series data/real/nab/realKnownCause/nyc_taxi.csv --horizon 4 --json
`;

export const forecastCommand: CliCommand = {
  name: NAME,
  summary: 'Forecast a demand series (embedded model or seasonal-naive baseline)',
  help: HELP,
  async run(argv, io) {
    const { values } = parseOptions(
      argv,
      {
        series: { type: 'string' },
        horizon: { type: 'string' },
        quantiles: { type: 'string' },
        model: { type: 'string' },
        events: { type: 'string' },
        region: { type: 'string' },
        duplicates: { type: 'string' },
        json: { type: 'boolean' },
      },
      NAME,
    );
    const seriesPath = requireOption(values.series, 'series', NAME);
    const horizon = parsePositiveInt(requireOption(values.horizon, 'horizon', NAME), 'horizon');
    const quantileLevels = parseQuantiles(values.quantiles ?? '0.1,0.5,0.9');
    const modelName = values.model ?? 'embedded';
    if (!(MODELS as readonly string[]).includes(modelName)) {
      throw new InputValidationError(
        { field: '--model' },
        `expected one of ${MODELS.join(', ')}, found '${modelName}'`,
      );
    }
    const duplicates = (values.duplicates ?? 'reject') as DuplicatePolicy;
    if (!DUPLICATES.includes(duplicates)) {
      throw new InputValidationError(
        { field: '--duplicates' },
        `expected one of ${DUPLICATES.join(', ')}, found '${values.duplicates}'`,
      );
    }
    let events: KnownEvent[] | undefined;
    if (values.events !== undefined) {
      const region = requireOption(values.region, 'region', NAME);
      events = (await readEventsCalendar(values.events)).filter(
        (event) => event.region === region || event.region === ANY_REGION,
      );
    }
    const series = await readSeriesCsv(seriesPath, { duplicates });
    const model: ForecastModel =
      modelName === 'embedded' ? new EmbeddedForecastModel() : new SeasonalNaiveForecastModel();
    const [forecast] = await model.forecast([
      { itemId: seriesPath, series, horizon, quantileLevels, events },
    ]);
    io.stdout.write(
      values.json
        ? `${JSON.stringify(toJson(forecast, quantileLevels))}\n`
        : toTable(forecast, quantileLevels),
    );
    return 0;
  },
};

function parseQuantiles(text: string): number[] {
  const levels = text.split(',').map((part) => Number(part.trim()));
  for (const [i, level] of levels.entries()) {
    if (!(level > 0 && level < 1)) {
      throw new InputValidationError(
        { field: '--quantiles' },
        `expected comma-separated levels strictly between 0 and 1, found '${text.split(',')[i].trim()}'`,
      );
    }
  }
  return [...new Set(levels)].sort((a, b) => a - b);
}

/** Six significant digits: forecasts are not more precise than that, and the output stays readable. */
function round(x: number): number {
  return Number(x.toPrecision(6));
}

function toJson(forecast: Forecast, levels: readonly number[]) {
  const quantiles: Record<string, number[]> = {};
  for (const level of levels)
    quantiles[String(level)] = Array.from(forecast.quantiles.get(level) ?? [], round);
  return {
    model: forecast.model,
    interval: formatIsoDuration(forecast.intervalMs),
    start: new Date(forecast.startMs).toISOString(),
    mean: Array.from(forecast.mean, round),
    quantiles,
  };
}

function toTable(forecast: Forecast, levels: readonly number[]): string {
  const header = ['step', 'time', 'mean', ...levels.map((level) => `q${level}`)];
  const rows = Array.from(forecast.mean, (mean, k) => [
    String(k + 1),
    new Date(forecast.startMs + k * forecast.intervalMs).toISOString(),
    String(round(mean)),
    ...levels.map((level) => String(round(forecast.quantiles.get(level)?.[k] ?? Number.NaN))),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [
    `model ${forecast.model}, interval ${formatIsoDuration(forecast.intervalMs)}, first step ${new Date(forecast.startMs).toISOString()}`,
    '',
    line(header),
    ...rows.map(line),
    '',
  ].join('\n');
}
