// The timing experiment's interval task and its probe on tiny budgets: the data's structure, that
// the numbers come from the runs (seeds change them, a model that cannot see its input stays at
// chance) and that the probe's ablations measure what they say.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './helpers/cli.js';
import '../src/ops/index.js';
import {
  intervalBatch, intervalLength, intervalsCorrect, EveryStepRegressor, LastStepRegressor, spikeErrors, timingBatch, probeTiming, timingExperiment, timingPlot, timingProbeTable, timingTable,
} from '../src/experiments/index.js';
import { zeros, Generator, noGrad, type Tensor } from '../src/tensor/index.js';

test('interval data: two spikes K or K + 1 apart, the first in [0, K); the target says which', () => {
  const K = 6;
  const { inputs, targets } = intervalBatch(K, 200, new Generator(4));
  const length = intervalLength(K);
  assert.deepEqual(inputs.shape, [length, 200, 1]);
  assert.deepEqual(targets.shape, [200, 1]);
  const firsts = new Set<number>();
  let longer = 0;
  for (let b = 0; b < 200; b++) {
    const spikes: number[] = [];
    for (let t = 0; t < length; t++) if (inputs.data[t * 200 + b] === 1) spikes.push(t);
    assert.equal(spikes.length, 2);
    assert.ok(spikes[0]! < K);
    assert.ok(spikes[1]! < length - 1, 'at least one step after the second spike');
    assert.equal(spikes[1]! - spikes[0]!, K + targets.data[b]!);
    firsts.add(spikes[0]!);
    longer += targets.data[b]!;
  }
  assert.equal(firsts.size, K);
  assert.ok(longer > 70 && longer < 130, `${longer} of 200 with the longer interval`);
  assert.equal(intervalsCorrect(targets.data, targets.data, 200), 1);
  assert.equal(intervalsCorrect(targets.data.map((y) => 1 - y), targets.data, 200), 0);
  assert.throws(() => intervalBatch(1, 4, new Generator(0)), /interval must be an integer >= 2, got 1/);
});

test('interval task: an LSTM learns K = 4 in a few hundred steps; seeds give different runs; tables and plot name the task', () => {
  const result = timingExperiment({ task: 'intervals', cells: ['lstm', 'peephole'], periods: [4], steps: 600, seeds: 2, evalEvery: 25 });
  assert.equal(result.options.task, 'intervals');
  assert.deepEqual(result.summary.map((s) => `${s.cell}@${s.period}`), ['lstm@4', 'peephole@4']);
  const lstm = result.runs.filter((r) => r.cell === 'lstm');
  assert.ok(lstm.some((r) => r.solvedAt !== null && r.testCorrect >= 0.9), JSON.stringify(lstm.map((r) => [r.solvedAt, r.testCorrect])));
  assert.notEqual(lstm[0]!.probe.meanOutputGate, lstm[1]!.probe.meanOutputGate);
  for (const s of result.summary) {
    const runs = result.runs.filter((r) => r.cell === s.cell);
    assert.equal(s.solved, runs.filter((r) => r.solvedAt !== null).length);
    assert.ok(Math.abs(s.meanTestCorrect - (runs[0]!.testCorrect + runs[1]!.testCorrect) / 2) < 1e-12);
  }
  assert.match(timingTable(result), /K \(K vs K\+1\).*classified right/);
  assert.match(timingPlot(result), /Spike intervals K vs K \+ 1/);
  assert.equal(timingProbeTable(result).split('\n').length, 2 + 4);
});

test('spike errors: on time, late, silent and extra spikes are told apart per spike', () => {
  const { targets } = timingBatch(4, 3, 20, new Generator(1));
  const length = 16;
  const right = spikeErrors(targets.data, targets.data, length, 20, 3);
  assert.deepEqual(right, { onTime: [1, 1, 1], extra: 0, silent: 0 });
  assert.deepEqual(spikeErrors(new Float32Array(targets.data.length), targets.data, length, 20, 3), { onTime: [0, 0, 0], extra: 0, silent: 1 });
  const late = new Float32Array(targets.data.length);
  for (let i = 20; i < late.length; i++) late[i] = targets.data[i - 20]!;
  assert.deepEqual(spikeErrors(late, targets.data, length, 20, 3), { onTime: [0, 0, 0], extra: 1, silent: 0 });
  // Only the first spike, in the first 10 sequences.
  const first = new Float32Array(targets.data.length);
  for (let b = 0; b < 10; b++) {
    const t = [...Array(length).keys()].find((s) => targets.data[s * 20 + b] === 1)!;
    first[t * 20 + b] = 1;
  }
  assert.deepEqual(spikeErrors(first, targets.data, length, 20, 3), { onTime: [0.5, 0, 0], extra: 0, silent: 0.5 });
});

