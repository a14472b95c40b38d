/**
 * The messages between the playground page and its training worker. Arrays travel as plain number
 * arrays (structured clone), small enough at the sizes the page offers.
 */
import type { PitchRange, StepNote, VocabularyJSON, ZScoreJSON } from '../src/data/index.js';
import type { CellType, MusicEncoding, MusicWindows, Nonlinearity, OptimizerName, SeriesTarget } from '../src/tasks/index.js';
import type { Place, UnitMatch } from './text-units.js';
import type { ComparedCell } from './comparison.js';

export interface PlaygroundConfig {
  /** 'sine', the name of a shipped series or of a shipped text (see datasets.ts). */
  dataset: string;
  cell: CellType;
  /** The RNN's activation (absent: tanh). */
  nonlinearity?: Nonlinearity;
  hidden: number;
  layers: number;
  seqLen: number;
  lr: number;
  optimizer: OptimizerName;
  batch: number;
  seed: number;
  /** A series run trained by the CLI keeps the CLI's recipe: its target, splits and saved normalisation. */
  target?: SeriesTarget;
  valSplit?: number;
  testSplit?: number;
  normalization?: ZScoreJSON;
  /** A CLI run's dropout (the page's own models train without). */
  dropout?: number;
  /** Text and music runs of the CLI: the embedding size (absent: one-hot input). */
  embedding?: number;
  /** A text run's shipped text files (paths under data/, read one after another), its vocabulary and the validation batches it scores (0: all). */
  textFiles?: string[];
  vocabulary?: VocabularyJSON;
  validationBatches?: number;
  /** A music run's shipped MIDI files (paths under data/), its encoding, training windows and pitch range. */
  musicFiles?: string[];
  encoding?: MusicEncoding;
  windows?: MusicWindows;
  range?: PitchRange;
}

export type ToWorker =
  | { type: 'reset'; config: PlaygroundConfig }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'step' }
  /** `input`: a drawn input (values on the series' scale) instead of the validation window; null goes back to it. */
  | { type: 'inspect'; layer: number; input?: number[] | null }
  | { type: 'save' }
  | { type: 'load'; name: string; bytes: Uint8Array }
  /** A CLI run folder: its config.json and its checkpoint, dropped or chosen together. */
  | { type: 'load-run'; configName: string; config: string; checkpointName: string; checkpoint: Uint8Array }
  /** Text: rank the units that match characters [from, to) of the shown text, and find where they fire alike. */
  | { type: 'match'; from: number; to: number; threshold: number }
  | { type: 'sample'; prime: string; length: number; temperature: number; topK: number; seed: number }
  /** Music: continue the first piece's opening for `length` steps. */
  | { type: 'generate'; length: number; temperature: number; topK: number; seed: number }
  /** Train an RNN and an LSTM of the same parameter count on the adding problem and measure both (comparison.ts). */
  | { type: 'compare' };

/** One heatmap of the cell view: rows are hidden units, columns time steps (row-major). */
export interface Panel {
  name: string;
  values: number[];
  /** Sigmoid gates live in [0, 1], tanh ones in [-1, 1]; states have no fixed range. */
  range: [number, number] | null;
}

export type FromWorker =
  | { type: 'ready'; backend: string; threads: number; isolated: boolean; datasets: string[] }
  | { type: 'model'; kind: 'series' | 'text' | 'music'; parameters: number; previousDisposed: boolean | null; trainSize: number; validationSize: number }
  | { type: 'progress'; step: number; loss: number; stepsPerSecond: number; running: boolean }
  | {
      type: 'predictions';
      step: number;
      /** One step ahead over the validation part. */
      time: number[];
      target: number[];
      prediction: number[];
      /** Fed back on itself past the end of the data the model may see. */
      forecastTime: number[];
      forecast: number[];
      /** The forecast's interval, meant to hold `coverage` of the future values at each step. */
      lower: number[];
      upper: number[];
      coverage: number;
      /** The step of the model that made the forecast: while training, a slow forecast is refreshed less often than the rest. */
      forecastStep: number;
      loss: number;
      rmse: number;
      rmseLast: number;
    }
  | {
      type: 'inspect';
      step: number;
      layer: number;
      layers: number;
      hidden: number;
      steps: number;
      input: number[];
      /** Whether the input is one the user drew. */
      drawn: boolean;
      /** The model's prediction of the next value after each step of the input. */
      prediction: number[];
      panels: Panel[];
      /** Largest |h| difference between the op-by-op cells and the model's fused forward. */
      referenceError: number;
    }
  | { type: 'gradients'; step: number; steps: number; norms: number[][] }
  | {
      type: 'text';
      step: number;
      /** Validation characters, and the last layer's h while reading them: values[unit * chars.length + t]. */
      chars: string[];
      units: number;
      values: number[];
      /** Validation cross-entropy (nats per character) and bits per character. */
      loss: number;
      bpc: number;
    }
  | { type: 'matches'; step: number; from: number; to: number; threshold: number; units: UnitMatch[]; searched: number[]; minOn: number; places: Place[] }
  | { type: 'sampled'; text: string; prime: string }
  /** Music's validation scores: NLL per step (nats), beside the training part's unigram frequencies'. */
  | { type: 'validation'; step: number; loss: number; unigram: number }
  | {
      type: 'music';
      step: number;
      seed: number;
      /** The prime (the first piece's opening) and the continuation, on the grid of sixteenths. */
      notes: StepNote[];
      primeSteps: number;
      totalSteps: number;
      stepsPerQuarter: number;
      bpm: number;
      /** The piano roll (src/viz) and the .mid file (src/data's writer) of the notes. */
      svg: string;
      midi: Uint8Array;
    }
  | { type: 'comparing'; cell: string; done: number; of: number }
  | { type: 'comparison'; length: number; trainLength: number; trainSteps: number; cells: ComparedCell[] }
  | { type: 'saved'; name: string; bytes: Uint8Array }
  /** The settings of a loaded file, for the page's controls. */
  | { type: 'config'; config: PlaygroundConfig }
  | { type: 'error'; message: string };

/**
 * What the worker posts: each message carries the generation of the model it is about (the number of
 * models built so far), so the page, and its tests, tell a new model's views from the previous one's.
 */
export type FromWorkerMessage = FromWorker & { generation: number };
