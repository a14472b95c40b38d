// Truncated backpropagation through time: a GRU learns a long real series (monthly sunspots, 3,000+
// steps) in chunks of 50 steps, carrying its hidden state from chunk to chunk and detaching it, so
// memory stays bounded however long the series is.
// Run: node --import tsx examples/truncated-bptt.ts [epochs]
import { readFileSync } from 'node:fs';
import { nn, optim, tensor, Generator, type Tensor } from 'recurrent';

const csv = readFileSync(new URL('../data/series/sunspot.month.csv', import.meta.url), 'utf8');
const values = csv.trim().split('\n').slice(1).map((line) => Number(line.split(',')[1]));
const mean = values.reduce((a, b) => a + b, 0) / values.length;
const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
const series = Float32Array.from(values, (v) => (v - mean) / std);

const chunk = 50;
const rng = new Generator(1);
const gru = new nn.GRU({ inputSize: 1, hiddenSize: 24, generator: rng });
const head = new nn.Linear(24, 1, { generator: rng });
const opt = new optim.Adam([...gru.parameters(), ...head.parameters()], { lr: 0.005 });

const epochs = Number(process.argv[2] ?? 3);
for (let epoch = 1; epoch <= epochs; epoch++) {
  let h: Tensor | undefined; // carried across chunks
  let total = 0, count = 0;
  for (let start = 0; start + chunk + 1 <= series.length; start += chunk) {
    const x = tensor(series.slice(start, start + chunk), [chunk, 1, 1]);
    const y = tensor(series.slice(start + 1, start + chunk + 1), [chunk, 1, 1]);
    const [out, hn] = gru.forward(x, h);
    const loss = nn.mseLoss(head.forward(out), y);
    opt.zeroGrad();
    loss.backward();
    optim.clipGradNorm([...gru.parameters(), ...head.parameters()], 1);
    opt.step();
    h = hn.detach(); // keep the state, cut the graph: the next chunk does not backpropagate into this one
    total += loss.item();
    count++;
  }
  console.log(`epoch ${epoch}  mean chunk mse ${(total / count).toFixed(4)} over ${count} chunks of ${chunk} steps`);
}
