/**
 * The "inside the cell" view: one heatmap per gate and state below the input, repainted live while
 * the model trains. Each panel is the CLI's heatmap (src/viz) split in two: its frame (axes, labels,
 * title, colour bar) is an image of the SVG that heatmapFrame draws, made again only when the panels'
 * shape changes, and its cells are a canvas of one pixel per unit and step, scaled up without
 * smoothing over the frame's cell box and repainted from the values with heatmapColor, the heatmap's
 * own colours. Swapping in SVG images of thousands of rects instead held the main thread for
 * 190-520 ms per refresh; a repaint is a putImageData of a few thousand pixels.
 */
import { formatTick, heatmapColor, heatmapFrame, heatmapLayout, heatmapRange, type HeatmapLayout, type HeatmapOptions } from '../src/viz/index.js';
import { PANEL_WIDTH, TITLES, panelOptions } from './heatmaps.js';
import type { FromWorker } from './protocol.js';

type Inspection = Extract<FromWorker, { type: 'inspect' }>;

interface ShownPanel {
  name: string;
  rows: number;
  options: HeatmapOptions;
  /** What the frame depends on: a new key, a new frame. */
  key: string;
  values: number[];
  element: HTMLElement;
  canvas: HTMLCanvasElement;
  maxLabel: SVGTextElement;
  minLabel: SVGTextElement;
}

const SVG = 'http://www.w3.org/2000/svg';
const percent = (part: number, whole: number): string => `${(100 * part) / whole}%`;

/** The frame as an image, the cells' canvas over its cell box, and the range's labels over its colour bar. */
function panelElement(name: string, options: HeatmapOptions, layout: HeatmapLayout, url: string): Pick<ShownPanel, 'element' | 'canvas' | 'maxLabel' | 'minLabel'> {
  const width = options.width ?? PANEL_WIDTH;
  const height = options.height!;
  const element = document.createElement('div');
  element.className = 'panel';
  element.style.width = `${width}px`;
  Object.assign(element.dataset, { panel: name, rows: String(options.rows), cols: String(options.cols), colorMap: options.colorMap ?? 'viridis' });
  const image = new Image();
  image.src = url;
  image.alt = TITLES[name] ?? name;
  const canvas = document.createElement('canvas');
  [canvas.width, canvas.height] = [layout.cols, layout.rows];
  const { box } = layout;
  Object.assign(canvas.style, {
    left: percent(box.left, width), top: percent(box.top, height),
    width: percent(box.right - box.left, width), height: percent(box.bottom - box.top, height),
  });
  // The range's labels at the heatmap's own places, in an overlay of the frame's coordinates.
  const overlay = document.createElementNS(SVG, 'svg');
  overlay.setAttribute('viewBox', `0 0 ${width} ${height}`);
  overlay.setAttribute('class', 'range');
  // The heatmap's document sets these on its root.
  overlay.setAttribute('font-family', 'system-ui, sans-serif');
  overlay.setAttribute('font-size', '12');
  const label = (y: number): SVGTextElement => {
    const text = document.createElementNS(SVG, 'text');
    text.setAttribute('x', String(layout.rangeLabels.x));
    text.setAttribute('y', String(y));
    overlay.append(text);
    return text;
  };
  const maxLabel = label(layout.rangeLabels.maxY);
  const minLabel = label(layout.rangeLabels.minY);
  element.append(image, canvas, overlay);
  return { element, canvas, maxLabel, minLabel };
}

export class CellView {
  private current: Inspection | null = null;
  private shown: ShownPanel[] = [];
  private urls: string[] = [];
  /** The cell under the pointer, read again when the values under it change. */
  private pointed: { panel: ShownPanel; unit: number; t: number } | null = null;

  constructor(private readonly host: HTMLElement, private readonly readout: HTMLElement) {
    host.addEventListener('mousemove', (event) => this.hover(event));
  }

  show(view: Inspection): void {
    this.current = view;
    const wanted = [
      { name: 'input', rows: 1, values: view.input, range: null },
      ...view.panels.map((p) => ({ name: p.name, rows: view.hidden, values: p.values, range: p.range })),
    ].map((p) => ({ ...p, options: panelOptions(p, p.rows, view.steps), key: JSON.stringify([p.name, p.rows, view.steps, p.range]) }));
    if (wanted.map((p) => p.key).join() !== this.shown.map((p) => p.key).join()) this.rebuild(wanted);
    wanted.forEach((p, k) => this.paint(this.shown[k]!, p.values));
    Object.assign(this.host.dataset, { step: String(view.step), layer: String(view.layer) });
    if (this.pointed) this.read(this.pointed.panel, this.pointed.unit, this.pointed.t);
  }

  private rebuild(panels: { name: string; rows: number; options: HeatmapOptions; key: string }[]): void {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
    this.pointed = null;
    this.shown = panels.map(({ name, rows, options, key }) => {
      const url = URL.createObjectURL(new Blob([heatmapFrame(options)], { type: 'image/svg+xml' }));
      this.urls.push(url);
      return { name, rows, options, key, values: [], ...panelElement(name, options, heatmapLayout(options), url) };
    });
    this.host.replaceChildren(...this.shown.map((p) => p.element));
  }

  private paint(panel: ShownPanel, values: number[]): void {
    panel.values = values;
    const range = heatmapRange(values, panel.options);
    const color = heatmapColor(panel.options.colorMap ?? 'viridis', range);
    const context = panel.canvas.getContext('2d');
    if (!context) return;
    const image = context.createImageData(panel.canvas.width, panel.canvas.height);
    const pixels = image.data;
    for (let k = 0; k < values.length; k++) {
      const [r, g, b] = color(values[k]!);
      pixels[4 * k] = r;
      pixels[4 * k + 1] = g;
      pixels[4 * k + 2] = b;
      pixels[4 * k + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    panel.maxLabel.textContent = formatTick(range[1]);
    panel.minLabel.textContent = formatTick(range[0]);
    Object.assign(panel.element.dataset, { min: String(range[0]), max: String(range[1]) });
  }

  private hover(event: MouseEvent): void {
    const panel = this.shown.find((p) => p.canvas === event.target);
    if (!panel || !this.current) return;
    const box = panel.canvas.getBoundingClientRect();
    const t = Math.floor(((event.clientX - box.left) / box.width) * panel.canvas.width);
    const unit = Math.floor(((event.clientY - box.top) / box.height) * panel.canvas.height);
    if (t < 0 || t >= panel.canvas.width || unit < 0 || unit >= panel.rows) return;
    this.pointed = { panel, unit, t };
    this.read(panel, unit, t);
  }

  private read(panel: ShownPanel, unit: number, t: number): void {
    const view = this.current!;
    const value = panel.values[unit * view.steps + t]!;
    const where = panel.rows === 1 ? `t=${t}` : `unit ${unit}, t=${t}`;
    this.readout.textContent = `${TITLES[panel.name] ?? panel.name} · ${where}: ${value.toFixed(4)} · input ${view.input[t]!.toFixed(4)}`;
    Object.assign(this.readout.dataset, { panel: panel.name, unit: String(unit), t: String(t), value: String(value), step: String(view.step) });
  }
}
