// The text recipe: the classic language-model batching with the hidden state carried from chunk to
// chunk (detached: truncated BPTT), validation in bits per character, and seeded sampling.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readTextFile, shippedDataPath } from '../src/data/files.js';
import { Vocabulary } from '../src/data/index.js';
import { createTextTask, evaluateText, generateText, train, type TextOptions } from '../src/tasks/index.js';

// 40 kB of Austen: enough for 4 streams of many chunks, quick to train on.
const AUSTEN = readTextFile(shippedDataPath('text/austen-persuasion.txt')).slice(0, 40_000);

function options(overrides: Partial<TextOptions['training']> = {}, cell: TextOptions['model']['cell'] = 'lstm'): TextOptions {
  return {
    training: { seed: 3, optimizer: 'adam', lr: 0.01, clip: 5, batch: 4, seqLen: 32, valSplit: 0.1, ...overrides },
    model: { cell, hiddenSize: 48, numLayers: 1, dropout: 0, bidirectional: false },
    embedding: 16,
  };
}

test('validation bits per character fall within a hundred steps', async () => {
  const task = createTextTask(options(), AUSTEN, 'austen');
  const before = task.evaluate();
  // Untrained, the model is close to uniform over the vocabulary.
  assert.ok(Math.abs(before.metrics.bpc! - Math.log2(task.vocabulary.size)) < 0.3, `bpc ${before.metrics.bpc}`);
  const result = await train(task, { steps: 100, clip: 5 });
  const after = result.lastValidation!;
  assert.ok(after.metrics.bpc! < before.metrics.bpc! - 1.5, `bpc ${before.metrics.bpc} → ${after.metrics.bpc}`);
  assert.equal(after.loss * Math.LOG2E, after.metrics.bpc);
});

test('the hidden state is carried across chunks, detached, and reset at the start of an epoch', () => {
  const task = createTextTask(options({ batch: 2, seqLen: 50 }), AUSTEN.slice(0, 1_100), 'short');
  assert.equal(task.stepsPerEpoch, 10); // (1_100 - 110 validation) / 2 streams = 495 per stream → 494 steps → 10 chunks
  const first = task.trainLoss();
  assert.equal(task.saveState().position, 1);
  const carried = task.saveState().carried as Record<string, { shape: number[] }>;
  assert.deepEqual(carried['carried.h']!.shape, [1, 2, 48]);
  assert.deepEqual(carried['carried.c']!.shape, [1, 2, 48]);
  // Detached: the second chunk's gradients are those of a twin that starts chunk 2 from the same state
  // values with no graph behind them. Without detach, backward would also run through chunk 1.
  const twin = createTextTask(options({ batch: 2, seqLen: 50 }), AUSTEN.slice(0, 1_100), 'short');
  twin.loadState(JSON.parse(JSON.stringify(task.saveState())));
  task.trainLoss().backward();
  twin.trainLoss().backward();
  assert.ok(first.requiresGrad);
  const grads = (t: typeof task) => t.model.parameters().map((p) => Array.from(p.grad!.data));
  assert.deepEqual(grads(task), grads(twin));
  for (let i = 2; i < 10; i++) task.trainLoss();
  assert.equal(task.saveState().position, 0);
  assert.equal(task.saveState().carried, null, 'a new epoch starts every stream from a zero state');
});

test('a carried state changes the prediction: the model reads context beyond one chunk', () => {
  const task = createTextTask(options({ batch: 2, seqLen: 20 }), AUSTEN.slice(0, 5_000), 'ctx');
  task.trainLoss();
  const saved = task.saveState();
  const withState = task.trainLoss().item();
  task.loadState({ ...saved, carried: null });
  const withoutState = task.trainLoss().item();
  assert.notEqual(withState, withoutState);
});

test('sampling is reproducible from its seed; temperature 0 and top-k 1 both decode greedily', async () => {
  const task = createTextTask(options(), AUSTEN, 'austen');
  await train(task, { steps: 30 });
  const sample = (seed: number, temperature: number, topK: number) =>
    generateText(task.model, task.vocabulary, { prime: 'Anne ', length: 40, temperature, topK, seed });
  assert.equal(sample(1, 1, 0), sample(1, 1, 0));
  assert.notEqual(sample(1, 1, 0), sample(2, 1, 0));
  assert.equal(sample(1, 0, 0), sample(9, 1, 1));
  assert.ok(sample(1, 1, 0).startsWith('Anne '));
  assert.equal(sample(1, 1, 0).length, 45);
});

test('text outside the vocabulary is refused with the character and where it is', () => {
  const task = createTextTask(options(), AUSTEN, 'austen');
  assert.throws(() => generateText(task.model, task.vocabulary, { prime: 'Ann€', length: 5, temperature: 1, topK: 0, seed: 0 }), /"€".*line 1, column 4/);
  assert.throws(() => evaluateText(task.model, Vocabulary.fromJSON(task.summary.vocabulary), 'ok\n€', 32, 4), /line 2, column 1/);
});

test('a text shorter than one sequence, or too short for the batch, names the option to change', () => {
  assert.throws(() => createTextTask(options(), 'too short', 'tiny.txt'), /tiny\.txt has 9 characters, shorter than one sequence: --seq-len 32 needs at least 33/);
  assert.throws(() => createTextTask(options({ batch: 64 }), AUSTEN.slice(0, 1_000), 'small.txt'), /cannot fill --batch 64 streams.*at most 27/);
});

test('validationBatches bounds what validation scores; the test part is always scored whole', () => {
  const text = AUSTEN.slice(0, 40_000);
  const all = createTextTask({ ...options({ testSplit: 0.1 }) }, text, 'austen');
  const capped = createTextTask({ ...options({ testSplit: 0.1 }), validationBatches: 2 }, text, 'austen');
  const generous = createTextTask({ ...options({ testSplit: 0.1 }), validationBatches: 1000 }, text, 'austen');
  // Same seed, same weights: only the stretch of validation text scored differs.
  assert.notEqual(capped.evaluate().loss, all.evaluate().loss);
  assert.equal(generous.evaluate().loss, all.evaluate().loss, 'a cap above the part scores all of it');
  assert.equal(capped.evaluate('test').loss, all.evaluate('test').loss);
  // The capped score is exactly the one of the first 2 batches x 4 streams x 32 characters (+1 target).
  const vocabulary = capped.vocabulary;
  const start = capped.summary.splitIndex;
  const direct = evaluateText(capped.model, vocabulary, text.slice(start, start + 2 * 4 * 32 + 1), 32, 4);
  assert.equal(capped.evaluate().loss, direct.loss);
});
