/** The SVG plots a run writes, from task outputs (pure: strings in, strings out). */
import type { StepNote } from '../data/index.js';
import type { DenoiseExample, SeriesPredictions } from '../tasks/index.js';
import { COLORS, heatmap, lineChart, lossCurve, pianoRoll } from '../viz/index.js';
import type { HistoryRow } from './run-dir.js';

export function lossPlot(rows: readonly HistoryRow[], title: string, logScale: boolean): string {
  const train = rows.map((r) => ({ step: r.step, loss: r.loss }));
  const validation = rows.filter((r) => r.valLoss !== null).map((r) => ({ step: r.step, loss: r.valLoss! }));
  const positive = [...train, ...validation].every((p) => p.loss > 0);
  return lossCurve({ train, validation: validation.length ? validation : undefined, title, logScale: logScale && positive });
}

/** Prediction (blue) over target (red): the picture of a series model learning. */
export function predictionPlot(p: SeriesPredictions, title: string, width = 900, height = 320): string {
  return lineChart(
    [
      { name: 'prediction', values: p.prediction, x: p.time, color: COLORS.blue, dashed: true },
      // Drawn last, solid under the dashed prediction's gaps: both stay visible where they agree.
      { name: 'target', values: p.target, x: p.time, color: COLORS.red },
    ],
    { title, xLabel: 'time', yLabel: 'value', width, height },
  );
}

/** Several charts stacked in one SVG (each keeps its own coordinate system). */
export function stack(charts: readonly string[], width: number, height: number): string {
  const body = charts.map((svg, i) => `<g transform="translate(0 ${i * height})">${svg.trim()}</g>`).join('');
  const total = height * charts.length;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${total}" viewBox="0 0 ${width} ${total}">${body}</svg>\n`;
}

/** Snapshots of the validation predictions at several steps of training, top to bottom. */
export function trainingProgressPlot(snapshots: readonly { step: number; predictions: SeriesPredictions }[], name: string): string {
  const width = 900;
  const height = 260;
  const charts = snapshots.map((s) => predictionPlot(s.predictions, `${name}: step ${s.step}`, width, height));
  return stack(charts, width, height);
}

/** Up to `count` snapshots spread over the run, always with the first and the last. */
export function pickEvenly<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  const out: T[] = [];
  for (let k = 0; k < count; k++) out.push(items[Math.round((k * (items.length - 1)) / (count - 1))]!);
  return out;
}

export interface ForecastLines {
  time: ArrayLike<number>;
  values: ArrayLike<number>;
  /** An interval, drawn dashed. */
  lower?: ArrayLike<number>;
  upper?: ArrayLike<number>;
  /** Where the forecast starts (default: the history's last time). */
  origin?: number;
}

export function forecastPlot(history: { time: ArrayLike<number>; values: ArrayLike<number> }, forecast: ForecastLines, title: string): string {
  const start = forecast.origin ?? history.time[history.time.length - 1]!;
  const interval = forecast.lower && forecast.upper
    ? [
        { name: 'interval', values: forecast.lower, x: forecast.time, color: COLORS.blue, dashed: true },
        { name: '', values: forecast.upper, x: forecast.time, color: COLORS.blue, dashed: true },
      ]
    : [];
  return lineChart(
    [
      { name: 'forecast', values: forecast.values, x: forecast.time, color: COLORS.blue },
      ...interval,
      // Drawn last so that the data stays visible where the forecast runs over it.
      { name: 'data', values: history.values, x: history.time, color: COLORS.red },
    ],
    { title, xLabel: 'time', yLabel: 'value', marker: { x: start, label: 'forecast' } },
  );
}

export function denoisePlot(e: DenoiseExample, title: string): string {
  return lineChart(
    [
      { name: 'noisy', values: e.noisy, color: '#b0b0b0' },
      { name: 'clean', values: e.clean, color: COLORS.red },
      { name: 'denoised (RNN)', values: e.denoised, color: COLORS.blue },
      { name: `moving average (window ${e.window})`, values: e.movingAverage, color: COLORS.green, dashed: true },
    ],
    { title, xLabel: 'sample', yLabel: 'value' },
  );
}

export function rollPlot(notes: readonly StepNote[], title: string, stepsPerQuarter: number, primeSteps?: number): string {
  return pianoRoll(notes, {
    title,
    stepsPerQuarter,
    marker: primeSteps === undefined ? undefined : { step: primeSteps, label: 'generated →' },
  });
}

/** Characters drawn visibly on an axis: a space and a line end would otherwise vanish. */
function visible(ch: string): string {
  return ch === ' ' ? '␣' : ch === '\n' ? '↵' : ch === '\t' ? '⇥' : ch;
}

/** Hidden units (rows) while the model reads a text (columns, one per character), in [-1, 1]. */
export function activationPlot(values: Float32Array, units: number, chars: readonly string[]): string {
  return heatmap(values, {
    rows: units,
    cols: chars.length,
    colLabels: chars.map(visible),
    title: 'hidden units of the last layer while reading validation text',
    xLabel: 'character',
    yLabel: 'unit',
    colorMap: 'diverging',
    min: -1,
    max: 1,
    // 40 pixels per column: the heatmap labels every column only when each has that much room.
    width: chars.length * 40 + 150,
    height: Math.max(240, units * 14 + 90),
  });
}
