/**
 * A matrix as a grid of coloured cells with a colour bar, e.g. gate activations (rows = units,
 * columns = time steps). Matrices larger than `maxCells` are averaged over blocks first, so a long run
 * gives a readable picture and a file of bounded size.
 */
import { colorAt, rgbAt, rgbHex } from './colors.js';
import type { ColorMap, RGB } from './colors.js';
import { formatTick } from './scale.js';
import { checkSize, el, svgDocument, text } from './svg.js';

export interface HeatmapOptions {
  rows: number;
  cols: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  rowLabels?: readonly string[];
  colLabels?: readonly string[];
  /** Colour range; defaults to the data's min and max (symmetric around 0 for 'diverging'). */
  min?: number;
  max?: number;
  colorMap?: ColorMap;
  width?: number;
  height?: number;
  /** Default 20000 cells. */
  maxCells?: number;
}

const NO_DATA: RGB = [0xbd, 0xbd, 0xbd];
const BAR_STEPS = 40;
const [WIDTH, HEIGHT, MAX_CELLS] = [720, 360, 20000];

/** Block means over a rows x cols matrix (row-major) into at most outRows x outCols. */
function blockAverage(values: ArrayLike<number>, rows: number, cols: number, outRows: number, outCols: number): Float64Array {
  const out = new Float64Array(outRows * outCols);
  const counts = new Float64Array(outRows * outCols);
  for (let r = 0; r < rows; r++) {
    const br = Math.floor((r * outRows) / rows);
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c]!;
      if (!Number.isFinite(v)) continue;
      const k = br * outCols + Math.floor((c * outCols) / cols);
      out[k] = out[k]! + v;
      counts[k] = counts[k]! + 1;
    }
  }
  for (let k = 0; k < out.length; k++) out[k] = counts[k]! > 0 ? out[k]! / counts[k]! : NaN;
  return out;
}

/**
 * The grid drawn for a rows x cols matrix: itself when small enough; else a short axis is kept whole
 * (a few gate units over a long run stay distinct rows) and otherwise both shrink by one factor.
 */
function fitCells(rows: number, cols: number, maxCells: number): [number, number] {
  if (rows * cols <= maxCells) return [rows, cols];
  const side = Math.sqrt(maxCells);
  if (rows <= side) return [rows, Math.max(1, Math.floor(maxCells / rows))];
  if (cols <= side) return [Math.max(1, Math.floor(maxCells / cols)), cols];
  const f = Math.sqrt((rows * cols) / maxCells);
  const outRows = Math.max(1, Math.min(rows, Math.floor(rows / f)));
  return [outRows, Math.max(1, Math.min(cols, Math.floor(cols / f), Math.floor(maxCells / outRows)))];
}

function checkOptions(options: HeatmapOptions): void {
  const { rows, cols, width = WIDTH, height = HEIGHT, maxCells = MAX_CELLS } = options;
  checkSize('heatmap', width, height);
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new Error(`heatmap: rows and cols must be positive integers, received ${rows} x ${cols}`);
  }
  if (!Number.isInteger(maxCells) || maxCells < 1) throw new Error(`heatmap: maxCells must be a positive integer, received ${maxCells}`);
}

/** Where a heatmap puts its cells and its colour bar's value labels, in the SVG's pixels. */
export interface HeatmapLayout {
  /** The grid drawn: rows x cols itself, or the blocks it is averaged into beyond `maxCells`. */
  rows: number;
  cols: number;
  /** The cells' box: cell (r, c) spans [left + c·cellWidth, left + (c+1)·cellWidth) across. */
  box: { left: number; top: number; right: number; bottom: number };
  cellWidth: number;
  cellHeight: number;
  /** The colour bar's labels of the range's top and bottom (text baselines, left-aligned at x). */
  rangeLabels: { x: number; maxY: number; minY: number };
}

export function heatmapLayout(options: HeatmapOptions): HeatmapLayout {
  checkOptions(options);
  const { rows, cols, width = WIDTH, height = HEIGHT, maxCells = MAX_CELLS } = options;
  const [outRows, outCols] = fitCells(rows, cols, maxCells);
  const labelSpace = options.rowLabels ? 70 : 40;
  const box = { left: labelSpace + (options.yLabel ? 16 : 0), top: 40, right: width - 90, bottom: height - 44 };
  const barX = box.right + 16;
  return {
    rows: outRows,
    cols: outCols,
    box,
    cellWidth: (box.right - box.left) / outCols,
    cellHeight: (box.bottom - box.top) / outRows,
    rangeLabels: { x: barX + 18, maxY: box.top + 9, minY: box.bottom },
  };
}

/**
 * The colour range [min, max] of the cells drawn: the given min and max, else the values' finite
 * extremes (symmetric around 0 for 'diverging').
 */
export function heatmapRange(cells: ArrayLike<number>, options: Pick<HeatmapOptions, 'min' | 'max' | 'colorMap'>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < cells.length; i++) {
    const v = cells[i]!;
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (options.colorMap === 'diverging' && options.min === undefined && options.max === undefined) {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    [lo, hi] = [-m, m];
  }
  const vmin = options.min ?? lo;
  const vmax = options.max ?? hi;
  if (!Number.isFinite(vmin) || !Number.isFinite(vmax) || vmax < vmin) {
    throw new Error(`heatmap: expected finite min <= max, received min=${vmin}, max=${vmax}`);
  }
  return [vmin, vmax];
}

