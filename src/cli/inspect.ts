/**
 * `recurrent inspect gates`: a trained run's model over one input, every gate and state of every
 * layer drawn as a heatmap over time under the input. The values come from the library's gate trace
 * (src/nn/recurrent/gate-trace.ts), the function the playground's cell view also uses.
 */
import { existsSync, statSync } from 'node:fs';
import { readMidiFile } from '../data/files.js';
import { addNoise, DataRng, randomSineMixture, Vocabulary, ZScore, type Series } from '../data/index.js';
import { gateTrace, type GateSignal, type LayerGateTrace } from '../nn/index.js';
import { reshape } from '../ops/index.js';
import { encodeMusic, encodeText, type DenoiseSummary, type MusicSummary, type Piece, type SeriesSummary, type SequenceInput, type TextSummary } from '../tasks/index.js';
import { noGrad } from '../tensor/index.js';
import { heatmapStack, pitchName, type HeatmapPanel } from '../viz/index.js';
import { loadData, reloadData } from './data.js';
import { checkOutPath, openModel } from './inference.js';
import type { RunConfig } from './run-config.js';
import { writeText } from './run-dir.js';

export interface InspectFlags {
  model: string;
  input?: string;
  steps?: number;
  units: number;
  column?: string;
  wide?: boolean;
  out?: string;
}

/** Beyond this many steps a heatmap's columns are thinner than a pixel at the page width. */
export const MAX_STEPS = 2000;
/** Steps of the run's own held-out data drawn when no --input is given. */
const DEFAULT_STEPS = 100;

/** The model's input for one sequence, with what the input panel shows above the gates. */
interface InspectInput {
  input: SequenceInput;
  /** Where it came from, for the title. */
  label: string;
  panel: HeatmapPanel;
  colLabels?: string[];
}

/** The first `steps` (or all, up to MAX_STEPS) of a sequence of `length` steps. */
function stepsToTake(length: number, flags: InspectFlags, given: boolean): number {
  if (length === 0) throw new Error(`--input ${flags.input ?? ''}: holds no time steps`);
  if (flags.steps !== undefined) return Math.min(flags.steps, length);
  if (!given) return Math.min(DEFAULT_STEPS, length);
  if (length > MAX_STEPS) throw new Error(`--input has ${length} steps; at most ${MAX_STEPS} are drawn: pass --steps to take the first ones`);
  return length;
}

/** One-hot rows of the classes that occur (in class order), labelled; all classes would be mostly empty rows. */
function classPanel(ids: Int32Array, label: (id: number) => string, title: string): HeatmapPanel {
  const present = [...new Set(ids)].sort((a, b) => a - b);
  const row = new Map(present.map((id, r) => [id, r]));
  const values = new Float32Array(present.length * ids.length);
  ids.forEach((id, t) => (values[row.get(id)! * ids.length + t] = 1));
  return { values, rows: present.length, cols: ids.length, title, rowLabels: present.map(label), yLabel: 'class', min: 0, max: 1, colorMap: 'viridis' };
}

const valuesPanel = (values: Float32Array, title: string): HeatmapPanel =>
  ({ values, rows: 1, cols: values.length, title, rowLabels: ['x'], colorMap: 'diverging' });

/** Comma- or space-separated numbers, or a CSV file of a series. */
function seriesValues(input: string, flags: InspectFlags, seed: number): { values: Float32Array; label: string } {
  if (existsSync(input) && statSync(input).isFile()) {
    const data = loadData('series', { data: input, shippedDefault: false, seed, column: flags.column, wide: flags.wide });
    return { values: (data as { series: Series }).series.values, label: input };
  }
  const parts = input.split(/[\s,]+/).filter((p) => p !== '');
  const values = Float32Array.from(parts, Number);
  const bad = parts.findIndex((p, i) => !Number.isFinite(values[i]!) || !/^[-+.\deE]+$/.test(p));
  if (parts.length === 0 || bad >= 0) {
    const what = parts.length === 0 ? 'nothing' : `${JSON.stringify(parts[bad])} at position ${bad + 1}`;
    throw new Error(`--input: expected a CSV file or numbers separated by commas (like 0.1,0.5,0.9), got ${what}`);
  }
  return { values, label: `${parts.length} values` };
}

