// ModelStepper (what text and music generation run): a prime through forward, then one step at a
// time through the recurrent layer's stepper, gives the outputs of forward chained one step at a
// time, bit for bit, for every cell, input kind (dense, one-hot classes, embedded classes) and for
// bidirectional models (which keep calling forward).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, noGrad, type Tensor } from '../src/tensor/index.js';
import { CELLS, ModelStepper, SequenceModel, type ModelInput, type RecurrentState, type SequenceInput } from '../src/tasks/model.js';

const inputs: [string, ModelInput][] = [
  ['dense', { kind: 'dense', size: 3 }],
  ['one-hot classes', { kind: 'classes', classes: 6, embedding: 0 }],
  ['embedded classes', { kind: 'classes', classes: 6, embedding: 4 }],
];

function stepInput(input: ModelInput, steps: number, random: Generator): SequenceInput {
  if (input.kind === 'dense') return { data: Float32Array.from({ length: steps * input.size }, () => random.uniform() - 0.5), steps, batch: 1 };
  return { data: Int32Array.from({ length: steps }, () => Math.floor(random.uniform() * input.classes)), steps, batch: 1 };
}

for (const cell of CELLS) {
  for (const [name, input] of inputs) {
    for (const bidirectional of [false, true]) {
      test(`${cell}, ${name}${bidirectional ? ', bidirectional' : ''}: the stepper gives forward's bits`, () => {
        const model = new SequenceModel(
          { cell, hiddenSize: 9, numLayers: 2, dropout: 0.3, bidirectional, input, outputSize: 5 }, new Generator(3),
        );
        model.eval();
        const random = new Generator(8);
        const prime = stepInput(input, 4, random);
        const steps = Array.from({ length: 5 }, () => stepInput(input, 1, random));
        const stepper = new ModelStepper(model);
        const got: Tensor[] = [stepper.prime(prime), ...steps.map((s) => stepper.step(s))];
        const want = noGrad(() => {
          let state: RecurrentState | null = null;
          return [prime, ...steps].map((s) => {
            const r = model.forward(s, state);
            state = r.state;
            return r.output;
          });
        });
        got.forEach((g, i) => {
          assert.deepEqual(g.shape, want[i]!.shape, `output ${i} shape`);
          assert.deepEqual([...g.data], [...want[i]!.data], `output ${i}`);
        });
        assert.throws(() => stepper.step(prime), /step takes 1 step of batch 1, got 4 × 1/);
        stepper.dispose();
      });
    }
  }
}

test('SequenceModel shares a dense input array without a copy, yet refilling it before backward() changes no gradient', () => {
  for (const cell of CELLS) {
    const model = new SequenceModel(
      { cell, hiddenSize: 4, numLayers: 2, dropout: 0, bidirectional: true, input: { kind: 'dense', size: 3 }, outputSize: 2 }, new Generator(5),
    );
    const data = Float32Array.from({ length: 5 * 2 * 3 }, (_, i) => Math.sin(i));
    const gradients = (refill: boolean): number[][] => {
      model.zeroGrad();
      const { output } = model.forward({ data, steps: 5, batch: 2 });
      const loss = output.mul(output).sum();
      const kept = data.slice();
      if (refill) data.fill(7); // the next batch arrives in the same buffer
      loss.backward();
      data.set(kept);
      return model.parameters().map((p) => [...p.grad!.data]);
    };
    assert.deepEqual(gradients(true), gradients(false), cell);
  }
});

/** Row b of a time-major batch input: its first `steps` steps as a batch-1 input. */
function rowOf(input: ModelInput, batchInput: SequenceInput, b: number, steps: number): SequenceInput {
  const width = input.kind === 'dense' ? input.size : 1;
  const data = input.kind === 'dense' ? new Float32Array(steps * width) : new Int32Array(steps);
  for (let t = 0; t < steps; t++) data.set(batchInput.data.subarray((t * batchInput.batch + b) * width, (t * batchInput.batch + b + 1) * width), t * width);
  return { data, steps, batch: 1 };
}

function batchInputOf(input: ModelInput, steps: number, batch: number, random: Generator): SequenceInput {
  const one = stepInput(input, steps * batch, random);
  return { data: one.data, steps, batch };
}

/** [h] or [h, c], each [layers × directions, batch, size], as rows of row b. */
function stateRow(state: RecurrentState, b: number): number[][] {
  return (Array.isArray(state) ? state : [state]).map((t) => {
    const [layers, batch, size] = t.shape as [number, number, number];
    const out: number[] = [];
    for (let l = 0; l < layers; l++) out.push(...t.data.subarray((l * batch + b) * size, (l * batch + b + 1) * size));
    return out;
  });
}

