/**
 * The playground's training worker: builds a series or text task from src/tasks, trains it with the
 * tasks' own loop, and posts what the page draws. Every failure is posted as an 'error' message, so the
 * page can show it; the worker never dies silently.
 */
import { ZScore } from '../src/data/index.js';
import { decodeCheckpoint, loadSafetensors, readSafetensorsMetadata, saveSafetensors } from '../src/io/index.js';
import type { Tensor } from '../src/tensor/index.js';
import { getBackend, initWasm, setThreads } from '../src/kernels/index.js';
import { createSeriesTask, forecastIntervals, forecastSeries, seriesModel, train, trainStep, type MusicTask, type SeriesTask, type TextTask } from '../src/tasks/index.js';
import { checkInteger } from '../src/tasks/checks.js';
import { DATASETS, HELD_DATA, datasetPieces, datasetText, fetchTexts, loadDataset, midiPieces, runText } from './datasets.js';
import { cliRunSettings } from './cli-run.js';
import { cellView, gradientNorms, nextValuePredictions } from './inspect.js';
import type { FromWorker, FromWorkerMessage, PlaygroundConfig, ToWorker } from './protocol.js';
import { modelSettings, trainingSettings } from './settings.js';
import { buildMusicTask, generateContinuation } from './music-task.js';
import { compareCell, COMPARISON, type ComparedCell } from './comparison.js';
import { buildTextTask, matchSpan, sampleText, textView, type TextView } from './text-task.js';

interface WorkerScope {
  postMessage(message: FromWorkerMessage): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  addEventListener(type: 'unhandledrejection', listener: (event: PromiseRejectionEvent) => void): void;
}
const scope = self as unknown as WorkerScope;
/** Models built so far: the page reads which model each message is about. */
let generation = 0;
const post = (message: FromWorker): void => scope.postMessage({ ...message, generation });

/** Steps of the window the cell view shows, and of the long input the gradient plot runs over. */
const INSPECT_STEPS = 80;
const GRADIENT_STEPS = 300;
/**
 * How often the running loop refreshes the views, in milliseconds; rarer redraws leave the page's
 * main thread more room on a busy machine. The gradients (an op-by-op pass over 300 steps of the
 * reference cells, pausing training while it runs) refresh the least often. The cell view (the gate
 * trace over 80 steps; the page repaints a canvas per panel, cell-view.ts) refreshes half a period
 * after the predictions, so the page never draws both in one frame.
 */
const PROGRESS_EVERY = 250;
const PREDICTIONS_EVERY = 1000;
const CELL_VIEW_EVERY = 1000;
const GRADIENTS_EVERY = 3000;

type PageTask = SeriesTask | TextTask | MusicTask;
let task: PageTask | null = null;
/** The text view of the current step, kept for span searches (recomputed once the model has trained on). */
let shownText: { step: number; view: TextView } | null = null;
/** The settings of the current model (saved with its weights; the forecast needs its window length). */
let config: PlaygroundConfig | null = null;
/** The key of a saved weights file's metadata that holds the playground settings. */
const CONFIG_KEY = 'recurrent.playground';
let step = 0;
let running = false;
let loop: Promise<void> | null = null;
let inspectLayer = 0;
/** An input the user drew for the cell view (series scale), until Reset or 'back to the data'. */
let drawnInput: number[] | null = null;
let rate = { since: 0, steps: 0, perSecond: 0 };

function requireTask(): PageTask {
  if (!task) throw new Error('no model yet: press Reset to build one');
  return task;
}

function requireSeries(what: string): SeriesTask {
  const current = requireTask();
  if (current.name !== 'series') throw new Error(`${what} needs a series; the current model reads ${current.name}`);
  return current;
}

function requireText(what: string): TextTask {
  const current = requireTask();
  if (current.name !== 'text') throw new Error(`${what} needs a text model; the current model reads ${current.name === 'series' ? 'a series' : 'music'}`);
  return current;
}

