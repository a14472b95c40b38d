/**
 * The "inside the cell" view: one heatmap per gate and state (rows = units, columns = time steps)
 * below the input, all drawn by src/viz's heatmap (the CLI's function) with the same width and
 * margins, so their time axes line up. Hovering a cell reads its value, time step and input.
 */
import { heatmap } from '../src/viz/index.js';
import type { FromWorker, Panel } from './protocol.js';

type Inspection = Extract<FromWorker, { type: 'inspect' }>;

const WIDTH = 1100;
const TITLES: Record<string, string> = {
  input: 'input x',
  i: 'i: input gate', f: 'f: forget gate', g: 'g: candidate', o: 'o: output gate', c: 'c: cell state',
  r: 'r: reset gate', z: 'z: update gate', n: 'n: candidate', h: 'h: hidden state',
};

function panelSvg(panel: Panel, rows: number, cols: number): string {
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

export class CellView {
  private current: Inspection | null = null;

  constructor(private readonly host: HTMLElement, private readonly readout: HTMLElement) {
    host.addEventListener('mouseover', (event) => this.hover(event.target));
  }

  show(view: Inspection): void {
    this.current = view;
    const inputPanel: Panel = { name: 'input', values: view.input, range: null };
    const html = [inputPanel, ...view.panels]
      .map((panel) => {
        const rows = panel.name === 'input' ? 1 : view.hidden;
        return `<div class="panel" data-panel="${panel.name}" data-rows="${rows}" data-cols="${view.steps}">${panelSvg(panel, rows, view.steps)}</div>`;
      })
      .join('');
    this.host.innerHTML = html;
    this.host.dataset['step'] = String(view.step);
    this.host.dataset['layer'] = String(view.layer);
  }

  private hover(target: EventTarget | null): void {
    const view = this.current;
    if (!view || !(target instanceof SVGRectElement) || !target.classList.contains('cell')) return;
    const panelElement = target.closest<HTMLElement>('.panel');
    const name = panelElement?.dataset['panel'];
    if (!panelElement || !name) return;
    const index = Array.prototype.indexOf.call(panelElement.querySelectorAll('rect.cell'), target);
    const unit = Math.floor(index / view.steps);
    const t = index % view.steps;
    const values = name === 'input' ? view.input : view.panels.find((p) => p.name === name)?.values;
    const value = values?.[index];
    if (value === undefined) return;
    const where = name === 'input' ? `t=${t}` : `unit ${unit}, t=${t}`;
    this.readout.textContent = `${TITLES[name] ?? name} · ${where}: ${value.toFixed(4)} · input ${view.input[t]!.toFixed(4)}`;
    Object.assign(this.readout.dataset, { panel: name, unit: String(unit), t: String(t), value: String(value) });
  }
}
