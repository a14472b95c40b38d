/**
 * Line charts of named series: one <path> per series, gaps where a value is missing (NaN, or not
 * positive on a log axis), and long series thinned to a min/max envelope per pixel column so a chart
 * of a million steps stays a small file that still shows every spike.
 */
import { drawAxes, drawLegend } from './axes.js';
import type { Box } from './axes.js';
import { PALETTE } from './colors.js';
import { makeScale, padDomain } from './scale.js';
import { checkSize, el, fmt, svgDocument, text } from './svg.js';

export interface LineSeries {
  name: string;
  values: ArrayLike<number>;
  /** x of each value; default 0, 1, 2, ... */
  x?: ArrayLike<number>;
  /** Any CSS colour; default the next palette colour (blue, red, green, ...). */
  color?: string;
  dashed?: boolean;
}

export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** log10 y axis; values <= 0 become gaps. */
  logY?: boolean;
  /** A vertical line at this x, e.g. where a forecast begins. */
  marker?: { x: number; label?: string };
}

interface Point {
  x: number;
  y: number;
}

/**
 * Keeps, per pixel column, the first, lowest, highest and last point: the drawn line is then the same
 * as with all points, at four points per column.
 */
function envelope(points: Point[], columns: number, x0: number, x1: number): Point[] {
  if (points.length <= 4 * columns) return points;
  const out: Point[] = [];
  const span = x1 - x0 || 1;
  let bucket = -1;
  let group: Point[] = [];
  const flush = () => {
    if (group.length === 0) return;
    let lo = group[0]!;
    let hi = group[0]!;
    for (const p of group) {
      if (p.y < lo.y) lo = p;
      if (p.y > hi.y) hi = p;
    }
    const keep = new Set([group[0]!, lo, hi, group[group.length - 1]!]);
    out.push(...group.filter((p) => keep.has(p)));
    group = [];
  };
  for (const p of points) {
    const b = Math.floor(((p.x - x0) / span) * columns);
    if (b !== bucket) {
      flush();
      bucket = b;
    }
    group.push(p);
  }
  flush();
  return out;
}

/** Consecutive runs of drawable points; a missing value ends a run. */
function runs(series: LineSeries, logY: boolean): Point[][] {
  const out: Point[][] = [];
  let current: Point[] = [];
  for (let i = 0; i < series.values.length; i++) {
    const x = series.x ? series.x[i]! : i;
    const y = series.values[i]!;
    if (Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0)) {
      current.push({ x, y });
    } else if (current.length > 0) {
      out.push(current);
      current = [];
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

export function lineChart(series: readonly LineSeries[], options: LineChartOptions = {}): string {
  const { width = 720, height = 360, logY = false } = options;
  checkSize('lineChart', width, height);
  series.forEach((s, i) => {
    if (s.x && s.x.length !== s.values.length) {
      throw new Error(`lineChart: series ${i} ("${s.name}") has ${s.values.length} values but ${s.x.length} x positions`);
    }
  });
  const allRuns = series.map((s) => runs(s, logY));
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const r of allRuns.flat(2)) {
    xMin = Math.min(xMin, r.x);
    xMax = Math.max(xMax, r.x);
    yMin = Math.min(yMin, r.y);
    yMax = Math.max(yMax, r.y);
  }
  if (options.marker && Number.isFinite(options.marker.x)) {
    xMin = Math.min(xMin, options.marker.x);
    xMax = Math.max(xMax, options.marker.x);
  }
  const box: Box = { left: 64, top: 44, right: width - 20, bottom: height - 48 };
  const xScale = makeScale(padDomain(xMin, xMax, false), box.left, box.right, false, 8);
  const yScale = makeScale(padDomain(yMin, yMax, logY), box.bottom, box.top, logY, 5);
  const columns = Math.ceil(box.right - box.left);

  let body = drawAxes(xScale, yScale, box, options, width);
  const legend = series.map((s, i) => ({ name: s.name, color: s.color ?? PALETTE[i % PALETTE.length]!, dashed: s.dashed }));
  allRuns.forEach((seriesRuns, i) => {
    let d = '';
    for (const run of seriesRuns) {
      const kept = envelope(run, columns, xScale.domain[0], xScale.domain[1]);
      d += kept.map((p, k) => `${k === 0 ? 'M' : 'L'}${fmt(xScale(p.x))} ${fmt(yScale(p.y))}`).join('');
      // A lone point between gaps would draw nothing as a path; a dot shows it.
      if (kept.length === 1) d += 'h0.01';
    }
    body += el('path', {
      d: d || undefined,
      fill: 'none',
      stroke: legend[i]!.color,
      'stroke-width': 1.8,
      'stroke-linejoin': 'round',
      'stroke-linecap': 'round',
      'stroke-dasharray': series[i]!.dashed ? '5 3' : undefined,
      class: 'series',
      'data-name': series[i]!.name,
    });
  });
  if (options.marker && Number.isFinite(options.marker.x)) {
    const px = xScale(options.marker.x);
    body += el('line', { x1: px, x2: px, y1: box.top, y2: box.bottom, stroke: '#555', 'stroke-dasharray': '4 4', class: 'marker' });
    if (options.marker.label) body += text(px + 4, box.top + 14, options.marker.label, { fill: '#555' });
  }
  if (allRuns.every((r) => r.length === 0)) {
    body += text((box.left + box.right) / 2, (box.top + box.bottom) / 2, 'no data', { 'text-anchor': 'middle', fill: '#888' });
  }
  // An unnamed series (the second line of an interval) shares the legend entry of the one before it.
  body += drawLegend(legend.filter((entry) => entry.name !== ''), box);
  return svgDocument(width, height, options.title, body);
}