function requireMusic(what: string): MusicTask {
  const current = requireTask();
  if (current.name !== 'music') throw new Error(`${what} needs a music model; the current model reads ${current.name === 'series' ? 'a series' : 'text'}`);
  return current;
}

function progress(loss: number): void {
  const now = performance.now();
  if (now - rate.since > 1000) {
    rate = { since: now, steps: step, perSecond: rate.since > 0 ? ((step - rate.steps) * 1000) / (now - rate.since) : 0 };
  }
  post({ type: 'progress', step, loss, stepsPerSecond: rate.perSecond, running });
}

/** The share of future values the forecast's interval should hold: `recurrent predict series`' default. */
const FORECAST_COVERAGE = 0.8;

type Forecast = Pick<Extract<FromWorker, { type: 'predictions' }>, 'forecastTime' | 'forecast' | 'lower' | 'upper' | 'coverage' | 'forecastStep'>;

/**
 * Two seasons (at most 200 steps) forecast past the end of the data the model may see, with the
 * interval `recurrent predict series` gives (forecastIntervals: the model's own k-step errors from
 * earlier points of that data).
 */
function forecast(current: SeriesTask): Forecast {
  const { data, summary } = current;
  const end = summary.testIndex ?? data.values.length;
  const horizon = Math.min(200, 2 * Math.max(1, Math.round(data.frequency)));
  const seen = { ...data, values: data.values.subarray(0, end), time: data.time.subarray(0, end) };
  const m = seriesModel(current.model, summary, config!.seqLen);
  const values = forecastSeries(m, seen, horizon);
  const { lower, upper } = forecastIntervals(m, seen, values, FORECAST_COVERAGE);
  const last = data.time[end - 1]!;
  const spacing = end > 1 ? last - data.time[end - 2]! : 1;
  return {
    forecastTime: Array.from(values, (_, k) => last + (k + 1) * spacing),
    forecast: Array.from(values),
    lower: Array.from(lower),
    upper: Array.from(upper),
    coverage: FORECAST_COVERAGE,
    forecastStep: step,
  };
}

/**
 * The interval costs a forecast from each of 40 earlier points: a few tens of milliseconds for the
 * page's small models, seconds for the largest settings. While training runs, a forecast is
 * recomputed only once this many times its own cost has passed since the last, so it never takes
 * more than about a tenth of the worker's time; paused, it is always the current model's.
 */
const FORECAST_COST_SHARE = 10;
let lastForecast: { at: number; cost: number; value: Forecast } | null = null;

function currentForecast(current: SeriesTask, live: boolean): Forecast {
  const now = performance.now();
  if (live && lastForecast && now - lastForecast.at < FORECAST_COST_SHARE * lastForecast.cost) return lastForecast.value;
  const value = forecast(current);
  const done = performance.now();
  lastForecast = { at: done, cost: done - now, value };
  return value;
}

function postPredictions(current: SeriesTask, live: boolean): void {
  const p = current.validationPredictions();
  const evaluation = current.evaluate();
  post({
    type: 'predictions',
    step,
    time: Array.from(p.time),
    target: Array.from(p.target),
    prediction: Array.from(p.prediction),
    ...currentForecast(current, live),
    loss: evaluation.loss,
    rmse: evaluation.metrics['rmse'] ?? NaN,
    rmseLast: evaluation.metrics['rmse_last'] ?? NaN,
  });
}

/** The z-scaled series the model reads, and where its validation part starts. */
function scaled(current: SeriesTask): { z: Float32Array; from: number; end: number } {
  const { summary, data } = current;
  const z = ZScore.fromJSON(summary.normalization).apply(data.values);
  return { z, from: summary.splitIndex, end: summary.testIndex ?? data.values.length };
}

/** The input the cell view reads: the one the user drew, or a validation window. */
function inspectedInput(current: SeriesTask): number[] {
  if (drawnInput) return drawnInput;
  const { from, end } = scaled(current);
  const start = Math.max(0, Math.min(from, end - INSPECT_STEPS));
  return Array.from(current.data.values.subarray(start, Math.min(end, start + INSPECT_STEPS)));
}