function assertNear(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= 2e-6, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
}

for (const cell of CELLS) {
  for (const bidirectional of [false, true]) {
    test(`${cell}${bidirectional ? ', bidirectional' : ''}: rows of different lengths in one batch give what each row gives alone`, () => {
      const input: ModelInput = { kind: 'classes', classes: 6, embedding: 4 };
      const model = new SequenceModel({ cell, hiddenSize: 7, numLayers: 2, dropout: 0, bidirectional, input, outputSize: 5 }, new Generator(4));
      model.eval();
      const lengths = [5, 2, 4];
      const batch = batchInputOf(input, 5, 3, new Generator(9));
      const { output, state } = noGrad(() => model.forward({ ...batch, lengths }));
      const bias = [...model.head.bias!.data];
      lengths.forEach((n, b) => {
        const alone = noGrad(() => model.forward(rowOf(input, batch, b, n)));
        const rows: number[] = [];
        for (let t = 0; t < n; t++) rows.push(...output.data.subarray((t * 3 + b) * 5, (t * 3 + b + 1) * 5));
        assertNear(rows, alone.output.data, `row ${b} outputs`);
        // Past its length a row reads nothing: its features are zero, its output the head's bias.
        for (let t = n; t < 5; t++) assertNear(output.data.subarray((t * 3 + b) * 5, (t * 3 + b + 1) * 5), bias, `row ${b} padding step ${t}`);
        stateRow(state, b).forEach((s, k) => assertNear(s, stateRow(alone.state, 0)[k]!, `row ${b} final state ${k}`));
      });
    });
  }
}

test('with lengths, the padding is never read: gradients do not depend on it', () => {
  for (const cell of CELLS) {
    const model = new SequenceModel({ cell, hiddenSize: 5, numLayers: 1, dropout: 0, bidirectional: true, input: { kind: 'dense', size: 2 }, outputSize: 1 }, new Generator(6));
    const lengths = [3, 6];
    const data = Float32Array.from({ length: 6 * 2 * 2 }, (_, i) => Math.cos(i));
    const gradients = (): number[][] => {
      model.zeroGrad();
      const { output } = model.forward({ data, steps: 6, batch: 2, lengths });
      output.sum().backward();
      return model.parameters().map((p) => [...p.grad!.data]);
    };
    const before = gradients();
    for (let t = 3; t < 6; t++) data.fill(100, (t * 2) * 2, (t * 2 + 1) * 2); // row 0's padding
    assert.deepEqual(gradients(), before, cell);
  }
});

test('a batched ModelStepper primes rows of different lengths in one call, then steps them together', () => {
  for (const cell of CELLS) {
    const input: ModelInput = { kind: 'classes', classes: 6, embedding: 0 };
    const model = new SequenceModel({ cell, hiddenSize: 8, numLayers: 2, dropout: 0, bidirectional: false, input, outputSize: 6 }, new Generator(2));
    model.eval();
    const random = new Generator(12);
    const lengths = [2, 6, 4];
    const prime = batchInputOf(input, 6, 3, random);
    const steps = Array.from({ length: 3 }, () => batchInputOf(input, 1, 3, random));
    const together = new ModelStepper(model, { batch: 3 });
    together.prime({ ...prime, lengths });
    const got = steps.map((s) => together.step(s));
    lengths.forEach((n, b) => {
      const alone = new ModelStepper(model);
      alone.prime(rowOf(input, prime, b, n));
      steps.forEach((s, i) => assertNear(got[i]!.data.subarray(b * 6, (b + 1) * 6), alone.step(rowOf(input, s, b, 1)).data, `${cell} row ${b} step ${i}`));
      alone.dispose();
    });
    assert.throws(() => together.step({ ...steps[0]!, lengths: [1, 1, 1] }), /step takes no lengths/);
    assert.throws(() => together.prime(rowOf(input, prime, 0, 2)), /prime takes the stepper's batch of 3, got 1/);
    assert.throws(() => together.prime({ ...prime, lengths: [2, 7, 1] }), /lengths\[1\] must be an integer in \[1, 6\], got 7/);
    assert.throws(() => together.prime({ ...prime, lengths: [2, 6] }), /lengths must hold one length per batch row \(3\), got 2/);
    together.dispose();
  }
});
