/**
 * Heatmaps one above the other on a shared time axis: every panel gets the same width and margins,
 * so column t of one panel sits exactly above column t of the next (the input over the gates it
 * drives). Each panel keeps its own colour bar, because a gate in [0, 1] and a cell state in
 * [-3, 3] need different scales.
 */
import { heatmap, type HeatmapOptions } from './heatmap.js';
import { checkSize, el, svgDocument, text } from './svg.js';

export interface HeatmapPanel extends Omit<HeatmapOptions, 'width' | 'height' | 'colLabels'> {
  values: ArrayLike<number>;
}

export interface HeatmapStackOptions {
  title?: string;
  width?: number;
  /** Labels of the time steps (characters of a text), shared by every panel. */
  colLabels?: readonly string[];
}

/** Taller panels for fewer rows, within bounds, so a 1-row input and a 64-unit gate both read. */
const panelHeight = (rows: number): number => Math.max(100, 84 + rows * Math.max(4, Math.min(14, Math.floor(180 / rows))));

export function heatmapStack(panels: readonly HeatmapPanel[], options: HeatmapStackOptions = {}): string {
  const width = options.width ?? 1100;
  if (panels.length === 0) throw new Error('heatmapStack: expected at least one panel');
  const top = options.title ? 36 : 0;
  let y = top;
  let body = '';
  for (const panel of panels) {
    const { values, ...rest } = panel;
    const height = panelHeight(panel.rows);
    // Every panel labels its rows, so the left margin (and so the time axis) is the same in all.
    const rowLabels = rest.rowLabels ?? Array.from({ length: panel.rows }, (_, r) => String(r));
    const svg = heatmap(values, { ...rest, rowLabels, width, height, colLabels: options.colLabels, maxCells: Math.max(20000, panel.rows * panel.cols) });
    body += el('g', { transform: `translate(0 ${y})` }, svg.trim());
    y += height;
  }
  checkSize('heatmapStack', width, Math.min(y, 20000));
  if (options.title) body = text(width / 2, 24, options.title, { 'text-anchor': 'middle', 'font-size': 17, 'font-weight': 'bold', class: 'title' }) + body;
  return svgDocument(width, y, options.title, body);
}
