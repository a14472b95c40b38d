/**
 * The SVG of each cell-view panel, drawn by src/viz's heatmap (the CLI's function) with the same
 * width and margins for every panel, so their time axes line up. It runs in the worker: building
 * thousands of rects is work the page's main thread need not do.
 */
import { heatmap } from '../src/viz/index.js';
import type { Panel } from './protocol.js';

const WIDTH = 1100;
export const TITLES: Record<string, string> = {
  input: 'input x',
  i: 'i: input gate', f: 'f: forget gate', g: 'g: candidate', o: 'o: output gate', c: 'c: cell state',
  peephole_i: 'w_ci ⊙ c(t-1): peephole term of i', peephole_f: 'w_cf ⊙ c(t-1): peephole term of f', peephole_o: 'w_co ⊙ c(t): peephole term of o',
  r: 'r: reset gate', z: 'z: update gate', n: 'n: candidate', h: 'h: hidden state',
};

export function panelSvg(panel: Panel, rows: number, cols: number): string {
  const rowHeight = Math.max(4, Math.min(12, Math.floor(180 / rows)));
  return heatmap(panel.values, {
    rows,
    cols,
    title: TITLES[panel.name] ?? panel.name,
    rowLabels: Array.from({ length: rows }, (_, u) => (rows === 1 ? 'x' : String(u))),
    yLabel: rows === 1 ? ' ' : 'unit',
    colorMap: panel.name === 'input' || panel.range?.[0] === 0 ? 'viridis' : 'diverging',
    ...(panel.range ? { min: panel.range[0], max: panel.range[1] } : {}),
    width: WIDTH,
    height: Math.max(100, 84 + rows * rowHeight),
    // Never block-averaged: one rect per unit and step, which is what hovering reads.
    maxCells: rows * cols,
  });
}
