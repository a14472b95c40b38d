/**
 * Drawing an input for the cell view: the input (red) and the model's prediction of the next value
 * after each step (blue) on a canvas; dragging across it redraws the input under the pointer, and
 * releasing sends the drawn input to the worker, which re-runs the cell view and the prediction on it.
 * Step t sits above column t of the heatmaps below: the canvas is as wide as a panel and takes its
 * time axis from the panels' layout (heatmaps.ts).
 */
import { PREDICTION_COLOR, TARGET_COLOR } from './charts.js';
import { PANEL_WIDTH, timeAxis } from './heatmaps.js';

/** Room above and below the drawn range, in canvas pixels. */
const MARGIN = 8;

export class InputDrawing {
  private values: number[] = [];
  private prediction: number[] = [];
  /** The value range the canvas spans, fixed while drawing so a stroke does not rescale under the pointer. */
  private range: [number, number] = [-1, 1];
  private last: { step: number; value: number } | null = null;
  private axis = timeAxis(1);

  constructor(private readonly canvas: HTMLCanvasElement, private readonly onDrawn: (values: number[]) => void) {
    canvas.width = PANEL_WIDTH;
    canvas.addEventListener('pointerdown', (event) => {
      if (this.values.length === 0) return;
      canvas.setPointerCapture(event.pointerId);
      this.last = null;
      this.draw(event);
    });
    canvas.addEventListener('pointermove', (event) => {
      if (canvas.hasPointerCapture(event.pointerId)) this.draw(event);
    });
    canvas.addEventListener('pointerup', (event) => {
      if (!canvas.hasPointerCapture(event.pointerId)) return;
      canvas.releasePointerCapture(event.pointerId);
      this.last = null;
      this.onDrawn([...this.values]);
    });
    // A stroke the browser cancels ends too, so live refreshes show again.
    canvas.addEventListener('lostpointercapture', () => (this.last = null));
  }

  /**
   * The input the cell view shows and the model's predictions on it. While a stroke is being drawn,
   * the cell view's live refreshes (of the input before the stroke) leave the canvas alone.
   */
  show(values: number[], prediction: number[], drawn: boolean): void {
    if (this.last !== null) return;
    this.values = [...values];
    this.axis = timeAxis(values.length);
    this.prediction = prediction;
    // The data's range with room above and below to draw past it; kept while the user is drawing.
    if (!drawn) {
      const lo = Math.min(...values);
      const hi = Math.max(...values);
      const pad = 0.5 * (hi - lo || 1);
      this.range = [lo - pad, hi + pad];
    }
    Object.assign(this.canvas.dataset, { drawn: String(drawn), low: String(this.range[0]), high: String(this.range[1]), prediction: JSON.stringify(prediction) });
    this.render();
  }

  /** The centre of column t of the heatmaps. */
  private x(t: number): number {
    return this.axis.left + (t + 0.5) * this.axis.width;
  }

  private y(value: number): number {
    const [lo, hi] = this.range;
    return MARGIN + ((hi - value) / (hi - lo)) * (this.canvas.height - 2 * MARGIN);
  }

  /** Sets the step under the pointer, and those a fast stroke skipped since the previous position. */
  private draw(event: PointerEvent): void {
    const box = this.canvas.getBoundingClientRect();
    const px = ((event.clientX - box.left) * this.canvas.width) / box.width;
    const py = ((event.clientY - box.top) * this.canvas.height) / box.height;
    const n = this.values.length;
    const t = Math.floor((px - this.axis.left) / this.axis.width);
    const [lo, hi] = this.range;
    const value = hi - ((py - MARGIN) / (this.canvas.height - 2 * MARGIN)) * (hi - lo);
    const step = Math.min(n - 1, Math.max(0, t));
    const clamped = Math.min(hi, Math.max(lo, value));
    // The steps a fast stroke skipped lie on the straight line from the previous point.
    const previous = this.last;
    if (previous !== null && previous.step !== step) {
      const direction = Math.sign(step - previous.step);
      for (let k = previous.step + direction; k !== step; k += direction) {
        this.values[k] = previous.value + ((clamped - previous.value) * (k - previous.step)) / (step - previous.step);
      }
    }
    this.values[step] = clamped;
    this.last = { step, value: clamped };
    this.render();
  }

  private render(): void {
    const context = this.canvas.getContext('2d');
    if (!context) return;
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    context.strokeStyle = '#ddd';
    context.beginPath();
    context.moveTo(this.x(-0.5), this.y(0));
    context.lineTo(this.x(this.values.length - 0.5), this.y(0));
    context.stroke();
    const line = (values: number[], shift: number, color: string): void => {
      context.strokeStyle = color;
      context.lineWidth = 2;
      context.beginPath();
      values.forEach((v, t) => (t === 0 ? context.moveTo(this.x(t + shift), this.y(v)) : context.lineTo(this.x(t + shift), this.y(v))));
      context.stroke();
    };
    line(this.values, 0, TARGET_COLOR);
    // The prediction after step t is of the value at t + 1: drawn one step to the right.
    line(this.prediction.slice(0, -1), 1, PREDICTION_COLOR);
  }
}
