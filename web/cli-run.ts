/**
 * A run folder trained by the CLI (`recurrent train series|text|music --out DIR`), read from its
 * config.json: the page's settings that rebuild the same model on the same data, the same way the
 * CLI's createTask does (series: its target, splits and saved normalisation; text: its files,
 * vocabulary, embedding and validation cap; music: its encoding, pitch range, windows and files), or a message
 * naming the file and saying why the page cannot. The weights then come from the folder's checkpoint
 * (best.safetensors or latest.safetensors).
 */
import type { VocabularyJSON, ZScoreJSON } from '../src/data/index.js';
import { CELLS, MUSIC_ENCODINGS, MUSIC_WINDOWS, NONLINEARITIES, OPTIMIZERS, SERIES_TARGETS } from '../src/tasks/index.js';
import type { PlaygroundConfig } from './protocol.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The data the page holds, as a run's config.json names it. */
export interface HeldData {
  /** Series by the page's name ('sine' and the shipped ones). */
  series: readonly string[];
  /** Texts by their path under data/ ('text/austen-persuasion.txt'), and the page's text dataset a run on them shows as. */
  texts: readonly string[];
  textDataset: string;
  /** MIDI files by their path under data/ ('music/pianobooster/BoosterMusic-01-ClairDeLaLune.mid'), and the page's music dataset a run on them shows as. */
  midiFiles: readonly string[];
  musicDataset: string;
}

type Section = Record<string, unknown>;

interface Run {
  name: string;
  model: Section;
  training: Section;
  options: Section;
  data: Section;
  summary: Section;
}

function choice<T extends string>(name: string, field: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new Error(`${name}: ${field} must be one of ${allowed.join(', ')}, received ${JSON.stringify(value)}`);
  return value as T;
}

/** A number the run must hold; its range is checked where the settings are used (the page's limits, the recipes). */
function number(name: string, field: string, value: unknown): number {
  if (typeof value !== 'number') throw new Error(`${name}: ${field} must be a number, received ${JSON.stringify(value)}`);
  return value;
}

/** What every task's model and training share. */
function common(run: Run, dataset: string): PlaygroundConfig {
  const { name, model, training } = run;
  if (model['bidirectional'] === true) throw new Error(`${name}: a bidirectional model cannot forecast or generate, and the page shows one direction only`);
  return {
    dataset,
    cell: choice(name, 'model.cell', model['cell'], CELLS),
    ...(model['nonlinearity'] === undefined ? {} : { nonlinearity: choice(name, 'model.nonlinearity', model['nonlinearity'], NONLINEARITIES) }),
    hidden: number(name, 'model.hiddenSize', model['hiddenSize']),
    layers: number(name, 'model.numLayers', model['numLayers']),
    ...(model['dropout'] === undefined ? {} : { dropout: number(name, 'model.dropout', model['dropout']) }),
    seqLen: number(name, 'training.seqLen', training['seqLen']),
    lr: number(name, 'training.lr', training['lr']),
    optimizer: choice(name, 'training.optimizer', training['optimizer'], OPTIMIZERS),
    batch: number(name, 'training.batch', training['batch']),
    seed: number(name, 'training.seed', training['seed']),
    valSplit: number(name, 'training.valSplit', training['valSplit']),
    ...(training['testSplit'] === undefined ? {} : { testSplit: number(name, 'training.testSplit', training['testSplit']) }),
  };
}

function seriesSettings(run: Run, held: HeldData): PlaygroundConfig {
  const { name, data, options, summary } = run;
  const shipped = typeof data['path'] === 'string' ? /^series\/(.+)\.csv$/.exec(data['path'])?.[1] : undefined;
  const dataset = data['synthetic'] === 'sine' ? 'sine' : data['shipped'] === true && shipped !== undefined && data['column'] === undefined && !data['wide'] ? shipped : undefined;
  if (dataset === undefined || !held.series.includes(dataset)) {
    const source = data['synthetic'] ?? data['path'] ?? 'its data';
    throw new Error(`${name} was trained on ${String(source)}; the page holds only the series ${held.series.join(', ')}`);
  }
  if (!isObject(summary['normalization'])) throw new Error(`${name}: summary.normalization is missing: the page cannot scale the series as the run did`);
  return {
    ...common(run, dataset),
    // As the CLI builds the task: its default target is delta, and the normalisation is the saved one.
    target: choice(name, 'options.target', options['target'] ?? 'delta', SERIES_TARGETS),
    normalization: summary['normalization'] as unknown as ZScoreJSON,
  };
}