function checkDrawn(input: unknown): number[] {
  if (!Array.isArray(input) || input.length < 2 || input.length > 1000 || !input.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new Error(`a drawn input must be 2 to 1000 finite numbers, received ${Array.isArray(input) ? `${input.length} values` : String(input)}`);
  }
  return input as number[];
}

function postCellView(current: SeriesTask): void {
  const { hiddenSize, numLayers } = current.model.config;
  const zscore = ZScore.fromJSON(current.summary.normalization);
  const input = inspectedInput(current);
  const window = zscore.apply(Float32Array.from(input));
  const layer = Math.min(inspectLayer, numLayers - 1);
  const { panels, referenceError } = cellView(current.model, window, layer);
  const prediction = Array.from(zscore.invert(nextValuePredictions(current.model, window, current.summary.target)));
  post({ type: 'inspect', step, layer, layers: numLayers, hidden: hiddenSize, steps: window.length, referenceError, input, prediction, drawn: drawnInput !== null, panels });
}

function postInsight(current: SeriesTask): void {
  postCellView(current);
  postGradients(current);
}

function postGradients(current: SeriesTask): void {
  const { z, end } = scaled(current);
  const long = Math.min(GRADIENT_STEPS, end - 1);
  const norms = gradientNorms(current.model, z.slice(end - 1 - long, end - 1), z[end - 1]!);
  post({ type: 'gradients', step, steps: long, norms });
}

function currentTextView(current: TextTask): TextView {
  if (shownText?.step !== step) shownText = { step, view: textView(current) };
  return shownText.view;
}

function postText(current: TextTask): void {
  const { chars, activations } = currentTextView(current);
  const evaluation = current.evaluate();
  post({
    type: 'text', step, chars, units: activations.units, values: Array.from(activations.values),
    loss: evaluation.loss, bpc: evaluation.metrics['bpc'] ?? NaN,
  });
}

/** The views that change as the model learns, cheap enough to refresh while it trains. */
function postLive(current: PageTask, live = false): void {
  if (current.name === 'series') postPredictions(current, live);
  else if (current.name === 'text') postText(current);
  else {
    const { loss, metrics } = current.evaluate();
    post({ type: 'validation', step, loss, unigram: metrics['nll_unigram'] ?? NaN });
  }
}

function postAll(current: PageTask, loss: number): void {
  progress(loss);
  postLive(current);
  if (current.name === 'series') postInsight(current);
}

async function pause(): Promise<void> {
  running = false;
  await loop;
}

/**
 * The page's own bounds, inside the tasks' wider ones: a model this page can train live in a few
 * seconds, and no setting that would make the worker allocate for minutes.
 */
function checkPageLimits(settings: PlaygroundConfig): void {
  if (typeof settings !== 'object' || settings === null) throw new Error(`settings must be an object, received ${String(settings)}`);
  checkInteger('hidden', settings.hidden, 1, 256);
  checkInteger('layers', settings.layers, 1, 4);
  checkInteger('seq-len', settings.seqLen, 2, 200);
}

function buildTask(settings: PlaygroundConfig): PageTask {
  // A CLI text run names its own files (fetched by reset); the page's text datasets are one novel each.
  const text = settings.textFiles ? runText(settings.textFiles) : datasetText(settings.dataset);
  if (text !== undefined) return buildTextTask(settings, text, settings.textFiles?.join(' + ') ?? settings.dataset);
  // A CLI music run names its own files; the page's music sets train on theirs.
  const pieces = settings.musicFiles ? midiPieces(settings.musicFiles) : datasetPieces(settings.dataset);
  if (pieces !== undefined) return buildMusicTask(settings, pieces);
  return createSeriesTask(
    {
      training: trainingSettings(settings, 0.2),
      model: modelSettings(settings),
      target: settings.target ?? 'level',
      ...(settings.normalization ? { normalization: settings.normalization } : {}),
    },
    loadDataset(settings.dataset),
  );
}

