/**
 * `recurrent forecast`: multi-step forecasts of a series with the hybrid forecaster (Holt-Winters plus
 * a GRU correction), with intervals; `--test` holds out the last `horizon` values and scores the
 * forecast against Holt-Winters and the seasonal naive forecast on them.
 */
import { basename } from 'node:path';
import { forecastScores, seasonalNaiveHorizon, type ForecastScores, type Series } from '../data/index.js';
import { hybridForecast, type HybridForecast } from '../tasks/index.js';
import { loadData } from './data.js';
import { formatTime } from './format.js';
import { forecastPlot } from './plots.js';
import { writeText } from './run-dir.js';

export interface ForecastFlags {
  data: string;
  column?: string;
  wide?: boolean;
  horizon: number;
  period?: number;
  test?: boolean;
  coverage: number;
  seeds: number;
  seed: number;
  plot?: string;
  json?: boolean;
}

/** The period a series' own time axis implies (12 for monthly data); refused when there is none. */
function periodOf(series: Series, flag: number | undefined): number {
  if (flag !== undefined) return flag;
  if (series.frequency >= 2 && Number.isInteger(series.frequency)) return series.frequency;
  throw new Error(`${series.source} has no seasonal period in its time column (frequency ${series.frequency}); pass --period <n>, the number of values per season`);
}

export async function forecastCommand(flags: ForecastFlags): Promise<void> {
  if (flags.plot && !flags.plot.toLowerCase().endsWith('.svg')) throw new Error(`--plot ${flags.plot}: expected a .svg file name`);
  const { series } = loadData('series', { data: flags.data, shippedDefault: false, seed: flags.seed, column: flags.column, wide: flags.wide }) as { series: Series };
  const period = periodOf(series, flags.period);
  const { horizon } = flags;
  const n = series.values.length;
  const history = flags.test ? series.values.subarray(0, n - horizon) : series.values;
  if (flags.test && n - horizon < 1) throw new Error(`--test holds out the last ${horizon} values, but ${series.source} has only ${n}`);
  const result: HybridForecast = hybridForecast(history, { horizon, period, coverage: flags.coverage, seeds: flags.seeds, seed: flags.seed });
  const last = history.length - 1;
  const dt = n >= 2 ? series.time[1]! - series.time[0]! : 1;
  const time = Float64Array.from({ length: horizon }, (_, k) => series.time[last]! + dt * (k + 1));
  const label = basename(flags.data).replace(/\.csv$/i, '');

  let test: { hybrid: ForecastScores; holtWinters: ForecastScores; seasonalNaive: ForecastScores } | undefined;
  if (flags.test) {
    const actual = series.values.subarray(n - horizon);
    const naive = seasonalNaiveHorizon(history, period, horizon);
    test = {
      hybrid: forecastScores(result.forecast, actual, history, period),
      holtWinters: forecastScores(result.holtWinters, actual, history, period),
      seasonalNaive: forecastScores(naive, actual, history, period),
    };
  }
  if (flags.plot) {
    const title = `${label}: ${horizon}-step forecast${flags.test ? ' of held-out values' : ''}`;
    // The last few seasons are enough context and keep the forecast legible.
    const from = Math.max(0, history.length - Math.max(4 * period, 2 * horizon));
    const shown = { time: series.time.subarray(from), values: series.values.subarray(from) };
    await writeText(flags.plot, forecastPlot(shown, { time, values: result.forecast, lower: result.lower, upper: result.upper, origin: series.time[last]! }, title));
  }
  const correction = result.steps > 0 ? `GRU correction trained ${result.steps} steps` : 'no GRU correction (it did not beat Holt-Winters on the held-out tail)';
  if (flags.json) {
    console.log(JSON.stringify({
      task: 'series', data: label, horizon, period, coverage: flags.coverage,
      time: Array.from(time), forecast: Array.from(result.forecast), lower: Array.from(result.lower), upper: Array.from(result.upper),
      holtWinters: Array.from(result.holtWinters), correctionSteps: result.steps, validation: result.validation, ...(test ? { test } : {}),
    }));
    return;
  }
  console.error(`${label}: ${horizon} steps past ${formatTime(series.time[last]!, series.frequency)}; ${correction}; ${Math.round(flags.coverage * 100)}% intervals`);
  console.log('time,forecast,lower,upper');
  for (let k = 0; k < horizon; k++) {
    const cells = [result.forecast[k]!, result.lower[k]!, result.upper[k]!].map((v) => Number(v.toPrecision(6)));
    console.log(`${formatTime(time[k]!, series.frequency)},${cells.join(',')}`);
  }
  if (test) {
    const row = (name: string, s: ForecastScores): string =>
      `${name.padEnd(16)} ${[s.rmse, s.mae, s.smape, s.mase].map((v) => (v === null ? 'n/a' : String(Number(v.toPrecision(4)))).padStart(10)).join('')}`;
    console.log(`\ntest: the last ${horizon} values, held out from every method`);
    console.log(`${''.padEnd(16)} ${['RMSE', 'MAE', 'sMAPE %', 'MASE'].map((h) => h.padStart(10)).join('')}`);
    console.log(row('hybrid', test.hybrid));
    console.log(row('Holt-Winters', test.holtWinters));
    console.log(row('seasonal naive', test.seasonalNaive));
  }
  if (flags.plot) console.error(`wrote ${flags.plot}`);
}