function seriesInput(config: RunConfig, dir: string, flags: InspectFlags): InspectInput {
  const summary = config.summary as SeriesSummary | DenoiseSummary;
  const zscore = summary.normalization ? ZScore.fromJSON(summary.normalization) : null;
  const seed = config.training.seed;
  let values: Float32Array;
  let label: string;
  if (flags.input !== undefined) {
    ({ values, label } = seriesValues(flags.input, flags, seed));
    values = values.subarray(0, stepsToTake(values.length, flags, true));
    if (zscore) values = zscore.apply(values);
  } else {
    const data = reloadData(config.task, config.data, seed, dir);
    const series = (data as { series: Series | null }).series;
    if (series) {
      const all = zscore ? zscore.apply(series.values) : series.values;
      const from = summary.splitIndex ?? 0;
      const to = Math.max(from + 1, summary.testIndex ?? all.length);
      values = all.subarray(from, from + stepsToTake(to - from, flags, false));
      label = `validation data from value ${from}`;
    } else {
      // A run on generated sine mixtures: a fresh one, from the run's seed.
      const rng = new DataRng(seed);
      values = randomSineMixture(flags.steps ?? DEFAULT_STEPS, rng);
      label = 'a sine mixture';
    }
    if (config.task === 'denoise') {
      // The denoiser reads noisy signals: noise at the run's SNR, from the run's seed.
      values = addNoise(values, (summary as DenoiseSummary).snr, new DataRng(seed + 1));
      label += ` with noise at ${(summary as DenoiseSummary).snr} dB`;
    }
  }
  const title = `input: ${zscore ? 'z-scored values' : 'values'}`;
  return { input: { data: Float32Array.from(values), steps: values.length, batch: 1 }, label, panel: valuesPanel(Float32Array.from(values), title) };
}

function textInput(config: RunConfig, dir: string, flags: InspectFlags): InspectInput {
  const summary = config.summary as TextSummary;
  const vocabulary = Vocabulary.fromJSON(summary.vocabulary);
  let chars: string[];
  let label: string;
  if (flags.input !== undefined) {
    chars = Array.from(flags.input);
    chars = chars.slice(0, stepsToTake(chars.length, flags, true));
    label = 'the given text';
  } else {
    const data = reloadData('text', config.data, config.training.seed, dir);
    const all = Array.from((data as { text: string }).text);
    const to = Math.max(summary.splitIndex + 1, summary.testIndex ?? all.length);
    chars = all.slice(summary.splitIndex, summary.splitIndex + stepsToTake(to - summary.splitIndex, flags, false));
    label = `validation text from character ${summary.splitIndex}`;
  }
  const { ids, replaced } = encodeText(vocabulary, chars.join(''), 'replace');
  if (replaced > 0) label += ` (${replaced} character(s) outside the vocabulary read as ${JSON.stringify(vocabulary.defaultReplacement())})`;
  const show = (c: string): string => (c === '\n' ? '⏎' : c === ' ' ? '␣' : c);
  return {
    input: { data: ids, steps: ids.length, batch: 1 },
    label,
    panel: classPanel(ids, (id) => show(vocabulary.chars[id] ?? '?'), 'input: characters (one-hot)'),
    colLabels: Array.from(ids, (id) => show(vocabulary.chars[id] ?? '?')),
  };
}

function musicInput(config: RunConfig, dir: string, flags: InspectFlags): InspectInput {
  const summary = config.summary as MusicSummary;
  let encoded;
  let from = 0;
  let label: string;
  if (flags.input !== undefined) {
    if (!/\.midi?$/i.test(flags.input)) throw new Error(`--input ${flags.input}: for music, expected a .mid file`);
    if (!existsSync(flags.input)) throw new Error(`--input ${flags.input}: no such file`);
    const piece = readMidiFile(flags.input, { track: config.data.track ?? 'most', stepsPerQuarter: summary.stepsPerQuarter });
    encoded = encodeMusic(summary, [piece]);
    label = flags.input;
  } else {
    const data = reloadData('music', config.data, config.training.seed, dir);
    encoded = encodeMusic(summary, (data as { pieces: Piece[] }).pieces);
    from = Math.min(summary.splitIndex, encoded.steps - 1);
    label = `validation data from step ${from}`;
  }
  const end = flags.input === undefined ? Math.max(from + 1, summary.testIndex ?? encoded.steps) : encoded.steps;
  const steps = stepsToTake(end - from, flags, flags.input !== undefined);
  const pitches = summary.high - summary.low + 1;
  if (encoded.ids) {
    const ids = encoded.ids.slice(from, from + steps);
    const name = (id: number): string => (id < pitches ? pitchName(summary.low + id) : id === pitches ? 'rest' : 'hold');
    return { input: { data: ids, steps, batch: 1 }, label, panel: classPanel(ids, name, 'input: melody (one-hot classes)') };
  }
  const rows = encoded.rows!.slice(from * pitches, (from + steps) * pitches);
  // Pitches as rows, highest on top, as on a piano roll.
  const values = new Float32Array(pitches * steps);
  for (let t = 0; t < steps; t++) for (let p = 0; p < pitches; p++) values[(pitches - 1 - p) * steps + t] = rows[t * pitches + p]!;
  const rowLabels = Array.from({ length: pitches }, (_, r) => pitchName(summary.high - r));
  return {
    input: { data: rows, steps, batch: 1 },
    label,
    panel: { values, rows: pitches, cols: steps, title: 'input: piano roll', rowLabels, yLabel: 'pitch', min: 0, max: 1, colorMap: 'viridis' },
  };
}

