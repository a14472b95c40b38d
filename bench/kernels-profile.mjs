// The recurrent hot paths in one process, for before/after figures while tuning the kernels: the W1,
// W3, W4 and W5 workloads (same shapes as bench/workloads.mjs) and the GEMM shapes they issue.
//
//   node --import tsx bench/kernels-profile.mjs [--only W1,W3,W4,W5,gemm] [--threads N] [--rounds R] [--backend js]
//
// Imports the sources (tsx) when it can, else dist/. Prints the median and the best of R rounds for
// each figure: the machine is shared, so compare figures taken side by side, not across days.
import { WORKLOADS } from './workloads.mjs';
import { makeBatch } from './data.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const only = flag('only', 'W1,W3,W4,W5,gemm').toUpperCase().split(',');
const threads = Number(flag('threads', '1')); // 1 unless asked: the library's default may be 2
const roundsWanted = Number(flag('rounds', '7'));

const load = async (path) => import(`../src/${path}.ts`).catch(() => import(`../dist/${path}.js`));
const lib = await load('index');
const kernelsIndex = await load('kernels/index');
const { nn, optim, tensor, fromArray, noGrad, setBackend } = lib;
if (flag('backend')) setBackend(flag('backend'));
await kernelsIndex.setThreads(threads);
const k = kernelsIndex.kernelsFor('float32');

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Runs `unit` in rounds of ~`roundSeconds`; returns units per second, median and best. */
function rate(unit, roundSeconds = 0.5) {
  const t0 = performance.now();
  unit();
  unit();
  const per = Math.max((performance.now() - t0) / 2000, 1e-7);
  const perRound = Math.max(1, Math.round(roundSeconds / per));
  const rates = [];
  for (let r = 0; r < roundsWanted; r++) {
    const t = performance.now();
    for (let i = 0; i < perRound; i++) unit();
    rates.push(perRound / ((performance.now() - t) / 1000));
  }
  return { median: median(rates), best: Math.max(...rates) };
}

const show = (label, r, unit, scale = 1) =>
  console.log(`${label.padEnd(52)} median ${(r.median * scale).toPrecision(4).padStart(8)}  best ${(r.best * scale).toPrecision(4).padStart(8)} ${unit}`);

function trainer(modules, opt, loss, clip) {
  const params = modules.flatMap((m) => [...m.parameters()]);
  return () => {
    opt.zeroGrad();
    loss().backward();
    if (clip) optim.clipGradNorm(params, clip);
    opt.step();
  };
}

