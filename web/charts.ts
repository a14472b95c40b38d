/**
 * The live line charts, drawn with uPlot on canvas: cheap to redraw several times a second while
 * training, which keeps the page's main thread free.
 */
import uPlot from 'uplot';

export const TARGET_COLOR = '#d62728';
export const PREDICTION_COLOR = '#1f77b4';
export const FORECAST_COLOR = '#2ca02c';
const LOSS_COLOR = '#444444';
const LAYER_COLORS = ['#9467bd', '#2ca02c', '#ff7f0e', '#8c564b'];

const WIDTH = 560;
const HEIGHT = 260;

function line(label: string, stroke: string): uPlot.Series {
  return { label, stroke, width: 1.5, points: { show: false } };
}

/** The forecast's interval: an opaque light green, so the band reads the same over any background. */
export const INTERVAL_COLOR = '#cde8cd';

/**
 * Prediction (blue) over target (red) against time, then the forecast (green, dashed) past the end,
 * in its interval (a light green band between the lower and upper bounds).
 */
export class PredictionChart {
  private readonly plot: uPlot;
  constructor(private readonly host: HTMLElement) {
    const bound = (label: string): uPlot.Series => ({ ...line(label, INTERVAL_COLOR), width: 1 });
    // The bounds come first: uPlot fills a band when it draws its series, so the lines drawn after lie on it.
    const series = [{}, bound('upper'), bound('lower'), line('target', TARGET_COLOR), line('prediction', PREDICTION_COLOR), { ...line('forecast', FORECAST_COLOR), dash: [6, 4] }];
    const bands: uPlot.Band[] = [{ series: [1, 2], fill: INTERVAL_COLOR }];
    this.plot = new uPlot({ width: WIDTH, height: HEIGHT, scales: { x: { time: false } }, legend: { show: false }, series, bands }, [[], [], [], [], [], []], host);
  }
  update(time: number[], target: number[], prediction: number[], forecast: { time: number[]; values: number[]; lower: number[]; upper: number[] }): void {
    // One x axis for all: the one-step lines stop at the end of the data, the forecast starts there.
    const gap = (n: number): null[] => new Array<null>(n).fill(null);
    const last = prediction.length - 1;
    const n = forecast.values.length;
    this.plot.setData([
      [...time, ...forecast.time],
      [...gap(time.length), ...forecast.upper],
      [...gap(time.length), ...forecast.lower],
      [...target, ...gap(n)],
      [...prediction, ...gap(n)],
      [...gap(last), prediction[last] ?? null, ...forecast.values],
    ]);
    // What the band is drawn from, read back from the chart's own data (for tests and the curious).
    const drawn = (index: number): number[] => (this.plot.data[index]!.slice(time.length) as number[]);
    this.host.dataset['band'] = JSON.stringify({ upper: drawn(1), lower: drawn(2) });
  }
}

/** Points the loss curve keeps: past this, every other point is dropped and the stride doubles. */
const MAX_LOSS_POINTS = 2000;

/** Training loss per step, on a log scale, thinned so a long run costs the same to redraw. */
export class LossChart {
  private stride = 1;
  private readonly plot: uPlot;
  private readonly steps: number[] = [];
  private readonly losses: number[] = [];
  constructor(host: HTMLElement) {
    this.plot = new uPlot(
      { width: WIDTH, height: HEIGHT, scales: { x: { time: false }, y: { distr: 3 } }, legend: { show: false }, series: [{}, line('loss', LOSS_COLOR)] },
      [[], []],
      host,
    );
  }
  clear(): void {
    this.steps.length = 0;
    this.losses.length = 0;
    this.stride = 1;
    this.plot.setData([[], []]);
  }
  add(step: number, loss: number): void {
    if (!(loss > 0) || step < (this.steps[this.steps.length - 1] ?? 0) + this.stride) return;
    if (this.steps.length >= MAX_LOSS_POINTS) {
      for (const list of [this.steps, this.losses]) {
        let kept = 0;
        for (let k = 0; k < list.length; k += 2) list[kept++] = list[k]!;
        list.length = kept;
      }
      this.stride *= 2;
    }
    this.steps.push(step);
    this.losses.push(loss);
    this.plot.setData([this.steps, this.losses]);
  }
}

/**
 * One line per layer of log10 ‖dLoss/dh_t‖ against t. The logarithm is taken here rather than by a
 * log scale: vanishing gradients span more decades (1e-40 is common) than uPlot's log axes handle.
 * A norm of exactly zero (underflow) is left out.
 */
export class GradientChart {
  private plot: uPlot | null = null;
  private layers = 0;
  constructor(private readonly host: HTMLElement) {}
  update(norms: number[][]): void {
    if (!this.plot || this.layers !== norms.length) {
      this.plot?.destroy();
      this.layers = norms.length;
      const series = [{}, ...norms.map((_, l) => line(`layer ${l}`, LAYER_COLORS[l % LAYER_COLORS.length]!))];
      const axes: uPlot.Axis[] = [{ label: 'time step t' }, { label: 'log10 ‖∂loss/∂h_t‖' }];
      this.plot = new uPlot({ width: WIDTH * 2, height: HEIGHT, scales: { x: { time: false } }, axes, series }, [[], ...norms.map(() => [])], this.host);
    }
    const steps = norms[0]?.map((_, t) => t) ?? [];
    this.plot.setData([steps, ...norms.map((layer) => layer.map((v) => (v > 0 ? Math.log10(v) : null)))]);
  }
}

/** The compared cells' colours: the RNN orange, the LSTM blue; after training solid, at initialisation dashed. */
export const COMPARISON_COLORS: Record<string, string> = { rnn: '#ff7f0e', lstm: '#1f77b4' };

/** log10 ‖dLoss/dh_t‖ against t for each compared cell and stage (zeros, underflowed, left out). */
export class ComparisonChart {
  private plot: uPlot | null = null;
  constructor(private readonly host: HTMLElement) {}
  update(curves: { cell: string; stage: string; norms: number[] }[]): void {
    this.plot?.destroy();
    const series = [{}, ...curves.map(({ cell, stage }) => ({ ...line(`${cell} (${stage})`, COMPARISON_COLORS[cell] ?? '#444444'), ...(stage === 'trained' ? {} : { dash: [6, 4] }) }))];
    const axes: uPlot.Axis[] = [{ label: 'time step t' }, { label: 'log10 ‖∂loss/∂h_t‖' }];
    const steps = curves[0]?.norms.map((_, t) => t) ?? [];
    const data = [steps, ...curves.map(({ norms }) => norms.map((v) => (v > 0 ? Math.log10(v) : null)))];
    this.plot = new uPlot({ width: WIDTH * 2, height: HEIGHT, scales: { x: { time: false } }, axes, series }, data as uPlot.AlignedData, this.host);
  }
}
