/**
 * The "inside the cell" view: the heatmaps the worker drew (heatmaps.ts), one per gate and state
 * below the input. Each is shown as an image of its SVG: thousands of rects in the page's DOM would
 * be restyled and repainted with every live update of the charts, costing frames longer than 50 ms.
 * Hovering reads the value, time step and input under the pointer, locating the cell from the
 * geometry of the SVG's own rects.
 */
import { TITLES } from './heatmaps.js';
import type { FromWorker } from './protocol.js';

type Inspection = Extract<FromWorker, { type: 'inspect' }>;

/** The first cell's corner and the cells' size, in the SVG's pixels (the image is shown unscaled). */
interface Grid {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface ShownPanel {
  name: string;
  svg: string;
  rows: number;
  values: number[];
  grid: Grid | null;
}

function gridOf(svg: string): Grid {
  const first = new DOMParser().parseFromString(svg, 'image/svg+xml').querySelector('rect.cell');
  const number = (name: string): number => Number(first?.getAttribute(name));
  // Rects overlap their neighbours by a hair (viz/heatmap.ts); the second cell's x gives the true pitch.
  const second = first?.nextElementSibling;
  const width = second ? Number(second.getAttribute('x')) - number('x') : number('width');
  return { x: number('x'), y: number('y'), width, height: number('height') - 0.3 };
}

export class CellView {
  private current: Inspection | null = null;
  private shown = new Map<string, ShownPanel>();
  private urls: string[] = [];

  constructor(private readonly host: HTMLElement, private readonly readout: HTMLElement) {
    host.addEventListener('mousemove', (event) => this.hover(event));
  }

  show(view: Inspection): void {
    this.current = view;
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
    const panels: ShownPanel[] = [
      { name: 'input', svg: view.inputSvg, rows: 1, values: view.input, grid: null },
      ...view.panels.map((p) => ({ name: p.name, svg: p.svg, rows: view.hidden, values: p.values, grid: null })),
    ];
    this.shown = new Map(panels.map((p) => [p.name, p]));
    const elements = panels.map((panel) => {
      const element = document.createElement('div');
      element.className = 'panel';
      Object.assign(element.dataset, { panel: panel.name, rows: String(panel.rows), cols: String(view.steps) });
      const image = new Image();
      const url = URL.createObjectURL(new Blob([panel.svg], { type: 'image/svg+xml' }));
      this.urls.push(url);
      image.src = url;
      image.alt = TITLES[panel.name] ?? panel.name;
      element.append(image);
      return element;
    });
    this.host.replaceChildren(...elements);
    Object.assign(this.host.dataset, { step: String(view.step), layer: String(view.layer) });
  }

  private hover(event: MouseEvent): void {
    const view = this.current;
    const image = event.target;
    if (!view || !(image instanceof HTMLImageElement)) return;
    const panel = this.shown.get(image.closest<HTMLElement>('.panel')?.dataset['panel'] ?? '');
    if (!panel) return;
    panel.grid ??= gridOf(panel.svg);
    const box = image.getBoundingClientRect();
    const t = Math.floor((event.clientX - box.left - panel.grid.x) / panel.grid.width);
    const unit = Math.floor((event.clientY - box.top - panel.grid.y) / panel.grid.height);
    if (t < 0 || t >= view.steps || unit < 0 || unit >= panel.rows) return;
    const value = panel.values[unit * view.steps + t]!;
    const where = panel.rows === 1 ? `t=${t}` : `unit ${unit}, t=${t}`;
    this.readout.textContent = `${TITLES[panel.name] ?? panel.name} · ${where}: ${value.toFixed(4)} · input ${view.input[t]!.toFixed(4)}`;
    Object.assign(this.readout.dataset, { panel: panel.name, unit: String(unit), t: String(t), value: String(value) });
  }
}