/** The model class fed zeros in place of its input: it cannot tell one sequence from another. */
function blind(Base: typeof LastStepRegressor) {
  return class Blind extends Base {
    override predict(inputs: Tensor): Tensor {
      return super.predict(zeros(inputs.shape));
    }
  };
}

test('timing: a model that cannot see its input stays at chance on both tasks', () => {
  const budget = { cells: ['lstm'] as const, steps: 300, seeds: 1, evalEvery: 25 };
  const intervals = timingExperiment({
    ...budget, task: 'intervals', periods: [4], makeModel: (cell, hidden, generator) => new (blind(LastStepRegressor))(cell, 1, hidden, 1, generator),
  }).runs[0]!;
  assert.equal(intervals.solvedAt, null);
  assert.equal(intervals.steps, 300);
  assert.ok(intervals.testCorrect > 0.4 && intervals.testCorrect < 0.6, `blind share right ${intervals.testCorrect}`);
  // Outputs that are the same for every sequence can be on time for one trigger step in 3 at best.
  const spikes = timingExperiment({
    ...budget, task: 'spikes', periods: [3], cycles: 2, makeModel: (cell, hidden, generator) => new (blind(EveryStepRegressor))(cell, 1, hidden, 1, generator),
  }).runs[0]!;
  assert.equal(spikes.solvedAt, null);
  assert.ok(spikes.testCorrect < 0.4, `blind share right ${spikes.testCorrect}`);
  assert.equal(spikes.errors!.onTime.length, 2);
  // The same budget is enough for an LSTM that sees its input.
  const seeing = timingExperiment({ ...budget, task: 'spikes', periods: [3], cycles: 2 }).runs[0]!;
  assert.notEqual(seeing.solvedAt, null, JSON.stringify(seeing.errors));
});

test('timing probe: zeroing measures what the model needs, restores the weights, and the peephole share is 0 without peephole weights', () => {
  const model = new LastStepRegressor('peephole', 1, 5, 1, new Generator(7));
  const test = intervalBatch(5, 64, new Generator(8));
  const output = () => Array.from(noGrad(() => model.predict(test.inputs)).data);
  const before = output();
  let calls = 0;
  const probe = probeTiming(model, () => {
    calls++;
    return output().reduce((a, v) => a + v, 0);
  }, test.inputs);
  assert.equal(calls, 2);
  assert.deepEqual(output(), before, 'weights put back');
  assert.notEqual(probe.withoutRecurrence, before.reduce((a, v) => a + v, 0));
  assert.notEqual(probe.withoutPeepholes, null);
  assert.ok(probe.peepholeShare!.o > 0 && probe.peepholeShare!.o < 1);
  assert.ok(probe.meanOutputGate > 0 && probe.meanOutputGate < 1);
  for (const name of ['weight_ci_l0', 'weight_cf_l0', 'weight_co_l0']) {
    const p = [...model.layer.namedParameters()].find(([key]) => key === name)![1];
    (p.data as Float32Array).fill(0);
    p.bumpVersion();
  }
  const zeroed = probeTiming(model, () => output()[0]!, test.inputs);
  assert.deepEqual(zeroed.peepholeShare, { i: 0, f: 0, o: 0 });
  assert.equal(zeroed.withoutPeepholes, output()[0]);
  assert.deepEqual(zeroed.peepholeWeights, { i: 0, f: 0, o: 0 });
  const plain = probeTiming(new LastStepRegressor('lstm', 1, 5, 1, new Generator(7)), () => 0, test.inputs);
  assert.equal(plain.withoutPeepholes, null);
  assert.equal(plain.peepholeShare, null);
  model.dispose();
});

test('recurrent experiment --help names every experiment and the timing task; a bad --task or timing cell is refused', async () => {
  const help = await runCli(['experiment', '--help']);
  assert.equal(help.code, 0);
  for (const name of ['adding', 'gradflow', 'activation', 'timing', 'music']) assert.match(help.stdout, new RegExp(`\\b${name}\\b`));
  assert.match(help.stdout, /--task <name>/);
  const badTask = await runCli(['experiment', 'timing', '--task', 'delays']);
  assert.equal(badTask.code, 1);
  assert.match(badTask.stderr, /expected one of spikes, intervals/);
  const badCell = await runCli(['experiment', 'timing', '--cells', 'gru', '--steps', '1', '--periods', '3', '--seeds', '1']);
  assert.equal(badCell.code, 1);
  assert.match(badCell.stderr, /cells must be lstm or peephole/);
});
