/**
 * The commands that use a trained run: generate (text, music), predict (series) and eval. Each opens
 * the run folder, checks that it holds a model of the right task, and loads the best checkpoint.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { readMidiFile } from '../data/files.js';
import { Vocabulary, writeMidi, type Series } from '../data/index.js';
import { writeFileAtomic } from '../io/node.js';
import {
  encodeText, evaluateHorizon, forecastIntervals, evaluateDenoise, evaluateMusic, evaluateSeries, evaluateText, forecastSeries, generateMusic, generateText, seriesModel,
  type UnknownCharacters, type EvaluationPart, type DenoiseSummary, type Evaluation, type MusicSummary, type SeriesSummary, type TaskName,
} from '../tasks/index.js';
import { loadData, reloadData } from './data.js';
import { formatTime } from './format.js';
import { defaultPrime } from './outputs.js';
import { forecastPlot, rollPlot } from './plots.js';
import { createTask, modelOf, vocabularyOf } from './run-config.js';
import { inferenceCheckpoint, loadWeights, openRun, writeText, type OpenRun } from './run-dir.js';

export async function openModel(dir: string, task: TaskName | undefined, command: string): Promise<{ run: OpenRun; model: ReturnType<typeof modelOf>; step: number }> {
  const run = openRun(dir, '--model', task, command);
  const model = modelOf(run.config);
  const { step } = await loadWeights(inferenceCheckpoint(run), model);
  return { run, model, step };
}

/** Refuses to write into a folder that does not exist (rather than creating surprising paths). */
export function checkOutPath(path: string, ext: string): void {
  if (extname(path).toLowerCase() !== ext) throw new Error(`--out ${path}: expected a ${ext} file name`);
  const parent = dirname(path);
  if (!existsSync(parent)) throw new Error(`--out ${path}: the folder ${parent} does not exist`);
}

/** Says on stderr how many characters outside the vocabulary were read as a stand-in, and which. */
function noteReplaced(vocabulary: Vocabulary, text: string, unknown: UnknownCharacters, what: string): void {
  if (unknown !== 'replace') return;
  const { replaced, examples } = encodeText(vocabulary, text, 'replace');
  if (replaced === 0) return;
  console.error(
    `${what}: ${replaced} character(s) outside the model's vocabulary (${examples.join(', ')}${examples.length >= 5 ? ', ...' : ''}) ` +
      `were read as ${JSON.stringify(vocabulary.defaultReplacement())}; --unknown error refuses such text instead`,
  );
}

export interface GenerateFlags {
  model: string;
  topP?: number;
  maxSilence?: number;
  unknown?: UnknownCharacters;
  prime?: string;
  length?: number;
  temperature: number;
  topK: number;
  seed: number;
  out?: string;
  quantize?: 'int8';
}

