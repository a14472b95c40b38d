/**
 * The playground page: reads the controls, talks to the training worker (worker.ts) and draws what
 * it posts. Nothing heavy runs here, so the page stays responsive while the worker trains.
 */
import './style.css';
import type { CellType, Nonlinearity, OptimizerName } from '../src/tasks/index.js';
import { CellView } from './cell-view.js';
import { ComparisonChart, GradientChart, LossChart, PredictionChart } from './charts.js';
import type { FromWorkerMessage, PlaygroundConfig, ToWorker } from './protocol.js';
import { MusicView } from './music-view.js';
import { InputDrawing } from './draw-input.js';
import { TextView } from './text-view.js';

const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`playground: the page has no #${id}`);
  return element as T;
};

const setText = (id: string, text: string): void => {
  byId(id).textContent = text;
};

const format = (value: number, digits = 4): string => (Number.isFinite(value) ? value.toPrecision(digits) : '–');

function showError(message: string): void {
  const box = byId('error');
  box.textContent = message;
  box.hidden = false;
}

/** The cell menu's 'rnn-relu' and 'rnn-sigmoid' are the RNN cell with relu or sigmoid units. */
function readConfig(): PlaygroundConfig {
  const number = (id: string): number => byId<HTMLInputElement>(id).valueAsNumber;
  const [cell, nonlinearity] = byId<HTMLSelectElement>('cell').value.split('-') as [CellType, Nonlinearity | undefined];
  return {
    dataset: byId<HTMLSelectElement>('dataset').value,
    cell,
    ...(nonlinearity ? { nonlinearity } : {}),
    hidden: number('hidden'),
    layers: number('layers'),
    seqLen: number('seq-len'),
    lr: number('lr'),
    optimizer: byId<HTMLSelectElement>('optimizer').value as OptimizerName,
    batch: 16,
    seed: 1,
  };
}

/** Shows a loaded file's settings in the controls (values the worker then validates). */
function writeConfig(config: PlaygroundConfig): void {
  const values: Record<string, unknown> = {
    dataset: config.dataset, cell: config.cell === 'rnn' && config.nonlinearity && config.nonlinearity !== 'tanh' ? `rnn-${config.nonlinearity}` : config.cell, hidden: config.hidden, layers: config.layers, 'seq-len': config.seqLen, lr: config.lr, optimizer: config.optimizer,
  };
  for (const [id, value] of Object.entries(values)) byId<HTMLInputElement | HTMLSelectElement>(id).value = String(value);
}

const predictionChart = new PredictionChart(byId('prediction-chart'));
const lossChart = new LossChart(byId('loss-chart'));
const gradientChart = new GradientChart(byId('gradient-chart'));
const comparisonChart = new ComparisonChart(byId('comparison-chart'));
const cellView = new CellView(byId('heatmaps'), byId('hover'));
const layer = (): number => Number(byId<HTMLSelectElement>('layer').value);
const drawing = new InputDrawing(byId<HTMLCanvasElement>('draw-input'), (input) => send({ type: 'inspect', layer: layer(), input }));
const textView = new TextView(
  { text: byId('text-view'), unit: byId<HTMLInputElement>('text-unit'), ranking: byId('unit-ranking'), places: byId('places'), readout: byId('text-readout'), scale: byId('text-scale') },
  (from, to) => send({ type: 'match', from, to, threshold: byId<HTMLInputElement>('text-threshold').valueAsNumber }),
);

const musicView = new MusicView({ roll: byId('piano-roll'), play: byId<HTMLButtonElement>('play'), download: byId<HTMLAnchorElement>('midi-download') });

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (message: ToWorker): void => worker.postMessage(message);

function setRunning(running: boolean): void {
  byId<HTMLButtonElement>('start').disabled = running;
  byId<HTMLButtonElement>('pause').disabled = !running;
}

/** What the status line's last figure is for each kind of model. */
const METRICS = { series: 'validation RMSE', text: 'validation bits/char', music: 'unigram NLL' } as const;

function generate(): void {
  const number = (id: string): number => byId<HTMLInputElement>(id).valueAsNumber;
  send({ type: 'generate', length: number('music-length'), temperature: number('music-temperature'), topK: number('music-top-k'), seed: number('music-seed') });
}

/** A comparison runs in the worker; its button is disabled until the result or an error arrives. */
let comparing = false;

function reset(): void {
  byId('error').hidden = true;
  lossChart.clear();
  send({ type: 'reset', config: readConfig() });
}

function fillSelect(select: HTMLSelectElement, values: readonly string[]): void {
  const chosen = select.value;
  select.replaceChildren(...values.map((value) => new Option(value, value, false, value === chosen)));
}