/** The shipped files a run read (paths under data/), when it read shipped files only. */
function shippedFiles(run: Run): string[] | undefined {
  const { data } = run;
  const files = data['files'];
  if (data['shipped'] !== true || !Array.isArray(files) || files.length === 0 || !files.every((file) => typeof file === 'string')) return undefined;
  return files as string[];
}

function textSettings(run: Run, held: HeldData): PlaygroundConfig {
  const { name, options, summary } = run;
  const files = shippedFiles(run);
  if (!files || !files.every((file) => held.texts.includes(file))) {
    throw new Error(`${name} was trained on ${String(run.data['path'] ?? 'its data')}; the page holds only the shipped texts ${held.texts.join(', ')}`);
  }
  if (!isObject(summary['vocabulary'])) throw new Error(`${name}: summary.vocabulary is missing: the page cannot read characters as the run did`);
  return {
    ...common(run, held.textDataset),
    textFiles: files,
    vocabulary: summary['vocabulary'] as unknown as VocabularyJSON,
    embedding: options['embedding'] === undefined ? 0 : number(name, 'options.embedding', options['embedding']),
    // Absent in runs made before the cap: all of the validation part.
    validationBatches: options['validationBatches'] === undefined ? 0 : number(name, 'options.validationBatches', options['validationBatches']),
  };
}

function musicSettings(run: Run, held: HeldData): PlaygroundConfig {
  const { name, data, options, summary } = run;
  const files = shippedFiles(run);
  const missing = files?.filter((file) => !held.midiFiles.includes(file));
  if (!files || missing!.length > 0) {
    throw new Error(`${name} was trained on ${String(data['path'] ?? 'its data')}${missing?.length ? ` (the page lacks ${missing.join(', ')})` : ''}; the page holds only the shipped MIDI files of ${[...new Set(held.midiFiles.map((file) => file.replace(/\/[^/]*$/, '')))].join(', ')}`);
  }
  if ((data['track'] ?? 'most') !== 'most') throw new Error(`${name}: the run read MIDI track ${JSON.stringify(data['track'])}; the page reads the track with the most notes (--track most)`);
  return {
    ...common(run, held.musicDataset),
    musicFiles: files,
    encoding: choice(name, 'options.encoding', options['encoding'] ?? 'mono', MUSIC_ENCODINGS),
    ...(options['windows'] === undefined ? {} : { windows: choice(name, 'options.windows', options['windows'], MUSIC_WINDOWS) }),
    embedding: options['embedding'] === undefined ? 0 : number(name, 'options.embedding', options['embedding']),
    range: { low: number(name, 'summary.low', summary['low']), high: number(name, 'summary.high', summary['high']) },
  };
}

export function cliRunSettings(text: string, name: string, held: HeldData): PlaygroundConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${name} is not JSON (${(error as Error).message}): a run folder's config.json was expected`);
  }
  if (!isObject(json) || json['format'] !== 'recurrent-run') throw new Error(`${name} is not a recurrent run configuration (expected "format": "recurrent-run")`);
  const { task, model, training, options, data, summary } = json;
  if (!isObject(model) || !isObject(training) || !isObject(data) || !isObject(summary)) throw new Error(`${name} lacks its model, training, data or summary section`);
  const run: Run = { name, model, training, options: isObject(options) ? options : {}, data, summary };
  switch (task) {
    case 'series':
      return seriesSettings(run, held);
    case 'text':
      return textSettings(run, held);
    case 'music':
      return musicSettings(run, held);
    default:
      throw new Error(`${name} is a ${String(task)} run; the page loads series, text and music runs trained by the CLI`);
  }
}
