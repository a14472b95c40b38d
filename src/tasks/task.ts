/**
 * What every recipe offers the training loop and the front ends (CLI, playground). A recipe owns its
 * model, optimizer, data and random streams; the loop only asks it for the next loss and for an
 * evaluation, so it needs to know nothing of series, text or music.
 */
import { Adam, AdamW, RMSprop, SGD, type OptimizerStateDict } from '../optim/index.js';
import { DataRng, type DataRngState } from '../data/index.js';
import { Generator, type Tensor } from '../tensor/index.js';
import { checkChoice, checkInteger, checkNonNegative, checkPositive, checkProbability } from './checks.js';
import { checkModelConfig, SequenceModel, type ModelConfig } from './model.js';

export const TASKS = ['series', 'text', 'music', 'denoise'] as const;
export type TaskName = (typeof TASKS)[number];

export const OPTIMIZERS = ['adam', 'adamw', 'sgd', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** The part of an optimizer the loop and the checkpoints use (every optim.Optimizer has it). */
export interface TaskOptimizer {
  readonly paramGroups: readonly { lr: number }[];
  step(): void;
  zeroGrad(): void;
  stateDict(): OptimizerStateDict;
  loadStateDict(dict: OptimizerStateDict): void;
  checkStateDict(dict: OptimizerStateDict): void;
}

/**
 * The numbers another trainer needs to go on with a run exactly where this recipe would (the PyTorch
 * package's train.py): prepared data as flat float32 arrays with shapes, and the split points and
 * options that say how the recipe reads them.
 */
export interface ExportedTaskData {
  tensors: Record<string, { data: Float32Array; shape: number[] }>;
  meta: Record<string, string | number>;
}

/** Options every recipe shares. */
export interface TrainingConfig {
  seed: number;
  optimizer: OptimizerName;
  lr: number;
  /** Maximum total gradient norm; 0 turns clipping off. */
  clip: number;
  batch: number;
  seqLen: number;
  /** Share of the data held out for validation (choosing the checkpoint), taken just before the test part. */
  valSplit: number;
  /**
   * Share of the data, taken from its very end, held out for testing: no training step and no
   * checkpoint choice ever sees it, so figures reported on it are honest. Absent (0) in runs made
   * before it existed.
   */
  testSplit?: number;
}

function checkSplits(c: Pick<TrainingConfig, 'valSplit' | 'testSplit'>): void {
  checkProbability('val-split', c.valSplit);
  if (c.testSplit !== undefined) checkProbability('test-split', c.testSplit);
  if (c.valSplit + (c.testSplit ?? 0) >= 1) {
    throw new Error(`val-split ${c.valSplit} and test-split ${c.testSplit} leave no training data; their sum must be below 1`);
  }
}

/** Where the training part ends and the validation part ends (the test part runs to the end). */
export interface Split {
  trainEnd: number;
  validationEnd: number;
  length: number;
}

/** Chronological: train, then validation, then test, so no part looks into the future of the next. */
export function chronologicalSplit(length: number, training: Pick<TrainingConfig, 'valSplit' | 'testSplit'>): Split {
  checkSplits(training);
  const test = Math.round(length * (training.testSplit ?? 0));
  const validation = Math.round(length * training.valSplit);
  return { trainEnd: length - test - validation, validationEnd: length - test, length };
}

/** Which held-out part an evaluation scores. */
export type EvaluationPart = 'validation' | 'test';

/** Scores of one evaluation: `loss` is what "best" is judged by; metrics are task figures (null: not applicable). */
export interface Evaluation {
  loss: number;
  metrics: Record<string, number | null>;
  /** Words that qualify the metrics (which form of a baseline was fitted): eval reports them, validation lines do not. */
  labels?: Record<string, string | null>;
}

/** The JSON state that, with the weights, optimizer and generator, resumes a run exactly. */
export type TaskState = Record<string, unknown>;

export interface Task {
  readonly name: TaskName;
  readonly model: SequenceModel;
  readonly optimizer: TaskOptimizer;
  /** Seeds the weights, then draws dropout masks: saved in every checkpoint. */
  readonly generator: Generator;
  /** Time steps × sequences one training step consumes (for tokens/s). */
  readonly tokensPerStep: number;
  /** Steps that make one pass over the training data (what --epochs counts). */
  readonly stepsPerEpoch: number;
  /** False when the run holds out no data (valSplit 0): evaluate() then scores the training data. */
  readonly hasValidation: boolean;
  /** True when the run holds out a test part (testSplit > 0). */
  readonly hasTest: boolean;
  /** The loss of the next training batch, recorded for backward (the model is put in training mode). */
  trainLoss(): Tensor;
  /**
   * Scores the validation part (default) or the test part, in eval mode, without gradients, touching
   * no random stream. Training and checkpoint choice only ever use the validation part.
   */
  evaluate(part?: EvaluationPart): Evaluation;
  /** Data position, data random stream and any carried hidden state. */
  saveState(): TaskState;
  loadState(state: TaskState): void;
}

export function checkTrainingConfig(c: TrainingConfig): TrainingConfig {
  checkInteger('seed', c.seed, 0, 2 ** 32 - 1);
  checkChoice('optimizer', c.optimizer, OPTIMIZERS);
  checkPositive('lr', c.lr);
  checkNonNegative('clip', c.clip);
  checkInteger('batch', c.batch, 1, 65536);
  checkInteger('seq-len', c.seqLen, 1, 1_000_000);
  checkSplits(c);
  return c;
}

export function createOptimizer(name: OptimizerName, model: SequenceModel, lr: number): TaskOptimizer {
  const params = model.parameters();
  switch (name) {
    case 'adam':
      return new Adam(params, { lr });
    case 'adamw':
      return new AdamW(params, { lr });
    case 'sgd':
      // Plain SGD crawls on recurrent nets; momentum 0.9 is the usual companion.
      return new SGD(params, { lr, momentum: 0.9 });
    case 'rmsprop':
      return new RMSprop(params, { lr });
  }
}

/** Model, optimizer and generator, built in a fixed order so a seed always gives the same weights. */
export function buildModel(model: ModelConfig, training: TrainingConfig): { model: SequenceModel; optimizer: TaskOptimizer; generator: Generator } {
  checkTrainingConfig(training);
  checkModelConfig(model);
  const generator = new Generator(training.seed);
  const built = new SequenceModel(model, generator);
  return { model: built, optimizer: createOptimizer(training.optimizer, built, training.lr), generator };
}

/** Reads a field of a saved task state, with a message that says what is wrong with the file. */
export function stateField<T>(state: TaskState, key: string, check: (v: unknown) => v is T, what: string): T {
  const value = state[key];
  if (!check(value)) throw new Error(`checkpoint: task state field '${key}' must be ${what}, received ${JSON.stringify(value)?.slice(0, 80)}`);
  return value;
}

function isRngState(v: unknown): v is DataRngState {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.state === 'number' && (r.spare === null || typeof r.spare === 'number');
}

/** saveState/loadState for a task whose only state between steps is its data RNG. */
export function dataRngPersistence(rng: DataRng): Pick<Task, 'saveState' | 'loadState'> {
  return {
    saveState: () => ({ rng: rng.getState() }),
    loadState: (state) => rng.setState(stateField(state, 'rng', isRngState, 'a data RNG state')),
  };
}
