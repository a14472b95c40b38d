/**
 * The messages between the playground page and its training worker. Arrays travel as plain number
 * arrays (structured clone), small enough at the sizes the page offers.
 */
import type { CellType, OptimizerName } from '../src/tasks/index.js';

export interface PlaygroundConfig {
  /** 'sine' or the name of a shipped series (see datasets.ts). */
  dataset: string;
  cell: CellType;
  hidden: number;
  layers: number;
  seqLen: number;
  lr: number;
  optimizer: OptimizerName;
  batch: number;
  seed: number;
}

export type ToWorker =
  | { type: 'reset'; config: PlaygroundConfig }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'step' }
  | { type: 'inspect'; layer: number }
  | { type: 'save' }
  | { type: 'load'; name: string; bytes: Uint8Array };

/** One heatmap of the cell view: rows are hidden units, columns time steps (row-major). */
export interface Panel {
  name: string;
  values: number[];
  /** Sigmoid gates live in [0, 1], tanh ones in [-1, 1]; states have no fixed range. */
  range: [number, number] | null;
}

/** A panel as posted to the page, with its heatmap drawn. */
export interface DrawnPanel extends Panel {
  svg: string;
}

export type FromWorker =
  | { type: 'ready'; backend: string; threads: number; isolated: boolean; datasets: string[] }
  | { type: 'model'; parameters: number; previousDisposed: boolean | null; trainSize: number; validationSize: number }
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
      inputSvg: string;
      panels: DrawnPanel[];
      /** Largest |h| difference between the op-by-op cells and the model's fused forward. */
      referenceError: number;
    }
  | { type: 'gradients'; step: number; steps: number; norms: number[][] }
  | { type: 'saved'; name: string; bytes: Uint8Array }
  /** The settings of a loaded file, for the page's controls. */
  | { type: 'config'; config: PlaygroundConfig }
  | { type: 'error'; message: string };
