// The divergence guard: NaN, Infinity or a loss that stays far above its running level ends training
// with a message naming the step; the weights never take a non-finite step; the CLI leaves a finite,
// loadable best checkpoint and says what to try.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { decodeCheckpoint } from '../src/io/index.js';
import { createSeriesTask, DivergenceGuard, sineSeries, train, trainStep, TrainingDivergedError, type Task } from '../src/tasks/index.js';
import { runCli } from './helpers/cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'recurrent-divergence-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

const seriesTask = (lr: number, optimizer: 'adam' | 'sgd' = 'adam'): Task =>
  createSeriesTask({
    training: { seed: 3, optimizer, lr, clip: 0, batch: 4, seqLen: 12, valSplit: 0.2 },
    model: { cell: 'gru', hiddenSize: 8, numLayers: 1, dropout: 0, bidirectional: false },
    target: 'level',
  }, sineSeries(0, 300));

test('DivergenceGuard: NaN and Infinity at once, an exploding loss after `patience` steps, a lone spike never', () => {
  assert.throws(() => new DivergenceGuard().observe(7, NaN, 1), { name: 'TrainingDivergedError', message: /^training diverged at step 7: the loss is NaN/ });
  assert.throws(() => new DivergenceGuard().observe(8, 1, Infinity), /at step 8: the gradient norm is Infinity/);

  const guard = new DivergenceGuard({ factor: 10, patience: 3 });
  for (let step = 1; step <= 20; step++) guard.observe(step, 1 / step, 1);
  // One noisy batch over the bar, then calm again: not a divergence, and the spike did not move the level.
  guard.observe(21, 50, 1);
  assert.equal(guard.suspect, true);
  guard.observe(22, 0.05, 1);
  assert.equal(guard.suspect, false);
  guard.observe(23, 10, 1);
  guard.observe(24, 1e3, 1);
  let error: unknown;
  try {
    guard.observe(25, 1e6, 1);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof TrainingDivergedError);
  assert.equal(error.step, 25);
  assert.equal(error.reason, 'exploding loss');
  assert.match(error.message, /the loss \(now 1000000\) has stayed above 10 × its running level 0\.\d+ for 3 steps/);
  assert.throws(() => new DivergenceGuard({ patience: 0 }), /patience must be an integer >= 1, got 0/);
  assert.throws(() => new DivergenceGuard({ factor: 1 }), /factor must be a number > 1/);
});

test('DivergenceGuard state: a guard restored mid-run judges the rest as the uninterrupted one; damaged states are refused', () => {
  const losses = [1, 0.9, 0.8, 50, 0.7, 30, 40, 60, 80, 100];
  const divergesAt = (guard: DivergenceGuard, from: number): number | null => {
    for (let i = from; i < losses.length; i++) {
      try {
        guard.observe(i + 1, losses[i]!, 1);
      } catch (e) {
        assert.ok(e instanceof TrainingDivergedError);
        return e.step;
      }
    }
    return null;
  };
  const options = { factor: 10, patience: 4 };
  const whole = divergesAt(new DivergenceGuard(options), 0);
  assert.equal(whole, 9);
  // Stopped after step 7 (two steps into the streak), saved as JSON, resumed in a new guard.
  const first = new DivergenceGuard(options);
  losses.slice(0, 7).forEach((loss, i) => first.observe(i + 1, loss, 1));
  const saved = JSON.parse(JSON.stringify(first.state()));
  assert.deepEqual(saved, { level: first.state().level, streak: 2 });
  const resumed = new DivergenceGuard(options);
  resumed.restore(saved);
  assert.equal(resumed.suspect, true);
  assert.equal(divergesAt(resumed, 7), whole);
  // A fresh guard would have taken the blown-up loss of step 8 as its level and let the rest pass.
  assert.equal(divergesAt(new DivergenceGuard(options), 7), null);

  assert.deepEqual(new DivergenceGuard().state(), { level: null, streak: 0 });
  assert.throws(() => new DivergenceGuard().restore({ level: NaN, streak: 0 }), /level must be a finite number or null, got NaN/);
  assert.throws(() => new DivergenceGuard().restore({ level: '1' as unknown as number, streak: 0 }), /level must be a finite number or null, got "1"/);
  assert.throws(() => new DivergenceGuard().restore({ level: 1, streak: -1 }), /streak must be an integer >= 0, got -1/);
  assert.throws(() => new DivergenceGuard().restore(null as unknown as { level: number; streak: number }), /level must be/);
});

