// Resuming is exact for every task: weights, optimizer state, the generator (dropout masks), the data
// stream and any carried hidden state go through a checkpoint's bytes, and a fresh recipe restored
// from them produces the very losses the uninterrupted run produced.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readMidiFile, readSeriesFile, shippedDataPath } from '../src/data/files.js';
import { readTextFile } from '../src/data/files.js';
import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from '../src/io/index.js';
import {
  createDenoiseTask, createMusicTask, createSeriesTask, createTextTask, trainStep, type ModelConfig, type Task, type TrainingConfig,
} from '../src/tasks/index.js';

const training = (seqLen: number, batch: number): TrainingConfig => ({ seed: 11, optimizer: 'adam', lr: 0.005, clip: 1, batch, seqLen, valSplit: 0.1 });
const model = (cell: ModelConfig['cell'], bidirectional = false): Omit<ModelConfig, 'input' | 'outputSize'> =>
  ({ cell, hiddenSize: 16, numLayers: 2, dropout: 0.3, bidirectional });

const text = readTextFile(shippedDataPath('text/austen-sense.txt')).slice(0, 8_000);
const series = readSeriesFile(shippedDataPath('series/sunspot.month.csv'));
const pieces = [readMidiFile(shippedDataPath('music/pianobooster/BoosterMusic-06-Greensleeves.mid'))];

const recipes: Record<string, () => Task> = {
  'series (LSTM)': () => createSeriesTask({ training: training(12, 8), model: model('lstm'), target: 'delta' }, series),
  // Three chunks per epoch: the run crosses an epoch boundary, where the carried state resets.
  'text (peephole LSTM, carried state)': () => createTextTask({ training: training(40, 60), model: model('peephole'), embedding: 8 }, text),
  'music (poly, GRU)': () => createMusicTask({ training: training(16, 4), model: model('gru'), encoding: 'poly', embedding: 0 }, pieces),
  'denoise (bidirectional RNN)': () => createDenoiseTask({ training: training(24, 4), model: model('rnn', true), snr: 3 }, null),
};

const steps = (task: Task, n: number): number[] => Array.from({ length: n }, () => trainStep(task, 1).loss);

for (const [name, make] of Object.entries(recipes)) {
  test(`${name}: a run resumed from a checkpoint continues with the same losses`, () => {
    const straight = make();
    const expected = steps(straight, 8);

    const first = make();
    assert.deepEqual(steps(first, 4), expected.slice(0, 4));
    const bytes = encodeCheckpoint({ model: first.model, optimizer: first.optimizer, generator: first.generator, step: 4, extra: { task: first.saveState() } });

    const resumed = make();
    const { step, extra } = restoreCheckpoint(bytes, { model: resumed.model, optimizer: resumed.optimizer, generator: resumed.generator });
    resumed.loadState((extra as { task: Record<string, unknown> }).task);
    assert.equal(step, 4);
    assert.deepEqual(steps(resumed, 4), expected.slice(4));
    assert.deepEqual(resumed.evaluate(), straight.evaluate());
  });
}

test('the carried hidden state of text goes into the checkpoint as exact float32 values', () => {
  const task = recipes['text (peephole LSTM, carried state)']!();
  steps(task, 1);
  const bytes = encodeCheckpoint({ model: task.model, step: 1, extra: { task: task.saveState() } });
  const carried = ((decodeCheckpoint(bytes).extra as { task: { carried: Record<string, { shape: number[]; data: number[] }> } }).task.carried);
  assert.deepEqual(Object.keys(carried).sort(), ['carried.c', 'carried.h']);
  assert.deepEqual(carried['carried.h']!.shape, [2, 60, 16]);
  for (const x of carried['carried.h']!.data) assert.equal(Math.fround(x), x);
});
