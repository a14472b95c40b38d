// One fixed computation run in Node and in Chromium (test/browser.test.ts): seeded layers, a forward
// pass of each cell kind over the whole-sequence kernels, a training step (every backward kernel and
// Adam), and generation through a stepper large enough to be shared by threads. Every number it
// returns must be the same bits in both runtimes and for any thread count: both load the same build
// (plain SIMD, or relaxed SIMD where both have it: the same engine lowers it the same way on one
// machine), and threads cut work so that each element is computed the same way.
import type * as Library from '../../src/index.js';

type Lib = typeof Library;

export interface WorkloadResult {
  backend: string;
  threads: number;
  /** Whether the relaxed-SIMD build ran it. */
  relaxedSimd: boolean;
  values: number[];
}

/** `relaxedSimd: false` asks initWasm for the plain build (it only matters where initWasm loads). */
export async function runWorkload(lib: Lib, threads: number, relaxedSimd = true): Promise<WorkloadResult> {
  const { nn, optim, tensor, noGrad, Generator } = lib;
  const backend = await lib.initWasm({ relaxedSimd });
  const used = await lib.setThreads(threads);
  const values: number[] = [];
  const keep = (t: { data: ArrayLike<number> }): void => {
    for (let i = 0; i < t.data.length; i++) values.push(t.data[i]!);
  };
  const random = new Generator(2026);
  const input = (shape: number[]): ReturnType<typeof tensor> => lib.randn(shape, { generator: random });

  // Forward of every cell over [T, B, I] = [9, 5, 17].
  const x = input([9, 5, 17]);
  const lstm = new nn.LSTM({ inputSize: 17, hiddenSize: 33, numLayers: 2, generator: new Generator(1) });
  const gru = new nn.GRU({ inputSize: 17, hiddenSize: 33, generator: new Generator(2) });
  const rnn = new nn.RNN({ inputSize: 17, hiddenSize: 33, nonlinearity: 'relu', generator: new Generator(3) });
  const peephole = new nn.LSTM({ inputSize: 17, hiddenSize: 33, peephole: true, generator: new Generator(4) });
  noGrad(() => {
    keep(lstm.forward(x)[0]);
    keep(gru.forward(x)[0]);
    keep(rnn.forward(x)[0]);
    keep(peephole.forward(x)[0]);
  });

  // A training step large enough for threads: LSTM(64 -> 256) over [20, 32, 64], Adam.
  const big = new nn.LSTM({ inputSize: 64, hiddenSize: 256, generator: new Generator(5) });
  const head = new nn.Linear(256, 8, { generator: new Generator(6) });
  const params = [...big.parameters(), ...head.parameters()];
  const opt = new optim.Adam(params, { lr: 0.01 });
  const xs = input([20, 32, 64]);
  const ys = input([20, 32, 8]);
  for (let step = 0; step < 2; step++) {
    opt.zeroGrad();
    const loss = nn.mseLoss(head.forward(big.forward(xs)[0]), ys);
    values.push(loss.item());
    loss.backward();
    opt.step();
  }
  keep(params[1]!); // weight_hh_l0 after two updates

  // Generation: a stepper over LSTM(65 one-hot -> 512, 2 layers), shared by threads by hidden units.
  const gen = new nn.LSTM({ inputSize: 65, hiddenSize: 512, numLayers: 2, generator: new Generator(7) });
  const stepper = gen.stepper({ tokens: true });
  let token = 3;
  for (let t = 0; t < 8; t++) {
    const out = stepper.step([token]);
    keep(out);
    token = Math.floor(Math.abs(out.data[t]!) * 1000) % 65;
  }
  stepper.dispose();
  return { backend, threads: used, relaxedSimd: lib.getBackendInfo().relaxedSimd, values };
}
