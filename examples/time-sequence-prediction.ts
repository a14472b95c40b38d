// A port of pytorch/examples time_sequence_prediction: two stacked LSTMCells and a Linear head learn
// sine waves with L-BFGS (lr 0.8, the strong-Wolfe line search off as in the original), then predict
// `future` steps past the end by feeding back their own output.
// Run: node --import tsx examples/time-sequence-prediction.ts [steps] [sequences] [length] [hidden]
// (the original: 15 steps, 100 sequences of 1000, hidden 51; the defaults here are smaller.)
// Figure (checked by test/examples-pytorch-ports.test.ts with `3 6 80 16`): the training loss falls
// at least 100-fold in 3 L-BFGS steps and the test loss ends below 2e-3.
import { nn, optim, tensor, noGrad, Generator, stack, type Tensor } from 'recurrent';

const [steps = 8, sequences = 24, length = 240, hidden = 32] = process.argv.slice(2).map(Number);

// The data of generate_sine_wave.py: sin(x / T) with period T = 20 and a random shift per sequence.
const rng = new Generator(0);
const waves = Array.from({ length: sequences }, () => {
  const shift = Math.floor(rng.uniform() * 8 * 20) - 4 * 20;
  return Float64Array.from({ length }, (_, i) => Math.sin((i + shift) / 20));
});
/** [batch, time] inputs (all but the last value) and targets (all but the first). */
const split = (rows: Float64Array[]): [Tensor, Tensor] => [
  tensor(Float64Array.from(rows.flatMap((w) => [...w.subarray(0, length - 1)])), [rows.length, length - 1]),
  tensor(Float64Array.from(rows.flatMap((w) => [...w.subarray(1)])), [rows.length, length - 1]),
];
const [trainInput, trainTarget] = split(waves.slice(3));
const [testInput, testTarget] = split(waves.slice(0, 3));

class Sequence extends nn.Module {
  lstm1 = new nn.LSTMCell(1, hidden, { dtype: 'float64', generator: rng });
  lstm2 = new nn.LSTMCell(hidden, hidden, { dtype: 'float64', generator: rng });
  linear = new nn.Linear(hidden, 1, { dtype: 'float64', generator: rng });

  forward(input: Tensor, future = 0): Tensor {
    const outputs: Tensor[] = [];
    let s1: [Tensor, Tensor] | undefined, s2: [Tensor, Tensor] | undefined;
    let output!: Tensor;
    const advance = (x: Tensor): void => {
      s1 = this.lstm1.forward(x, s1);
      s2 = this.lstm2.forward(s1[0], s2);
      output = this.linear.forward(s2[0]);
      outputs.push(output);
    };
    for (let t = 0; t < input.sizeAt(1); t++) advance(input.select(1, t).unsqueeze(1));
    for (let t = 0; t < future; t++) advance(output); // predicting the future from its own output
    return stack(outputs, 1).squeeze(2);
  }
}

const seq = new Sequence();
const criterion = new nn.MSELoss();
const optimizer = new optim.LBFGS(seq.parameters(), { lr: 0.8 });
for (let i = 1; i <= steps; i++) {
  const loss = optimizer.step(() => {
    optimizer.zeroGrad();
    const l = criterion.forward(seq.forward(trainInput), trainTarget);
    l.backward();
    return l;
  });
  const future = 100;
  const testLoss = noGrad(() => {
    const pred = seq.forward(testInput, future);
    return criterion.forward(pred.narrow(1, 0, length - 1), testTarget).item();
  });
  console.log(`step ${i}  loss ${loss.item().toExponential(3)}  test loss ${testLoss.toExponential(3)}`);
}
