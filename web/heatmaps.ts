/**
 * How each cell-view panel is drawn by src/viz's heatmap (the CLI's function): its options, with the
 * same width and margins for every panel, so their time axes line up with each other and with the
 * drawing canvas above them (draw-input.ts).
 */
import { heatmapLayout, type HeatmapOptions } from '../src/viz/index.js';
import type { Panel } from './protocol.js';

/** The panels' width in CSS pixels, and the drawing canvas's. */
export const PANEL_WIDTH = 1100;

export const TITLES: Record<string, string> = {
  input: 'input x',
  i: 'i: input gate', f: 'f: forget gate', g: 'g: candidate', o: 'o: output gate', c: 'c: cell state',
  peephole_i: 'w_ci ⊙ c(t-1): peephole term of i', peephole_f: 'w_cf ⊙ c(t-1): peephole term of f', peephole_o: 'w_co ⊙ c(t): peephole term of o',
  r: 'r: reset gate', z: 'z: update gate', n: 'n: candidate', h: 'h: hidden state',
};

export function panelOptions(panel: Omit<Panel, 'values'>, rows: number, cols: number): HeatmapOptions {
  const rowHeight = Math.max(4, Math.min(12, Math.floor(180 / rows)));
  return {
    rows,
    cols,
    title: TITLES[panel.name] ?? panel.name,
    rowLabels: Array.from({ length: rows }, (_, u) => (rows === 1 ? 'x' : String(u))),
    yLabel: rows === 1 ? ' ' : 'unit',
    colorMap: panel.name === 'input' || panel.range?.[0] === 0 ? 'viridis' : 'diverging',
    ...(panel.range ? { min: panel.range[0], max: panel.range[1] } : {}),
    width: PANEL_WIDTH,
    height: Math.max(100, 84 + rows * rowHeight),
    // Never block-averaged: one cell per unit and step, which is what hovering reads.
    maxCells: rows * cols,
  };
}

/** Where column t of every panel of `steps` columns lies across: [left + t·width, left + (t+1)·width). */
export function timeAxis(steps: number): { left: number; width: number } {
  const { box, cellWidth } = heatmapLayout(panelOptions({ name: 'input', range: null }, 1, steps));
  return { left: box.left, width: cellWidth };
}