function disposeTask(old: PageTask): void {
  old.model.dispose();
  (old.optimizer as { dispose?: () => void }).dispose?.();
}

/**
 * Builds a new model, with `weights` loaded into it when given, and only then disposes the old one:
 * settings the tasks refuse leave the page with the model it had (and its settings back in the controls).
 */
async function reset(settings: PlaygroundConfig, weights?: ReturnType<typeof loadSafetensors>): Promise<void> {
  await pause();
  let built: PageTask;
  try {
    checkPageLimits(settings);
    await fetchTexts(settings.textFiles ?? []);
    built = buildTask(settings);
    if (weights) {
      try {
        built.model.loadStateDict(weights);
      } catch (error) {
        disposeTask(built);
        throw error;
      }
    }
  } catch (error) {
    if (task && config) post({ type: 'config', config });
    throw error;
  }
  let previousDisposed: boolean | null = null;
  if (task) {
    disposeTask(task);
    previousDisposed = task.model.disposed;
  }
  task = built;
  generation++;
  config = settings;
  drawnInput = null;
  shownText = null;
  lastForecast = null;
  step = 0;
  rate = { since: 0, steps: 0, perSecond: 0 };
  const summary = built.summary;
  const length = built.name === 'series' ? built.data.values.length : built.name === 'text' ? built.summary.characters : built.summary.totalSteps;
  post({
    type: 'model', kind: built.name, parameters: built.model.parameterCount(), previousDisposed,
    trainSize: summary.splitIndex, validationSize: (summary.testIndex ?? length) - summary.splitIndex,
  });
  postAll(built, NaN);
}

function save(current: PageTask): void {
  const bytes = saveSafetensors(current.model.stateDict(), { [CONFIG_KEY]: JSON.stringify(config) });
  post({ type: 'saved', bytes, name: `recurrent-${config!.dataset}-${config!.cell}-${config!.hidden}.safetensors` });
}

