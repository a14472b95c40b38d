/** Training and validation loss against the step, on a linear or log axis. */
import { COLORS } from './colors.js';
import { lineChart } from './line-chart.js';
import type { LineSeries } from './line-chart.js';

export interface LossPoint {
  step: number;
  loss: number;
}

/** Points, or one loss per step (index = step). */
export type LossHistory = readonly LossPoint[] | ArrayLike<number>;

export interface LossCurveOptions {
  train: LossHistory;
  /** Usually sparser than train (evaluated every few hundred steps). */
  validation?: LossHistory;
  title?: string;
  /** log10 loss axis: the long tail of a training run stays readable. */
  logScale?: boolean;
  width?: number;
  height?: number;
  yLabel?: string;
}

function isPoints(history: LossHistory): history is readonly LossPoint[] {
  return Array.isArray(history) && history.length > 0 && typeof history[0] === 'object';
}

function toSeries(name: string, history: LossHistory, color: string): LineSeries {
  if (!isPoints(history)) return { name, values: history, color };
  return { name, values: history.map((p) => p.loss), x: history.map((p) => p.step), color };
}

export function lossCurve(options: LossCurveOptions): string {
  const series = [toSeries('train', options.train, COLORS.blue)];
  if (options.validation) series.push(toSeries('validation', options.validation, COLORS.orange));
  return lineChart(series, {
    title: options.title ?? 'Loss',
    xLabel: 'step',
    yLabel: options.yLabel ?? (options.logScale ? 'loss (log scale)' : 'loss'),
    logY: options.logScale ?? false,
    width: options.width,
    height: options.height,
  });
}