test('trainStep never applies a non-finite gradient: the weights and optimizer state stay as they were', () => {
  const task = seriesTask(0.01);
  trainStep(task, 0);
  const before = task.model.parameters().map((p) => Float32Array.from(p.data));
  const stateBefore = Object.values(task.optimizer.stateDict().state).map((t) => Float32Array.from(t.data));
  const first = task.model.parameters()[0]!;
  // Poison the next forward: a NaN weight gives a NaN loss and NaN gradients.
  const saved = first.data[0]!;
  first.data[0] = NaN;
  first.bumpVersion();
  assert.throws(() => trainStep(task, 0, new DivergenceGuard(), 2), /training diverged at step 2: the loss is NaN/);
  first.data[0] = saved;
  first.bumpVersion();
  task.model.parameters().forEach((p, i) => assert.deepEqual(Float32Array.from(p.data), before[i]));
  Object.values(task.optimizer.stateDict().state).forEach((t, i) => assert.deepEqual(Float32Array.from(t.data), stateBefore[i]));
});

test('train() through the API: SGD with a huge learning rate ends in TrainingDivergedError, not NaN losses', async () => {
  const task = seriesTask(1e4, 'sgd');
  const losses: number[] = [];
  await assert.rejects(train(task, { steps: 200, onStep: (s) => void losses.push(s.loss) }), (e: unknown) => {
    assert.ok(e instanceof TrainingDivergedError, String(e));
    assert.match(e.message, /^training diverged at step \d+: .* \(lower the learning rate or clip the gradient norm\)$/);
    return true;
  });
  assert.ok(losses.length < 200 && losses.every(Number.isFinite), `losses seen: ${losses.join(', ')}`);
  for (const p of task.model.parameters()) assert.ok(p.data.every(Number.isFinite), 'no non-finite step reached the weights');
  // The same run with the guard off goes on to the end or to a non-finite value, never silently past one.
  const unguarded = seriesTask(1e4, 'sgd');
  await train(unguarded, { steps: 200, divergence: false }).then(
    (r) => assert.equal(r.step, 200),
    (e: unknown) => assert.ok(e instanceof TrainingDivergedError && e.reason !== 'exploding loss', String(e)),
  );
});

test('recurrent train --lr 10 stops with the step, the best checkpoint and what to try; that checkpoint is finite and loads', async () => {
  const dir = join(TMP, 'lr10');
  const r = await runCli(['train', 'series', '--data', 'sine', '--hidden', '16', '--lr', '10', '--steps', '200', '--val-every', '1', '--out', dir]);
  assert.equal(r.code, 1, r.stderr);
  const escaped = dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.match(r.stderr, new RegExp(`^recurrent: error: training diverged at step (\\d+): the loss \\(now \\S+\\) has stayed above 10 × its running level \\S+ for 10 steps; the best checkpoint is ${escaped}/best\\.safetensors \\(step (\\d+), validation loss \\S+\\)\\. Try a lower --lr \\(now 10, e\\.g\\. 1\\) or a smaller --clip \\(now 5\\), and train again with --force\\n$`));
  const [, stoppedAt, bestAt] = /step (\d+).*step (\d+)/.exec(r.stderr)!;
  const best = decodeCheckpoint(readFileSync(join(dir, 'best.safetensors')));
  assert.equal(best.step, Number(bestAt));
  assert.ok(best.step < Number(stoppedAt));
  // decodeCheckpoint refuses non-finite tensors; check anyway that the weights are the finite ones.
  for (const t of Object.values(best.model)) assert.ok(t.data.every(Number.isFinite));
  // Nothing saved while the loss was over the bar: the latest checkpoint is not a diverged state either.
  const latest = decodeCheckpoint(readFileSync(join(dir, 'latest.safetensors')));
  assert.ok(latest.step <= Number(stoppedAt) - 10, `latest at ${latest.step}, stopped at ${stoppedAt}`);

  // --resume goes on from the last good checkpoint with the guard as it was there (its running level
  // is part of the checkpoint), so it diverges again at the same step rather than measuring the
  // blown-up losses against themselves and ending with exit 0.
  const resumed = await runCli(['train', 'series', '--resume', dir]);
  assert.equal(resumed.code, 1, resumed.stdout);
  assert.match(resumed.stderr, new RegExp(`^recurrent: error: training diverged at step ${stoppedAt}: `));
  assert.equal(resumed.stderr, r.stderr, 'the same divergence, said the same way');

  // Without a validation before the divergence, the kept state is the checkpoint of step 1; a resume
  // from it names it too, rather than saying that no checkpoint was written.
  const early = join(TMP, 'lr10-early');
  const first = await runCli(['train', 'series', '--data', 'sine', '--hidden', '16', '--lr', '10', '--steps', '200', '--out', early]);
  assert.equal(first.code, 1, first.stderr);
  assert.match(first.stderr, /; the last checkpoint before it is \S+\/latest\.safetensors \(step 1\)\. Try/);
  const again = await runCli(['train', 'series', '--resume', early]);
  assert.equal(again.stderr, first.stderr);
});
