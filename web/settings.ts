/** The page's settings as the task recipes (src/tasks) take them: one place for every kind of task. */
import type { ModelConfig, TrainingConfig } from '../src/tasks/index.js';
import type { PlaygroundConfig } from './protocol.js';

export function modelSettings(settings: PlaygroundConfig): Omit<ModelConfig, 'input' | 'outputSize'> {
  return {
    cell: settings.cell, hiddenSize: settings.hidden, numLayers: settings.layers, dropout: settings.dropout ?? 0, bidirectional: false,
    ...(settings.nonlinearity === undefined ? {} : { nonlinearity: settings.nonlinearity }),
  };
}

/**
 * The page trains with clipping at 1 and holds out `valSplit` for validation (no test part), unless
 * the settings carry a CLI run's own splits.
 */
export function trainingSettings(settings: PlaygroundConfig, valSplit: number): TrainingConfig {
  return {
    seed: settings.seed, optimizer: settings.optimizer, lr: settings.lr, clip: 1, batch: settings.batch, seqLen: settings.seqLen,
    valSplit: settings.valSplit ?? valSplit, ...(settings.testSplit === undefined ? {} : { testSplit: settings.testSplit }),
  };
}