function receive(message: FromWorkerMessage): void {
  switch (message.type) {
    case 'ready': {
      setText('backend', message.backend);
      setText('threads', String(message.threads));
      if (!message.isolated) {
        const note = byId('isolation-note');
        note.textContent = 'This page is not cross-origin isolated (no COOP/COEP headers), so shared memory is unavailable: training runs single-threaded.';
        note.hidden = false;
      }
      fillSelect(byId<HTMLSelectElement>('dataset'), message.datasets);
      for (const id of ['start', 'step', 'reset', 'save', 'load', 'sample', 'generate', 'compare']) byId<HTMLButtonElement | HTMLInputElement>(id).disabled = false;
      reset();
      return;
    }
    case 'model':
      document.body.dataset['kind'] = message.kind;
      setText('val-metric', METRICS[message.kind]);
      // A new music model shows its first continuation at once.
      if (message.kind === 'music') generate();
      setText('parameters', String(message.parameters));
      byId('parameters').dataset['previousDisposed'] = String(message.previousDisposed);
      fillSelect(byId<HTMLSelectElement>('layer'), Array.from({ length: readConfig().layers }, (_, l) => String(l)));
      return;
    case 'progress':
      setText('step-count', String(message.step));
      setText('loss', format(message.loss));
      setText('steps-per-second', message.stepsPerSecond > 0 ? message.stepsPerSecond.toFixed(1) : '–');
      lossChart.add(message.step, message.loss);
      setRunning(message.running);
      return;
    case 'predictions':
      setText('val-loss', format(message.loss));
      setText('val-rmse', `${format(message.rmse)} (last value: ${format(message.rmseLast)})`);
      byId('val-rmse').dataset['rmse'] = String(message.rmse);
      byId('val-loss').dataset['step'] = String(message.step);
      byId('prediction-chart').dataset['forecast'] = JSON.stringify(message.forecast);
      byId('prediction-chart').dataset['forecastStep'] = String(message.forecastStep);
      setText('interval-key', `${Math.round(100 * message.coverage)}% interval`);
      predictionChart.update(message.time, message.target, message.prediction, { time: message.forecastTime, values: message.forecast, lower: message.lower, upper: message.upper });
      return;
    case 'inspect':
      cellView.show(message);
      drawing.show(message.input, message.prediction, message.drawn);
      setText('reference-error', `(op-by-op cells match the model's fused kernels to ${message.referenceError.toExponential(1)})`);
      byId('reference-error').dataset['value'] = String(message.referenceError);
      return;
    case 'text':
      setText('val-loss', format(message.loss));
      setText('val-rmse', format(message.bpc));
      byId('val-loss').dataset['step'] = String(message.step);
      byId('val-loss').dataset['value'] = String(message.loss);
      textView.show(message);
      return;
    case 'validation':
      setText('val-loss', format(message.loss));
      setText('val-rmse', format(message.unigram));
      byId('val-loss').dataset['step'] = String(message.step);
      byId('val-loss').dataset['value'] = String(message.loss);
      return;
    case 'music':
      musicView.show(message);
      return;
    case 'comparing':
      setText('comparison-status', `training the ${message.cell.toUpperCase()} (${message.done + 1} of ${message.of})…`);
      return;
    case 'comparison': {
      const curves = message.cells.flatMap((c) => c.curves);
      comparisonChart.update(curves);
      const describe = (c: (typeof message.cells)[number]): string => {
        const trained = c.curves.find((curve) => curve.stage === 'trained');
        return `${c.cell.toUpperCase()} (hidden ${c.hidden}, ${c.parameters} parameters): test MSE ${format(trained?.trainedMse ?? NaN, 3)}, ` +
          `the first step's gradient ${format(trained?.decadesLost ?? NaN, 3)} decades below the last's`;
      };
      setText('comparison-status', `${message.trainSteps} steps at most on sequences of ${message.trainLength}, measured over ${message.length}. ${message.cells.map(describe).join('; ')}.`);
      comparing = false;
      byId<HTMLButtonElement>('compare').disabled = false;
      const host = byId('comparison-chart');
      host.dataset['curves'] = JSON.stringify(message.cells.map((c) => ({
        cell: c.cell, hidden: c.hidden, parameters: c.parameters,
        stages: c.curves.map((curve) => ({ stage: curve.stage, decadesLost: curve.decadesLost, trainedMse: curve.trainedMse ?? null, length: curve.norms.length, last: curve.norms[curve.norms.length - 1] })),
      })));
      return;
    }
    case 'matches':
      textView.showMatches(message);
      return;
    case 'sampled': {
      const output = byId('sample-output');
      output.textContent = message.text;
      output.dataset['prime'] = message.prime;
      return;
    }
    case 'gradients': {
      gradientChart.update(message.norms);
      const host = byId('gradient-chart');
      host.dataset['step'] = String(message.step);
      host.dataset['steps'] = String(message.steps);
      host.dataset['first'] = message.norms.map((layer) => layer[0]).join(',');
      host.dataset['last'] = message.norms.map((layer) => layer[layer.length - 1]).join(',');
      return;
    }
    case 'saved': {
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([message.bytes.slice()], { type: 'application/octet-stream' }));
      link.download = message.name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      return;
    }
    case 'config':
      writeConfig(message.config);
      lossChart.clear();
      return;
    case 'error':
      setRunning(false);
      if (comparing) {
        comparing = false;
        byId<HTMLButtonElement>('compare').disabled = false;
      }
      showError(message.message);
      return;
  }
}

