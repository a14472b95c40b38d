// The experiments of src/experiments on tiny budgets: their outputs' structure, and that the numbers
// are computed from the runs (seeds change them, a model that ignores its input fails).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from './helpers/cli.js';
import '../src/ops/index.js';
import {
  ADDING_BASELINE_MSE, activationExperiment, activationTable, addingBatch, addingExperiment, addingPlot, addingTable,
  gradflowExperiment, gradflowPlot, gradientNorms, sequencesCorrect, timingBatch, timingExperiment, timingPlot, timingTable, hiddenForBudget, LastStepRegressor, lastValueMse, parameterCount, runAdding, sineBatch, type SequenceRegressor,
} from '../src/experiments/index.js';
import { Linear, Module, mseLoss } from '../src/nn/index.js';
import { narrow, reshape } from '../src/ops/index.js';
import { Generator, noGrad, zeros, type Tensor } from '../src/tensor/index.js';

const TMP = mkdtempSync(join(tmpdir(), 'recurrent-experiments-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

test('adding data: two marked steps, one per half, and the target is their sum; the mean predictor scores about 1/6', () => {
  const { inputs, targets } = addingBatch(20, 500, new Generator(3));
  const x = inputs.data;
  let squared = 0;
  for (let b = 0; b < 500; b++) {
    const marked: number[] = [];
    for (let t = 0; t < 20; t++) if (x[(t * 500 + b) * 2 + 1] === 1) marked.push(t);
    assert.equal(marked.length, 2);
    assert.ok(marked[0]! < 10 && marked[1]! >= 10);
    const sum = x[(marked[0]! * 500 + b) * 2]! + x[(marked[1]! * 500 + b) * 2]!;
    assert.ok(Math.abs(targets.data[b]! - sum) < 1e-6);
    squared += (targets.data[b]! - 1) ** 2;
  }
  assert.ok(Math.abs(squared / 500 - ADDING_BASELINE_MSE) < 0.03, `mean-predictor MSE ${squared / 500}`);
  assert.throws(() => addingBatch(1, 4, new Generator(0)), /length must be an integer >= 2, got 1/);
});

test('cells get about the same number of parameters, and the models have it', () => {
  for (const cell of ['rnn', 'lstm', 'gru', 'peephole'] as const) {
    const hidden = hiddenForBudget(cell, 2, 1, 4500);
    assert.ok(Math.abs(parameterCount(cell, 2, hidden, 1) - 4500) < 300, `${cell}: ${parameterCount(cell, 2, hidden, 1)}`);
  }
  const run = runAdding('peephole', 5, 0, { steps: 1, evalEvery: 1, validationSize: 4, testSize: 4 });
  assert.equal(run.parameters, parameterCount('peephole', 2, run.hidden, 1));
});

test('adding experiment: one summary per cell and length, seeds give different runs, the same seed the same run', () => {
  const options = { cells: ['rnn', 'gru'] as const, lengths: [8, 12], steps: 30, seeds: 2, evalEvery: 10, validationSize: 32, testSize: 64 };
  const result = addingExperiment(options);
  assert.equal(result.runs.length, 2 * 2 * 2);
  assert.deepEqual(result.summary.map((s) => `${s.cell}@${s.length}`), ['rnn@8', 'gru@8', 'rnn@12', 'gru@12']);
  for (const run of result.runs) {
    assert.ok(Number.isFinite(run.testMse) && run.testMse > 0);
    assert.equal(run.curve[0]!.step, 0);
    assert.ok(run.steps <= 30);
  }
  const [a, b] = result.runs.filter((r) => r.cell === 'gru' && r.length === 8);
  assert.notEqual(a!.testMse, b!.testMse);
  assert.notEqual(a!.curve[1]!.mse, b!.curve[1]!.mse);
  const again = runAdding('gru', 8, 1, options);
  assert.equal(again.testMse, b!.testMse);
  for (const s of result.summary) {
    const runs = result.runs.filter((r) => r.cell === s.cell && r.length === s.length);
    assert.ok(Math.abs(s.meanTestMse - (runs[0]!.testMse + runs[1]!.testMse) / 2) < 1e-12);
    assert.equal(s.solved, runs.filter((r) => r.solvedAt !== null).length);
  }
  const table = addingTable(result);
  assert.equal(table.split('\n').length, 2 + 4);
  assert.match(table, /\| gru +\| 12 /);
  const svg = addingPlot(result);
  assert.match(svg, /^<svg/);
  assert.match(svg, /data-name="gru"/);
});

/** A model whose prediction is a learned constant: it cannot see the sequence at all. */
class BlindRegressor extends Module implements SequenceRegressor {
  readonly cell = 'blind';
  readonly hiddenSize = 1;
  readonly head: Linear;
  constructor(generator: Generator) {
    super();
    this.head = this.registerModule('head', new Linear(1, 1, { generator }));
  }
  predict(inputs: Tensor): Tensor {
    return this.head.forward(zeros([inputs.shape[1]!, 1]));
  }
}

test('a GRU solves a short adding problem that a model ignoring its input cannot', () => {
  const options = { lengths: [10], steps: 500, evalEvery: 25, validationSize: 128, testSize: 256 };
  const gru = runAdding('gru', 10, 0, options);
  assert.notEqual(gru.solvedAt, null, `GRU curve ${JSON.stringify(gru.curve)}`);
  assert.ok(gru.testMse < 0.02, `GRU test MSE ${gru.testMse}`);
  const blind = addingExperiment({ ...options, cells: ['gru'], seeds: 1, makeModel: (_cell, generator) => new BlindRegressor(generator) });
  const run = blind.runs[0]!;
  assert.equal(run.cell, 'blind');
  assert.equal(run.solvedAt, null);
  assert.equal(run.steps, 500);
  assert.ok(run.testMse > 0.12, `blind test MSE ${run.testMse}`);
  assert.equal(blind.summary[0]!.successRate, 0);
});

test('gradflow: at initialisation the tanh RNN loses orders of magnitude of dLoss/dh_t with distance from the loss', () => {
  const result = gradflowExperiment({ length: 60, trainSteps: 0, batch: 8, seed: 2 });
  assert.deepEqual(result.curves.map((c) => `${c.cell}/${c.stage}`), ['rnn/initialisation', 'lstm/initialisation', 'gru/initialisation']);
  for (const curve of result.curves) {
    assert.equal(curve.norms.length, 60);
    assert.ok(curve.norms.every((n) => Number.isFinite(n) && n >= 0));
    // The loss reads the last step, so the gradient is largest there; 59 steps back it is far smaller.
    assert.ok(curve.norms[59]! > 1e5 * curve.norms[0]!, `${curve.cell}: ${curve.norms[59]} vs ${curve.norms[0]}`);
    assert.ok(Math.abs(curve.decadesLost - Math.log10(curve.norms[59]! / curve.norms[0]!)) < 1e-9);
  }
  // Different seeds, different measurements.
  const other = gradflowExperiment({ length: 60, trainSteps: 0, batch: 8, seed: 3, cells: ['rnn'] });
  assert.notEqual(other.curves[0]!.norms[30], result.curves[0]!.norms[30]);
  assert.match(gradflowPlot(result), /data-name="lstm \(initialisation\)"/);
});

test('gradflow: dLoss/dh_t equals the gradient of h0 for the rest of the sequence run from h_t', () => {
  // Independent of the taps: run steps 0..t without gradients, then t+1..T-1 from that state as a
  // leaf h0; dLoss/dh0 is dLoss/dh_t.
  for (const cell of ['lstm', 'gru'] as const) {
    const model = new LastStepRegressor(cell, 2, 6, 1, new Generator(4));
    const { inputs, targets } = addingBatch(9, 3, new Generator(5));
    const norms = gradientNorms(model, inputs, targets);
    for (const t of [8, 5, 1]) {
      const [, state] = noGrad(() => model.step(narrow(inputs, 0, 0, t + 1)));
      const h0 = (Array.isArray(state) ? state[0] : state).detach();
      h0.requiresGrad = true;
      const rest = narrow(inputs, 0, t + 1, 8 - t);
      let prediction: Tensor;
      if (t === 8) prediction = model.head.forward(reshape(h0, [3, 6]));
      else {
        const [, last] = model.step(rest, Array.isArray(state) ? [h0, state[1]] : h0);
        const h = Array.isArray(last) ? last[0] : last;
        prediction = model.head.forward(reshape(h, [3, 6]));
      }
      mseLoss(prediction, targets).backward();
      const expected = Math.hypot(...h0.grad!.data);
      assert.ok(Math.abs(norms[t]! - expected) <= 1e-5 * expected, `${cell} t=${t}: tap ${norms[t]} vs h0 gradient ${expected}`);
    }
    model.dispose();
  }
});

test('activation: tanh, sigmoid and relu RNNs on adding and sine, scored against each task\'s baseline', () => {
  const result = activationExperiment({ length: 12, steps: 40, seeds: 2, evalEvery: 20 });
  assert.deepEqual(result.summary.map((s) => `${s.task}/${s.cell}`), ['adding/rnn', 'adding/rnn-sigmoid', 'adding/rnn-relu', 'sine/rnn', 'sine/rnn-sigmoid', 'sine/rnn-relu']);
  assert.equal(result.runs.length, 12);
  for (const s of result.summary) {
    const runs = result.runs.filter((r) => r.cell === s.cell && r.task === s.task);
    assert.ok(runs.every((r) => Number.isFinite(r.testMse)));
    assert.notEqual(runs[0]!.testMse, runs[1]!.testMse);
    assert.equal(s.bestTestMse, Math.min(...runs.map((r) => r.testMse)));
  }
  assert.equal(result.summary[0]!.baselineMse, ADDING_BASELINE_MSE);
  // The sine baseline is computed on the test sequences: repeating the last value errs by about ω.
  const sine = result.summary[3]!.baselineMse;
  assert.ok(sine > 0.001 && sine < 0.1, `sine last-value MSE ${sine}`);
  assert.ok(Math.abs(lastValueMse(sineBatch(12, 1000, new Generator(9))) - sine) < 0.02);
  assert.match(activationTable(result), /\| sine +\| rnn-relu /);
  assert.match(activationTable(result), /\| adding +\| rnn-sigmoid /);
  // The nonlinearity is what differs: same seeds, same data, same size, other numbers.
  const mse = (cell: string) => result.runs.filter((r) => r.task === 'sine' && r.cell === cell).map((r) => r.testMse);
  assert.notDeepEqual(mse('rnn-sigmoid'), mse('rnn'));
  assert.notDeepEqual(mse('rnn-sigmoid'), mse('rnn-relu'));
});

test('timing data: one trigger in the first period, then a spike every period; scoring counts whole sequences', () => {
  const period = 5;
  const { inputs, targets } = timingBatch(period, 3, 50, new Generator(2));
  assert.deepEqual(inputs.shape, [20, 50, 1]);
  const starts = new Set<number>();
  for (let b = 0; b < 50; b++) {
    const trigger: number[] = [];
    const spikes: number[] = [];
    for (let t = 0; t < 20; t++) {
      if (inputs.data[t * 50 + b] === 1) trigger.push(t);
      if (targets.data[t * 50 + b] === 1) spikes.push(t);
    }
    assert.equal(trigger.length, 1);
    assert.ok(trigger[0]! < period);
    starts.add(trigger[0]!);
    assert.deepEqual(spikes, [1, 2, 3].map((k) => trigger[0]! + k * period));
  }
  assert.ok(starts.size > 1);
  assert.equal(sequencesCorrect(targets.data, targets.data, 20, 50), 1);
  const late = new Float32Array(targets.data.length);
  for (let i = 50; i < late.length; i++) late[i] = targets.data[i - 50]!; // every spike one step late
  assert.equal(sequencesCorrect(late, targets.data, 20, 50), 0);
});

test('timing experiment: an LSTM learns a short period; summaries count the runs', () => {
  const result = timingExperiment({ cells: ['lstm', 'peephole'], periods: [3, 5], cycles: 2, steps: 20, seeds: 2, evalEvery: 10 });
  assert.equal(result.runs.length, 2 * 2 * 2);
  assert.deepEqual(result.summary.map((s) => `${s.cell}@${s.period}`), ['lstm@3', 'peephole@3', 'lstm@5', 'peephole@5']);
  for (const s of result.summary) {
    const runs = result.runs.filter((r) => r.cell === s.cell && r.period === s.period);
    assert.equal(s.solved, runs.filter((r) => r.solvedAt !== null).length);
    assert.ok(runs.every((r) => r.testCorrect >= 0 && r.testCorrect <= 1));
  }
  // Seeds give different nets: the probe's gate statistics differ.
  const [seed0, seed1] = result.runs.filter((r) => r.cell === 'lstm' && r.period === 5);
  assert.notEqual(seed0!.probe.meanOutputGate, seed1!.probe.meanOutputGate);
  assert.notDeepEqual(seed0!.errors, null);
  assert.match(timingTable(result), /\| peephole \| 5 /);
  assert.match(timingPlot(result), /data-name="peephole"/);
  const learned = timingExperiment({ cells: ['lstm'], periods: [6], cycles: 2, steps: 800, seeds: 1, evalEvery: 25 });
  assert.notEqual(learned.runs[0]!.solvedAt, null, JSON.stringify(learned.runs[0]));
  assert.ok(learned.runs[0]!.testCorrect >= 0.9, `test share right ${learned.runs[0]!.testCorrect}`);
});

test('recurrent experiment adding --json writes the plot and one JSON object; bad lists are named', async () => {
  const plot = join(TMP, 'adding.svg');
  const run = await runCli(['experiment', 'adding', '--cells', 'rnn,lstm', '--lengths', '6', '--steps', '5', '--seeds', '1', '--json', '--plot', plot]);
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.equal(out.experiment, 'adding');
  assert.deepEqual(out.summary.map((s: { cell: string }) => s.cell), ['rnn', 'lstm']);
  assert.ok(out.runs.every((r: { testMse: number }) => r.testMse > 0));
  assert.match(readFileSync(plot, 'utf8'), /Adding problem: test MSE/);
  const badCell = await runCli(['experiment', 'adding', '--cells', 'lstm,sigmoid', '--plot', join(TMP, 'x.svg')]);
  assert.equal(badCell.code, 1);
  assert.match(badCell.stderr, /--cells: expected items among rnn, rnn-relu, rnn-sigmoid, lstm, gru, peephole, got "sigmoid"/);
  const badLength = await runCli(['experiment', 'adding', '--lengths', '50,1', '--plot', join(TMP, 'x.svg')]);
  assert.equal(badLength.code, 1);
  assert.match(badLength.stderr, /--lengths: expected integers in \[2, 100000\] separated by commas, got "1"/);
  const table = await runCli(['experiment', 'gradflow', '--cells', 'rnn', '--length', '20', '--train-steps', '0', '--plot', join(TMP, 'g.svg')]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /\| rnn +\| initialisation /);
  const huge = await runCli(['experiment', 'gradflow', '--length', '100000', '--batch', '65536', '--plot', join(TMP, 'x.svg')]);
  assert.equal(huge.code, 1);
  assert.match(huge.stderr, /65536 sequences of 100000 steps would need 13107200000 elements, more than the limit/);
  const badPeriod = await runCli(['experiment', 'timing', '--periods', '4,x', '--plot', join(TMP, 'x.svg')]);
  assert.equal(badPeriod.code, 1);
  assert.match(badPeriod.stderr, /--periods: expected integers in \[2, 100000\] separated by commas, got "x"/);
});