export async function generateCommand(kind: 'text' | 'music', flags: GenerateFlags): Promise<void> {
  const { run, model } = await openModel(flags.model, kind, `generate ${kind}`);
  if (flags.out) checkOutPath(flags.out, kind === 'text' ? '.txt' : '.mid');
  if (kind === 'text') {
    const vocabulary = Vocabulary.fromJSON(vocabularyOf(run.config));
    const prime = flags.prime ?? defaultPrime(vocabulary.chars);
    const unknown = flags.unknown ?? 'replace';
    noteReplaced(vocabulary, prime, unknown, '--prime');
    const text = generateText(model, vocabulary, { prime, length: flags.length ?? 500, temperature: flags.temperature, topK: flags.topK, topP: flags.topP, seed: flags.seed, unknown, quantize: flags.quantize });
    if (flags.out) {
      await writeText(flags.out, text + '\n');
      console.log(`wrote ${flags.out}`);
    } else process.stdout.write(text + '\n');
    return;
  }
  const summary = run.config.summary as MusicSummary;
  let prime;
  if (flags.prime !== undefined) {
    if (!/\.midi?$/i.test(flags.prime)) throw new Error(`--prime ${flags.prime}: for music, expected a .mid file whose opening primes the model`);
    prime = readMidiFile(flags.prime, { track: run.config.data.track ?? 'most', stepsPerQuarter: summary.stepsPerQuarter });
  } else {
    // The opening of the first training piece, when the data is still there; else silence.
    try {
      const data = reloadData('music', run.config.data, run.config.training.seed, run.dir);
      if (data.task === 'music') prime = data.pieces[0];
    } catch {
      prime = undefined;
    }
  }
  const piece = generateMusic(model, summary, { length: flags.length ?? 128, temperature: flags.temperature, topK: flags.topK, topP: flags.topP, maxSilence: flags.maxSilence, seed: flags.seed, prime, quantize: flags.quantize });
  if (piece.notes.length === 0) throw new Error('the model generated only silence; try a higher --temperature or another --seed');
  const out = flags.out ?? `${run.dir}/generated-${flags.seed}.mid`;
  await writeFileAtomic(out, writeMidi(piece.notes, { stepsPerQuarter: summary.stepsPerQuarter, bpm: summary.bpm }));
  const svg = out.replace(/\.midi?$/i, '.svg');
  await writeText(svg, rollPlot(piece.notes, `generated (${summary.encoding}, temperature ${flags.temperature})`, summary.stepsPerQuarter, piece.primeSteps));
  console.log(`wrote ${out} (${piece.notes.length} notes, ${piece.totalSteps} steps) and ${svg}`);
}

export interface PredictFlags {
  model: string;
  coverage?: number;
  horizon: number;
  data?: string;
  column?: string;
  wide?: boolean;
  plot?: string;
  json?: boolean;
}

export async function predictCommand(flags: PredictFlags): Promise<void> {
  const { run, model } = await openModel(flags.model, 'series', 'predict series');
  if (flags.plot) checkOutPath(flags.plot, '.svg');
  const summary = run.config.summary as SeriesSummary;
  const data = flags.data !== undefined
    ? loadData('series', { data: flags.data, shippedDefault: false, seed: run.config.training.seed, column: flags.column, wide: flags.wide })
    : reloadData('series', run.config.data, run.config.training.seed, run.dir);
  const series = (data as { series: Series }).series;
  const m = seriesModel(model, summary, run.config.training.seqLen);
  const values = forecastSeries(m, series, flags.horizon);
  const coverage = flags.coverage ?? 0.8;
  const { lower, upper } = forecastIntervals(m, series, values, coverage);
  const n = series.time.length;
  const dt = n >= 2 ? series.time[n - 1]! - series.time[n - 2]! : 1;
  const time = Float64Array.from(values, (_, i) => series.time[n - 1]! + dt * (i + 1));
  if (flags.plot) {
    const source = flags.data ?? run.config.data.synthetic ?? run.config.data.path ?? series.name;
    const label = basename(source).replace(/\.csv$/i, '');
    await writeText(flags.plot, forecastPlot(series, { time, values, lower, upper }, `${label}: ${flags.horizon}-step forecast`));
  }
  if (flags.json) {
    console.log(JSON.stringify({ task: 'series', horizon: flags.horizon, coverage, time: Array.from(time), forecast: Array.from(values), lower: Array.from(lower), upper: Array.from(upper) }));
    return;
  }
  console.log('time,forecast,lower,upper');
  const cell = (v: number): number => Number(v.toPrecision(6));
  for (let i = 0; i < values.length; i++) console.log(`${formatTime(time[i]!, series.frequency)},${cell(values[i]!)},${cell(lower[i]!)},${cell(upper[i]!)}`);
  if (flags.plot) console.error(`wrote ${flags.plot}`);
}

export interface EvalFlags {
  model: string;
  horizon?: number;
  split?: EvaluationPart;
  unknown?: UnknownCharacters;
  data?: string;
  column?: string;
  wide?: boolean;
  json?: boolean;
  seed?: number;
}

