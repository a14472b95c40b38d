/** The frame shared by the x-y charts: grid lines, ticks with labels, axis titles and a legend. */
import { formatTick } from './scale.js';
import type { Scale } from './scale.js';
import { el, text } from './svg.js';

/** The plotting area in pixels. */
export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface AxisLabels {
  title?: string;
  xLabel?: string;
  yLabel?: string;
}

export function drawAxes(x: Scale, y: Scale, box: Box, labels: AxisLabels, width: number): string {
  let out = '';
  // Log axes label decades, whose labels are distinct anyway.
  const stepOf = (s: Scale): number | undefined => (!s.log && s.ticks.length > 1 ? s.ticks[1]! - s.ticks[0]! : undefined);
  for (const t of x.ticks) {
    const px = x(t);
    out += el('line', { x1: px, x2: px, y1: box.top, y2: box.bottom, stroke: '#e5e5e5' });
    out += text(px, box.bottom + 16, formatTick(t, stepOf(x)), { 'text-anchor': 'middle', fill: '#444' });
  }
  for (const t of y.ticks) {
    const py = y(t);
    out += el('line', { x1: box.left, x2: box.right, y1: py, y2: py, stroke: '#e5e5e5' });
    out += text(box.left - 6, py + 4, formatTick(t, stepOf(y)), { 'text-anchor': 'end', fill: '#444' });
  }
  out += el('rect', {
    x: box.left,
    y: box.top,
    width: box.right - box.left,
    height: box.bottom - box.top,
    fill: 'none',
    stroke: '#888',
    class: 'frame',
  });
  if (labels.title) out += text(width / 2, 20, labels.title, { 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 'bold', class: 'title' });
  if (labels.xLabel) out += text((box.left + box.right) / 2, box.bottom + 36, labels.xLabel, { 'text-anchor': 'middle', class: 'x-label' });
  if (labels.yLabel) {
    const cy = (box.top + box.bottom) / 2;
    out += text(16, cy, labels.yLabel, { 'text-anchor': 'middle', transform: `rotate(-90 16 ${cy})`, class: 'y-label' });
  }
  return out;
}

export interface LegendEntry {
  name: string;
  color: string;
  dashed?: boolean;
}

/** Entries in a row above the top-right corner of the plot, placed right to left. */
export function drawLegend(entries: readonly LegendEntry[], box: Box): string {
  let out = '';
  let x = box.right;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    // Rough text width: charts must not depend on font metrics they cannot measure.
    const labelWidth = Math.min(200, 7 * [...e.name].length);
    x -= labelWidth;
    out += text(x, box.top - 8, e.name, { fill: '#222' });
    x -= 24;
    out += el('line', {
      x1: x,
      x2: x + 18,
      y1: box.top - 12,
      y2: box.top - 12,
      stroke: e.color,
      'stroke-width': 2.5,
      'stroke-dasharray': e.dashed ? '5 3' : undefined,
    });
    x -= 12;
  }
  return el('g', { class: 'legend' }, out);
}