console.log(`backend ${k.name}, threads ${k.threads ?? 1}, load ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);

if (only.includes('W1')) {
  const w = WORKLOADS.W1;
  const { oneHot, targets } = makeBatch('W1');
  const lstm = new nn.LSTM({ inputSize: w.vocab, hiddenSize: w.hidden, numLayers: w.layers });
  const head = new nn.Linear(w.hidden, w.vocab);
  const opt = new optim.Adam([...lstm.parameters(), ...head.parameters()], { lr: w.lr });
  const x = tensor(oneHot, [w.seq, w.batch, w.vocab]);
  const step = trainer([lstm, head], opt, () => {
    const [out] = lstm.forward(x);
    return nn.crossEntropy(head.forward(out).reshape([w.seq * w.batch, w.vocab]), targets);
  }, w.clip);
  show('W1 char-rnn training', rate(step, 1), 'tok/s', w.perStep);
  const fwd = () => noGrad(() => lstm.forward(x));
  show('W1 forward only (noGrad)', rate(fwd, 0.5), 'tok/s', w.perStep);
}

if (only.includes('W3')) {
  const w = WORKLOADS.W3;
  const { x, y } = makeBatch('W3');
  const gru = new nn.GRU({ inputSize: w.input, hiddenSize: w.hidden });
  const head = new nn.Linear(w.hidden, 1);
  const opt = new optim.SGD([...gru.parameters(), ...head.parameters()], { lr: w.lr });
  const xs = tensor(x, [w.seq, w.batch, w.input]);
  const ys = tensor(y, [w.seq, w.batch, 1]);
  const step = trainer([gru, head], opt, () => nn.mseLoss(head.forward(gru.forward(xs)[0]), ys));
  show('W3 GRU training', rate(step, 0.5), 'steps/s');
}

if (only.includes('W4')) {
  const w = WORKLOADS.W4;
  const lstm = new nn.LSTM({ inputSize: w.vocab, hiddenSize: w.hidden, numLayers: w.layers });
  const head = new nn.Linear(w.hidden, w.vocab);
  lstm.eval();
  head.eval();
  const x = new Float32Array(w.vocab);
  let state = null;
  let token = 0;
  const step = () => noGrad(() => {
    x.fill(0);
    x[token] = 1;
    const [out, next] = lstm.forward(fromArray(x, [1, 1, w.vocab]), state); // refilled per token, read only here
    state = next;
    const logits = head.forward(out).data;
    token = logits[0] > logits[1] ? 3 : 5;
  });
  show('W4 generation (batch 1, no sampling)', rate(step, 0.5), 'tok/s');
}

if (only.includes('W5')) {
  const w = WORKLOADS.W5;
  const { x, y } = makeBatch('W5');
  const lstm = new nn.LSTM({ inputSize: w.input, hiddenSize: w.hidden });
  const opt = new optim.SGD([...lstm.parameters()], { lr: w.lr });
  const xs = tensor(x, [w.seq, w.batch, w.input]);
  const ys = tensor(y, [w.seq, w.batch, w.hidden]);
  const step = trainer([lstm], opt, () => nn.mseLoss(lstm.forward(xs)[0], ys));
  show('W5 large LSTM training', rate(step, 1.5), 'steps/s');
}

if (only.includes('GEMM')) {
  const filled = (n) => {
    const b = k.allocate(n, 'float32');
    const v = b.view();
    for (let i = 0; i < n; i++) v[i] = Math.sin(i) * 0.5;
    return b;
  };
  // [label, transA, transB, m, n, k]
  const shapes = [
    ['W4 step h W_hh^T [1x512]x[512x2048]^T', false, true, 1, 2048, 512],
    ['W4 head [1x512]x[512x65]^T', false, true, 1, 65, 512],
    ['W1 step h W_hh^T [32x256]x[256x1024]^T', false, true, 32, 1024, 256],
    ['W1 back dG W_hh [32x1024]x[1024x256]', false, false, 32, 256, 1024],
    ['W5 step h W_hh^T [64x512]x[512x2048]^T', false, true, 64, 2048, 512],
    ['W5 back dG W_hh [64x2048]x[2048x512]', false, false, 64, 512, 2048],
    ['W5 proj X W_ih^T [3200x256]x[256x2048]^T', false, true, 3200, 2048, 256],
    ['W5 dW_ih dG^T X [2048x3200]x[3200x256]', true, false, 2048, 256, 3200],
    ['W5 dX dG W_ih [3200x2048]x[2048x256]', false, false, 3200, 256, 2048],
  ];
  for (const [label, tA, tB, m, n, kk] of shapes) {
    const a = filled(m * kk), b = filled(kk * n), c = filled(m * n);
    const gemm = () => k.gemm(tA, tB, m, n, kk, 1, a.view(), 0, tA ? m : kk, b.view(), 0, tB ? kk : n, 0, c.view(), 0, n);
    const r = rate(gemm, 0.2);
    show(`gemm ${label}`, r, 'GFLOPS', (2 * m * n * kk) / 1e9);
    if (typeof k.packB === 'function') {
      const packed = k.packB(tB, kk, n, b.view(), 0, tB ? kk : n);
      const gp = () => k.gemmPacked(false, m, n, kk, 1, a.view(), 0, kk, packed, 0, c.view(), 0, n);
      if (!tA) show(`  packed once`, rate(gp, 0.2), 'GFLOPS', (2 * m * n * kk) / 1e9);
      k.releasePacked(packed);
    }
    for (const x of [a, b, c]) k.release(x);
  }
}
process.exit(0);
