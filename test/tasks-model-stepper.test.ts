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