/** The colour a heatmap paints a value with over `range` (grey for a missing value). */
export function heatmapColor(colorMap: ColorMap, [vmin, vmax]: [number, number]): (value: number) => RGB {
  const span = vmax - vmin || 1;
  return (value) => (Number.isFinite(value) ? rgbAt(colorMap, (value - vmin) / span) : NO_DATA);
}

export function heatmap(values: ArrayLike<number>, options: HeatmapOptions): string {
  checkOptions(options);
  const { rows, cols, colorMap = 'viridis' } = options;
  if (values.length !== rows * cols) {
    throw new Error(`heatmap: expected rows x cols = ${rows} x ${cols} = ${rows * cols} values, received ${values.length}`);
  }
  const layout = heatmapLayout(options);
  const { box, cellWidth: cw, cellHeight: ch } = layout;
  const cells = layout.rows === rows && layout.cols === cols ? values : blockAverage(values, rows, cols, layout.rows, layout.cols);
  const range = heatmapRange(cells, { ...options, colorMap });
  const color = heatmapColor(colorMap, range);
  let body = '';
  for (let r = 0; r < layout.rows; r++) {
    for (let c = 0; c < layout.cols; c++) {
      const fill = rgbHex(color(cells[r * layout.cols + c]!));
      // Cells overlap by a hair so no background seams show between them.
      body += el('rect', { x: box.left + c * cw, y: box.top + r * ch, width: cw + 0.3, height: ch + 0.3, fill, class: 'cell' });
    }
  }
  return svgDocument(options.width ?? WIDTH, options.height ?? HEIGHT, options.title, el('g', { class: 'cells' }, body) + frame(options, layout, range));
}

/**
 * Everything of the heatmap but its cells and its range's two labels: the axes, the labels, the title
 * and the colour bar, for a caller that paints the cells itself (at `heatmapLayout(options).box`, in
 * `heatmapColor` over `heatmapRange`), as the playground does on a canvas it repaints while training.
 */
export function heatmapFrame(options: HeatmapOptions): string {
  checkOptions(options);
  return svgDocument(options.width ?? WIDTH, options.height ?? HEIGHT, options.title, frame(options, heatmapLayout(options), null));
}

function frame(options: HeatmapOptions, layout: HeatmapLayout, range: [number, number] | null): string {
  const { rows, cols, colorMap = 'viridis', width = WIDTH, height = HEIGHT } = options;
  const { box } = layout;
  let body = axisLabels(options, box, rows, cols, layout.rows, layout.cols);

  // Colour bar: BAR_STEPS bands from max (top) to min (bottom), with the two ends labelled.
  const barX = box.right + 16;
  const bh = (box.bottom - box.top) / BAR_STEPS;
  let bar = '';
  for (let k = 0; k < BAR_STEPS; k++) {
    const t = 1 - (k + 0.5) / BAR_STEPS;
    bar += el('rect', { x: barX, y: box.top + k * bh, width: 14, height: bh + 0.3, fill: colorAt(colorMap, t), class: 'bar' });
  }
  if (range) {
    const { x, maxY, minY } = layout.rangeLabels;
    bar += text(x, maxY, formatTick(range[1]), { class: 'bar-label' });
    bar += text(x, minY, formatTick(range[0]), { class: 'bar-label' });
  }
  body += el('g', { class: 'colorbar' }, bar);

  if (options.title) body += text(width / 2, 22, options.title, { 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 'bold', class: 'title' });
  if (options.xLabel) body += text((box.left + box.right) / 2, height - 10, options.xLabel, { 'text-anchor': 'middle', class: 'x-label' });
  if (options.yLabel) {
    const cy = (box.top + box.bottom) / 2;
    body += text(14, cy, options.yLabel, { 'text-anchor': 'middle', transform: `rotate(-90 14 ${cy})`, class: 'y-label' });
  }
  return body;
}

/** Row and column labels (given ones, else indices), thinned to what fits without overlapping. */
function axisLabels(
  options: HeatmapOptions,
  box: { left: number; top: number; right: number; bottom: number },
  rows: number,
  cols: number,
  outRows: number,
  outCols: number,
): string {
  let out = '';
  const rowEvery = Math.max(1, Math.ceil(rows / Math.max(1, Math.floor((box.bottom - box.top) / 14))));
  for (let r = 0; r < rows; r += rowEvery) {
    const y = box.top + ((Math.floor((r * outRows) / rows) + 0.5) * (box.bottom - box.top)) / outRows;
    out += text(box.left - 4, y + 4, options.rowLabels?.[r] ?? String(r), { 'text-anchor': 'end', 'font-size': 10, class: 'row-label' });
  }
  const colEvery = Math.max(1, Math.ceil(cols / Math.max(1, Math.floor((box.right - box.left) / 40))));
  for (let c = 0; c < cols; c += colEvery) {
    const x = box.left + ((Math.floor((c * outCols) / cols) + 0.5) * (box.right - box.left)) / outCols;
    out += text(x, box.bottom + 14, options.colLabels?.[c] ?? String(c), { 'text-anchor': 'middle', 'font-size': 10, class: 'col-label' });
  }
  return out;
}