/** A weights file the playground saved: its settings rebuild the model, then the weights load (strictly). */
async function load(name: string, bytes: Uint8Array): Promise<void> {
  let weights: ReturnType<typeof loadSafetensors>;
  let settings: string | undefined;
  try {
    weights = loadSafetensors(bytes);
    settings = readSafetensorsMetadata(bytes)[CONFIG_KEY];
  } catch (error) {
    throw new Error(`${name} is not a safetensors weights file: ${describe(error)}`);
  }
  if (settings === undefined) throw new Error(`${name} holds no playground settings (metadata '${CONFIG_KEY}'): the playground loads the weights files it saved`);
  let parsed: PlaygroundConfig;
  try {
    parsed = JSON.parse(settings) as PlaygroundConfig;
  } catch {
    throw new Error(`${name}: its '${CONFIG_KEY}' metadata is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${name}: its '${CONFIG_KEY}' metadata is not a settings object`);
  post({ type: 'config', config: parsed });
  await reset(parsed, weights);
}

/**
 * A CLI run folder: its config rebuilds the model as the CLI does, its checkpoint's weights load
 * strictly. Whatever is refused, the page keeps the model it had; the message names the files.
 */
async function loadRun(message: Extract<ToWorker, { type: 'load-run' }>): Promise<void> {
  const settings = cliRunSettings(message.config, message.configName, HELD_DATA);
  let weights: Record<string, Tensor>;
  try {
    weights = decodeCheckpoint(message.checkpoint, message.checkpointName).model;
  } catch (error) {
    throw new Error(`${message.checkpointName} is not a checkpoint of a CLI run: ${describe(error)}`);
  }
  post({ type: 'config', config: settings });
  try {
    await reset(settings, weights);
  } catch (error) {
    throw new Error(`${message.configName} with ${message.checkpointName}: ${describe(error)}`);
  }
}

/** Trains until paused, refreshing the views on their own clocks; errors surface in the page. */
async function run(current: PageTask): Promise<void> {
  const started = performance.now();
  const last = { progress: 0, predictions: started, cellView: started - CELL_VIEW_EVERY / 2, gradients: started };
  let loss = NaN;
  try {
    await train(current, {
      startStep: step,
      steps: step + 1_000_000_000,
      clip: 1,
      yieldEveryMs: 20,
      shouldStop: () => !running,
      onStep: (info) => {
        step = info.step;
        loss = info.loss;
        const now = performance.now();
        if (now - last.progress > PROGRESS_EVERY) (last.progress = now), progress(loss);
        if (now - last.predictions > PREDICTIONS_EVERY) (last.predictions = now), postLive(current, true);
        if (current.name === 'series' && now - last.cellView > CELL_VIEW_EVERY) (last.cellView = now), postCellView(current);
        if (current.name === 'series' && now - last.gradients > GRADIENTS_EVERY) (last.gradients = now), postGradients(current);
      },
    });
  } catch (error) {
    post({ type: 'error', message: `training stopped: ${(error as Error).message ?? String(error)}` });
  } finally {
    running = false;
    loop = null;
  }
  postAll(current, loss);
}

/** Both cells one after the other, saying which one runs (a few seconds each; the page's model is paused). */
async function compare(): Promise<void> {
  const cells: ComparedCell[] = [];
  for (const cell of COMPARISON.cells) {
    post({ type: 'comparing', cell, done: cells.length, of: COMPARISON.cells.length });
    // Let the message leave before the worker is busy for seconds.
    await new Promise((resolve) => setTimeout(resolve, 0));
    cells.push(compareCell(cell));
  }
  const { length, trainLength, trainSteps } = COMPARISON;
  post({ type: 'comparison', length, trainLength, trainSteps, cells });
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'reset':
      return reset(message.config);
    case 'start': {
      const current = requireTask();
      if (running) return;
      running = true;
      loop = run(current);
      return;
    }
    case 'pause':
      return pause();
    case 'step': {
      await pause();
      const current = requireTask();
      const { loss } = trainStep(current, 1);
      step++;
      postAll(current, loss);
      return;
    }
    case 'inspect':
      if (message.input !== undefined) drawnInput = message.input === null ? null : checkDrawn(message.input);
      inspectLayer = message.layer;
      postInsight(requireSeries('the cell view'));
      return;
    case 'save':
      await pause();
      return save(requireTask());
    case 'load':
      return load(message.name, message.bytes);
    case 'load-run':
      return loadRun(message);
    case 'match': {
      await pause();
      const view = currentTextView(requireText('the unit search'));
      post({ type: 'matches', step, ...matchSpan(view, message.from, message.to, message.threshold) });
      return;
    }
    case 'sample': {
      const { prime, length, temperature, topK, seed } = message;
      post({ type: 'sampled', prime, text: sampleText(requireText('sampling'), { prime, length, temperature, topK, seed }) });
      return;
    }
    case 'compare':
      await pause();
      return compare();
    case 'generate': {
      const { length, temperature, topK, seed } = message;
      post({ type: 'music', step, ...generateContinuation(requireMusic('generating music'), { length, temperature, topK, seed }) });
      return;
    }
  }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

// Messages are handled one after another (a reset waits for the loop it stops); 'start' returns at
// once, leaving the loop running between messages.
let queue: Promise<void> = Promise.resolve();
async function boot(): Promise<void> {
  const backend = await initWasm();
  const isolated = (self as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const threads = await setThreads(isolated ? 2 : 1);
  post({ type: 'ready', backend: getBackend() ?? backend, threads, isolated, datasets: [...DATASETS] });
}
queue = boot().catch((error: unknown) => post({ type: 'error', message: `could not start the kernels: ${describe(error)}` }));
scope.onmessage = (event) => {
  queue = queue.then(() => handle(event.data)).catch((error: unknown) => post({ type: 'error', message: describe(error) }));
};
scope.addEventListener('unhandledrejection', (event) => post({ type: 'error', message: describe(event.reason) }));