export async function evalCommand(taskName: TaskName, flags: EvalFlags): Promise<void> {
  const { run, model, step } = await openModel(flags.model, taskName, `eval ${taskName}`);
  const { config } = run;
  const { seqLen, batch } = config.training;
  let evaluation: Evaluation;
  let on: string;
  if (flags.data === undefined) {
    const data = reloadData(taskName, config.data, config.training.seed, run.dir);
    const task = createTask(config, data);
    task.model.loadStateDict(model.stateDict());
    const part = flags.split ?? (task.hasTest ? 'test' : 'validation');
    if (part === 'test' && !task.hasTest) throw new Error(`--split test: ${run.dir} holds out no test part (it was trained with test-split 0, or before test parts existed)`);
    evaluation = task.evaluate(part);
    on = part === 'test' ? 'test' : task.hasValidation ? 'validation' : 'training';
  } else {
    const data = loadData(taskName, { data: flags.data, shippedDefault: false, seed: config.training.seed, track: config.data.track, column: flags.column, wide: flags.wide });
    const seed = flags.seed ?? config.training.seed;
    switch (data.task) {
      case 'series':
        evaluation = evaluateSeries(seriesModel(model, config.summary as SeriesSummary, seqLen), data.series);
        break;
      case 'text': {
        const vocabulary = Vocabulary.fromJSON(vocabularyOf(config));
        evaluation = evaluateText(model, vocabulary, data.text, seqLen, batch, flags.unknown ?? 'replace');
        noteReplaced(vocabulary, data.text, flags.unknown ?? 'replace', `--data ${flags.data}`);
        break;
      }
      case 'music':
        evaluation = evaluateMusic(model, config.summary as MusicSummary, data.pieces, seqLen, config.options.windows);
        break;
      case 'denoise':
        evaluation = evaluateDenoise(model, config.summary as DenoiseSummary, seqLen, data.series, seed);
        break;
    }
    on = 'data';
  }
  if (flags.horizon !== undefined) {
    if (taskName !== 'series') throw new Error(`--horizon applies to series, not to ${taskName}`);
    const summary = config.summary as SeriesSummary;
    const series = (flags.data === undefined
      ? reloadData('series', config.data, config.training.seed, run.dir)
      : loadData('series', { data: flags.data, shippedDefault: false, seed: config.training.seed, column: flags.column, wide: flags.wide })) as { series: Series };
    const n = series.series.values.length;
    // The held-out part the scores above came from: forecast into it from just before it.
    const origin = flags.data !== undefined ? n - flags.horizon : on === 'test' ? (summary.testIndex ?? n) : summary.splitIndex;
    if (origin + flags.horizon > n || origin < seqLen) {
      throw new Error(`--horizon ${flags.horizon}: the ${on} part starts at value ${origin} of ${n}, so at most ${Math.max(0, n - origin)} steps can be scored there`);
    }
    evaluation = { ...evaluation, metrics: { ...evaluation.metrics, ...evaluateHorizon(seriesModel(model, summary, seqLen), series.series, origin, flags.horizon) } };
  }
  const flat: Record<string, string | number | null> = { task: taskName, loss: evaluation.loss, ...evaluation.metrics, ...evaluation.labels, split: on, step };
  if (flags.json) {
    console.log(JSON.stringify(flat));
    return;
  }
  console.log(`${taskName} model ${run.dir} (step ${step}) on the ${on === 'data' ? `data ${flags.data}` : `${on} split`}:`);
  for (const [k, v] of Object.entries({ loss: evaluation.loss, ...evaluation.metrics })) {
    console.log(`  ${k.padEnd(24)} ${v === null ? 'n/a' : Number(v.toPrecision(6))}`);
  }
  for (const [k, v] of Object.entries(evaluation.labels ?? {})) console.log(`  ${k.padEnd(24)} ${v ?? 'n/a'}`);
}