/** The element whose view each message redraws: it records the generation of the model it shows. */
const SHOWN_BY: Partial<Record<FromWorkerMessage['type'], string>> = {
  model: 'parameters', predictions: 'prediction-chart', inspect: 'heatmaps', gradients: 'gradient-chart', text: 'text-view', music: 'piano-roll',
};

worker.onmessage = (event: MessageEvent<FromWorkerMessage>) => {
  try {
    receive(event.data);
    const shown = SHOWN_BY[event.data.type];
    if (shown) byId(shown).dataset['generation'] = String(event.data.generation);
  } catch (error) {
    showError(`the page could not draw the worker's '${event.data.type}' message: ${error instanceof Error ? error.message : String(error)}`);
  }
};
// An error that escapes the worker's own handlers ends it (or it never started): nothing on the page
// can work any more, so the controls are disabled and the message says what to do.
worker.onerror = (event) => {
  event.preventDefault();
  for (const id of ['start', 'pause', 'step', 'reset', 'save', 'load', 'sample', 'generate', 'play', 'compare']) byId<HTMLButtonElement | HTMLInputElement>(id).disabled = true;
  showError(`the training worker failed: ${event.message || 'it could not be loaded'} (reload the page to start again)`);
};
worker.onmessageerror = () => showError('the training worker sent a message the page could not read');

// Anything that escapes a handler (a chart drawing in a later frame) still reaches the reader.
window.addEventListener('error', (event) => showError(`the page failed: ${event.message}`));
window.addEventListener('unhandledrejection', (event) => showError(`the page failed: ${String(event.reason)}`));

byId('start').addEventListener('click', () => {
  setRunning(true);
  send({ type: 'start' });
});
byId('pause').addEventListener('click', () => send({ type: 'pause' }));
byId('step').addEventListener('click', () => send({ type: 'step' }));
byId('reset').addEventListener('click', reset);
byId('save').addEventListener('click', () => send({ type: 'save' }));
/**
 * One weights file the page saved, or a CLI run folder's config.json with its checkpoint (the best
 * one when both are there, as the CLI's predict chooses).
 */
async function loadFiles(files: File[]): Promise<ToWorker> {
  const config = files.find((file) => file.name.endsWith('.json'));
  if (!config) {
    if (files.length !== 1) throw new Error(`choose one weights file, or a run folder's config.json with its checkpoint; received ${files.length} files`);
    return { type: 'load', name: files[0]!.name, bytes: new Uint8Array(await files[0]!.arrayBuffer()) };
  }
  const checkpoint = files.find((file) => file.name === 'best.safetensors') ?? files.find((file) => file.name === 'latest.safetensors') ?? files.find((file) => file.name.endsWith('.safetensors'));
  if (!checkpoint) throw new Error(`${config.name} came without a checkpoint: choose it together with the run folder's best.safetensors (or latest.safetensors)`);
  return { type: 'load-run', configName: config.name, config: await config.text(), checkpointName: checkpoint.name, checkpoint: new Uint8Array(await checkpoint.arrayBuffer()) };
}

byId<HTMLInputElement>('load').addEventListener('change', (event) => {
  const input = event.target as HTMLInputElement;
  const files = Array.from(input.files ?? []);
  if (files.length === 0) return;
  byId('error').hidden = true;
  loadFiles(files).then(send, (error: unknown) => showError(error instanceof Error ? error.message : String(error)));
  input.value = '';
});
byId('layer').addEventListener('change', () => send({ type: 'inspect', layer: layer() }));
byId('undraw').addEventListener('click', () => send({ type: 'inspect', layer: layer(), input: null }));
byId('sample').addEventListener('click', () => {
  byId('error').hidden = true;
  const number = (id: string): number => byId<HTMLInputElement>(id).valueAsNumber;
  send({ type: 'sample', prime: byId<HTMLInputElement>('prime').value, length: number('sample-length'), temperature: number('temperature'), topK: number('top-k'), seed: number('sample-seed') });
});
byId('generate').addEventListener('click', () => {
  byId('error').hidden = true;
  generate();
});
byId('compare').addEventListener('click', () => {
  byId('error').hidden = true;
  comparing = true;
  byId<HTMLButtonElement>('compare').disabled = true;
  setRunning(false);
  send({ type: 'compare' });
});