const TITLES: Record<string, string> = {
  i: 'i: input gate', f: 'f: forget gate', g: 'g: candidate (cell input)', o: 'o: output gate', c: 'c: cell state',
  peephole_i: 'w_ci ⊙ c(t-1): peephole term added to i', peephole_f: 'w_cf ⊙ c(t-1): peephole term added to f', peephole_o: 'w_co ⊙ c(t): peephole term added to o',
  r: 'r: reset gate', z: 'z: update gate', n: 'n: candidate', h: 'h: hidden state (output)',
};

/** Variance over time of each unit of a signal. */
function unitVariances(s: GateSignal): Float64Array {
  const out = new Float64Array(s.units);
  for (let u = 0; u < s.units; u++) {
    let sum = 0, sq = 0;
    for (let t = 0; t < s.steps; t++) {
      const v = s.values[u * s.steps + t]!;
      sum += v;
      sq += v * v;
    }
    const mean = sum / s.steps;
    out[u] = sq / s.steps - mean * mean;
  }
  return out;
}

/**
 * Which units to draw when there are more than `cap`: those whose state (c for an LSTM, else h) moves
 * most over this input, in index order; the same units in every panel of the layer, so rows line up.
 */
export function chooseUnits(trace: LayerGateTrace, cap: number): { hidden: number[]; output: number[]; note: string } {
  const byName = new Map(trace.signals.map((s) => [s.name, s]));
  const h = byName.get('h')!;
  const state = byName.get('c') ?? h;
  const pick = (s: GateSignal): number[] => {
    if (s.units <= cap) return Array.from({ length: s.units }, (_, u) => u);
    const variance = unitVariances(s);
    return Array.from({ length: s.units }, (_, u) => u).sort((a, b) => variance[b]! - variance[a]! || a - b).slice(0, cap).sort((a, b) => a - b);
  };
  const hidden = pick(state);
  const output = h.units === state.units ? hidden : pick(h);
  const note = state.units > cap ? `${cap} of ${state.units} units: those whose ${state.name} varies most over this input` : '';
  return { hidden, output, note };
}

function signalPanel(trace: LayerGateTrace, s: GateSignal, units: number[], note: string, layers: number, directions: number): HeatmapPanel {
  const values = new Float32Array(units.length * s.steps);
  units.forEach((u, r) => values.set(s.values.subarray(u * s.steps, (u + 1) * s.steps), r * s.steps));
  const where = [layers > 1 ? `layer ${trace.layer}` : '', directions > 1 ? trace.direction : ''].filter(Boolean).join(', ');
  const title = `${where ? `${where} · ` : ''}${TITLES[s.name] ?? s.name}${note ? ` (${note})` : ''}`;
  return {
    values, rows: units.length, cols: s.steps, title, rowLabels: units.map(String), yLabel: 'unit',
    colorMap: s.range?.[0] === 0 ? 'viridis' : 'diverging',
    ...(s.range ? { min: s.range[0], max: s.range[1] } : {}),
  };
}

export async function inspectGatesCommand(flags: InspectFlags): Promise<void> {
  const { run, model, step } = await openModel(flags.model, undefined, 'inspect gates');
  const out = flags.out ?? `${run.dir}/gates.svg`;
  if (flags.out) checkOutPath(flags.out, '.svg');
  const { config } = run;
  const source = config.task === 'text' ? textInput(config, run.dir, flags) : config.task === 'music' ? musicInput(config, run.dir, flags) : seriesInput(config, run.dir, flags);
  model.eval();
  const traces = noGrad(() => {
    const x = model.embed(source.input);
    return gateTrace(model.rnn, reshape(x, [source.input.steps, x.shape[2]!]));
  });
  const { numLayers, bidirectional, cell } = model.config;
  const panels: HeatmapPanel[] = [{ ...source.panel, xLabel: undefined }];
  const notes = new Set<string>();
  for (const trace of traces) {
    const { hidden, output, note } = chooseUnits(trace, flags.units);
    if (note) notes.add(note);
    for (const s of trace.signals) {
      const units = s.name === 'h' ? output : hidden;
      panels.push(signalPanel(trace, s, units, note, numLayers, bidirectional ? 2 : 1));
    }
  }
  panels[panels.length - 1] = { ...panels[panels.length - 1]!, xLabel: 'time step' };
  const title = `${cell} ${config.task} model (${run.dir}, step ${step}) on ${source.label}`;
  await writeText(out, heatmapStack(panels, { title, colLabels: source.colLabels }));
  const names = traces[0]!.signals.map((s) => s.name).join(', ');
  console.log(`wrote ${out}: ${source.input.steps} steps, ${numLayers} layer(s)${bidirectional ? ' × 2 directions' : ''}, each showing ${names}`);
  for (const note of notes) console.log(`  shown: ${note} (--units to change)`);
}
