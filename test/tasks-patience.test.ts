import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSeriesTask, sineSeries, train, type SeriesOptions } from '../src/tasks/index.js';

const options: SeriesOptions = {
  training: { seed: 1, optimizer: 'adam', lr: 0.01, clip: 5, batch: 4, seqLen: 10, valSplit: 0.2 },
  model: { cell: 'rnn', hiddenSize: 4, numLayers: 1, dropout: 0, bidirectional: false },
  target: 'level',
};

/** A task whose validation losses follow a script: best at the second validation, worse after. */
function scripted(losses: number[]) {
  const task = createSeriesTask(options, sineSeries());
  let k = 0;
  return Object.assign(task, { evaluate: () => ({ loss: losses[Math.min(k++, losses.length - 1)]!, metrics: {} }) });
}

test('patience stops training after that many validations without a new best, and a resumed run stops at the same step', async () => {
  const losses = [5, 4, 4.5, 4.6, 4.7, 4.8, 4.9, 5];
  const full = await train(scripted(losses), { steps: 8, validateEvery: 1, patience: 3 });
  assert.equal(full.earlyStopped, true);
  assert.equal(full.step, 5, 'best at step 2; steps 3, 4 and 5 bring nothing better');
  assert.equal(full.bestLoss, 4);
  // Resumed after step 3 with the earlier best: the rule depends only on the step and the best step.
  const resumed = await train(scripted(losses.slice(3)), { steps: 8, startStep: 3, bestLoss: 4, bestStep: 2, validateEvery: 1, patience: 3 });
  assert.equal(resumed.step, 5);
  const noPatience = await train(scripted(losses), { steps: 8, validateEvery: 1 });
  assert.equal(noPatience.step, 8);
  assert.ok(!noPatience.earlyStopped);
});
