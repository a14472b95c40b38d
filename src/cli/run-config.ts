/**
 * config.json of a run folder: everything needed to rebuild the model and its data split later
 * (resume, eval, generate, predict). It carries a format name and version; a folder written by a
 * different version, or for another task, is refused with a message saying so.
 */
import type { VocabularyJSON, ZScoreJSON } from '../data/index.js';
import {
  createDenoiseTask, createMusicTask, createSeriesTask, createTextTask, SequenceModel, TASKS,
  type DenoiseSummary, type ModelConfig, type MusicEncoding, type MusicSummary, type MusicWindows, type SeriesSummary,
  type SeriesTarget, type Task, type TaskName, type TextSummary, type TrainingConfig,
} from '../tasks/index.js';
import { Generator } from '../tensor/index.js';
import { resolveRecordPath, type DataRecord, type LoadedData } from './data.js';

export const RUN_FORMAT = 'recurrent-run';
export const RUN_VERSION = 1;

export interface TaskOptions {
  /** series */
  target?: SeriesTarget;
  /** text, music (mono) */
  embedding?: number;
  /** text: validation batches scored (absent in runs made before the cap: all) */
  validationBatches?: number;
  /** music */
  encoding?: MusicEncoding;
  /** music: how training windows are cut (absent: 'stream') */
  windows?: MusicWindows;
  /** denoise, in dB */
  snr?: number;
}

export type Summary = SeriesSummary | TextSummary | MusicSummary | DenoiseSummary;

export interface RunConfig {
  format: typeof RUN_FORMAT;
  version: typeof RUN_VERSION;
  task: TaskName;
  created: string;
  model: Omit<ModelConfig, 'input' | 'outputSize'>;
  /** patience: early stopping's validations without a new best (0: never); absent in runs written before it was recorded. */
  training: TrainingConfig & { steps: number; validateEvery: number; patience?: number };
  options: TaskOptions;
  data: DataRecord;
  /** What the data gave at training time: split, normalisation or vocabulary or pitch range. */
  summary: Summary;
  parameters: number;
}

/** Builds the recipe; with a saved summary, its normalisation/vocabulary/range are reused, not refitted. */
export function createTask(config: Pick<RunConfig, 'task' | 'model' | 'training' | 'options'> & { summary?: Summary }, data: LoadedData): Task {
  const { model, training, options } = config;
  const saved = config.summary;
  switch (data.task) {
    case 'series':
      return createSeriesTask(
        { training, model, target: options.target ?? 'delta', normalization: (saved as SeriesSummary | undefined)?.normalization },
        data.series,
      );
    case 'text':
      return createTextTask(
        { training, model, embedding: options.embedding ?? 0, vocabulary: (saved as TextSummary | undefined)?.vocabulary, validationBatches: options.validationBatches },
        data.text,
        resolveRecordPath(data.record) ?? 'the text',
      );
    case 'music': {
      const s = saved as MusicSummary | undefined;
      return createMusicTask(
        { training, model, encoding: options.encoding ?? 'mono', windows: options.windows, embedding: options.embedding ?? 0, range: s ? { low: s.low, high: s.high } : undefined },
        data.pieces,
      );
    }
    case 'denoise': {
      const normalization = (saved as DenoiseSummary | undefined)?.normalization ?? undefined;
      return createDenoiseTask({ training, model, snr: options.snr ?? 5, normalization }, data.series);
    }
  }
}

/** The full model configuration of a saved run, without reading its data. */
export function modelConfigOf(config: RunConfig): ModelConfig {
  const base = config.model;
  switch (config.task) {
    case 'series':
    case 'denoise':
      return { ...base, input: { kind: 'dense', size: 1 }, outputSize: 1 };
    case 'text': {
      const classes = (config.summary as TextSummary).vocabulary.chars.length;
      return { ...base, input: { kind: 'classes', classes, embedding: config.options.embedding ?? 0 }, outputSize: classes };
    }
    case 'music': {
      const s = config.summary as MusicSummary;
      const input = s.encoding === 'mono'
        ? { kind: 'classes' as const, classes: s.classes, embedding: config.options.embedding ?? 0 }
        : { kind: 'dense' as const, size: s.classes };
      return { ...base, input, outputSize: s.classes };
    }
  }
}

export function modelOf(config: RunConfig): SequenceModel {
  return new SequenceModel(modelConfigOf(config), new Generator(config.training.seed));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the parts every command relies on; `where` names the file in messages. */
export function parseRunConfig(text: string, where: string): RunConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where} is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(json) || json.format !== RUN_FORMAT) {
    throw new Error(`${where} is not a recurrent run configuration (expected "format": "${RUN_FORMAT}")`);
  }
  if (json.version !== RUN_VERSION) {
    throw new Error(`${where} has format version ${JSON.stringify(json.version)}; this version of recurrent reads version ${RUN_VERSION} (retrain the model, or use the recurrent version that wrote it)`);
  }
  if (!TASKS.includes(json.task as TaskName)) throw new Error(`${where}: unknown task ${JSON.stringify(json.task)}`);
  for (const key of ['model', 'training', 'options', 'data', 'summary'] as const) {
    if (!isObject(json[key])) throw new Error(`${where}: "${key}" is missing or not an object`);
  }
  return json as unknown as RunConfig;
}

/** For the summary types that carry one: the normalisation of a run, if any. */
export function normalizationOf(config: RunConfig): ZScoreJSON | null {
  const s = config.summary as Partial<SeriesSummary & DenoiseSummary>;
  return s.normalization ?? null;
}

export function vocabularyOf(config: RunConfig): VocabularyJSON {
  return (config.summary as TextSummary).vocabulary;
}
