// Train an LSTM to predict the next value of a sine wave. Run: node --import tsx examples/sine-wave.ts
import { nn, optim, tensor, noGrad, Generator } from 'recurrent';

const rng = new Generator(0);
const lstm = new nn.LSTM({ inputSize: 1, hiddenSize: 32, generator: rng });
const head = new nn.Linear(32, 1, { generator: rng });
const opt = new optim.Adam([...lstm.parameters(), ...head.parameters()], { lr: 0.01 });

// A batch of 16 windows of 40 steps: inputs sin(t), targets sin(t + 0.2), as [seq, batch, 1].
function batch(seq = 40, size = 16) {
  const x = new Float32Array(seq * size), y = new Float32Array(seq * size);
  for (let b = 0; b < size; b++) {
    const phase = rng.uniform() * 2 * Math.PI;
    for (let t = 0; t < seq; t++) {
      x[t * size + b] = Math.sin(phase + 0.2 * t);
      y[t * size + b] = Math.sin(phase + 0.2 * (t + 1));
    }
  }
  return { x: tensor(x, [seq, size, 1]), y: tensor(y, [seq, size, 1]) };
}

const steps = Number(process.argv[2] ?? 300);
for (let step = 1; step <= steps; step++) {
  const { x, y } = batch();
  const [out] = lstm.forward(x);
  const loss = nn.mseLoss(head.forward(out), y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
  if (step % 50 === 0 || step === steps) console.log(`step ${step}  mse ${loss.item().toFixed(5)}`);
}
const { x, y } = batch();
const mse = noGrad(() => nn.mseLoss(head.forward(lstm.forward(x)[0]), y).item());
console.log(`held-out mse ${mse.toFixed(5)}`);
