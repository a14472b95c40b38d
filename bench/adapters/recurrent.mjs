// This library's side of the workloads, through its public API from dist/ (the shipped code).
// Variants: native (the wasm kernels with the system BLAS under their large products, run.mjs sets
// RECURRENT_BLAS=on), wasm (wasm only: RECURRENT_BLAS=off, on every core when the build has
// threads), wasm-relaxed (the same on the relaxed-SIMD build), wasm-1t (one thread), wasm-import (the threads the import started, setThreads never called: what a synchronous
// script gets) and js (the TypeScript kernels; run.mjs also sets RECURRENT_BACKEND=js before the import).
// W4 generates through LSTM.stepper (the generation API); wasm-forward runs the same network through
// forward() one step at a time instead, to show what the stepper saves; wasm-int8 steps it with
// int8-quantized weights.
import os from 'node:os';
import { generator, makeBatch } from '../data.mjs';
import { WORKLOADS } from '../workloads.mjs';

const lib = await import('../../dist/index.js');
const { nn, optim, tensor, fromArray, noGrad, setBackend, getBackend } = lib;
const kernels = await import('../../dist/kernels/index.js');

/** Where the build offers a thread count: the public setter (which resolves to the count in effect)
 * first, else the wasm kernels' own. */
export function threadControl() {
  if (typeof lib.setThreads === 'function') return { set: (n) => lib.setThreads(n) };
  const wasm = kernels.kernelsFor('float32');
  if (wasm.name === 'wasm' && typeof wasm.setThreads === 'function') return { set: async (n) => (await wasm.setThreads(n), wasm.threads) };
  return null;
}

/** Which GEMM and build run (builds before getBackendInfo say nothing). */
const compute = () => {
  const about = typeof lib.getBackendInfo === 'function' ? lib.getBackendInfo() : null;
  return about ? { gemm: about.gemm, blas: about.blas, relaxedSimd: about.relaxedSimd } : {};
};

export async function info(variant) {
  setBackend(variant === 'js' ? 'js' : 'wasm');
  if (variant === 'wasm-import') return { backend: getBackend(), threads: kernels.kernelsFor('float32').threads ?? null, ...compute() };
  const control = variant !== 'js' ? threadControl() : null;
  const threads = control ? await control.set(variant === 'wasm-1t' ? 1 : os.availableParallelism()) : 1;
  return { backend: getBackend(), threads: threads ?? null, ...compute() };
}

/** The wasm heap: the allocator's high-water mark and the linear memory's size (null on the js backend). */
export async function wasmHeap() {
  const heap = kernels.kernelsFor('float32').heap;
  if (!heap) return null;
  return { used: heap.used, memoryBytes: heap.memory.buffer.byteLength };
}

function trainer(modules, opt, loss, clip) {
  const params = modules.flatMap((m) => [...m.parameters()]);
  return () => {
    opt.zeroGrad();
    loss().backward();
    if (clip) optim.clipGradNorm(params, clip);
    opt.step();
  };
}

export async function setup(id, variant) {
  const w = WORKLOADS[id];
  switch (id) {
    case 'W1': {
      const { oneHot, targets } = makeBatch(id);
      const lstm = new nn.LSTM({ inputSize: w.vocab, hiddenSize: w.hidden, numLayers: w.layers });
      const head = new nn.Linear(w.hidden, w.vocab);
      const opt = new optim.Adam([...lstm.parameters(), ...head.parameters()], { lr: w.lr });
      const x = tensor(oneHot, [w.seq, w.batch, w.vocab]);
      return trainer([lstm, head], opt, () => {
        const [out] = lstm.forward(x);
        return nn.crossEntropy(head.forward(out).reshape([w.seq * w.batch, w.vocab]), targets);
      }, w.clip);
    }
    case 'W6': {
      // W1's step on a packed batch: packing is part of the step, as in PyTorch; the loss reads only
      // the real tokens (the targets packed once, in the same layout).
      const { oneHot, targets, lengths } = makeBatch(id);
      const lstm = new nn.LSTM({ inputSize: w.vocab, hiddenSize: w.hidden, numLayers: w.layers });
      const head = new nn.Linear(w.hidden, w.vocab);
      const opt = new optim.Adam([...lstm.parameters(), ...head.parameters()], { lr: w.lr });
      const { packPaddedSequence } = nn.utils.rnn;
      const x = tensor(oneHot, [w.seq, w.batch, w.vocab]);
      const packedTargets = Array.from(packPaddedSequence(tensor(Float32Array.from(targets), [w.seq, w.batch]), lengths, { enforceSorted: false }).data.data);
      return trainer([lstm, head], opt, () => {
        const [out] = lstm.forward(packPaddedSequence(x, lengths, { enforceSorted: false }));
        return nn.crossEntropy(head.forward(out.data), packedTargets);
      }, w.clip);
    }
    case 'W2': {
      const { x, y } = makeBatch(id);
      const rnn = new nn.RNN({ inputSize: 1, hiddenSize: w.hidden, nonlinearity: 'tanh' });
      const head = new nn.Linear(w.hidden, 1);
      const opt = new optim.Adam([...rnn.parameters(), ...head.parameters()], { lr: w.lr });
      const xs = tensor(x, [w.seq, 1, 1]);
      const ys = tensor(y, [w.seq, 1, 1]);
      return trainer([rnn, head], opt, () => nn.mseLoss(head.forward(rnn.forward(xs)[0]), ys));
    }
    case 'W3': {
      const { x, y } = makeBatch(id);
      const gru = new nn.GRU({ inputSize: w.input, hiddenSize: w.hidden });
      const head = new nn.Linear(w.hidden, 1);
      const opt = new optim.SGD([...gru.parameters(), ...head.parameters()], { lr: w.lr });
      const xs = tensor(x, [w.seq, w.batch, w.input]);
      const ys = tensor(y, [w.seq, w.batch, 1]);
      return trainer([gru, head], opt, () => nn.mseLoss(head.forward(gru.forward(xs)[0]), ys));
    }
    case 'W4': {
      const lstm = new nn.LSTM({ inputSize: w.vocab, hiddenSize: w.hidden, numLayers: w.layers });
      const head = new nn.Linear(w.hidden, w.vocab);
      lstm.eval();
      head.eval();
      if (variant === 'wasm-forward') {
        // The same network through forward(), one step [1, 1, vocab] at a time with the state carried.
        const x = new Float32Array(w.vocab);
        let state = null;
        return generator((token, fresh) => noGrad(() => {
          if (fresh) state = null;
          x.fill(0);
          x[token] = 1;
          // The one-hot buffer is refilled per token and read only by this forward: shared, not copied.
          const [out, next] = lstm.forward(fromArray(x, [1, 1, w.vocab]), state);
          state = next;
          return head.forward(out).data;
        }));
      }
      // The generation API: weights prepared once (wasm-int8: quantized to int8), state kept in wasm
      // memory, the token as an index.
      const stepper = lstm.stepper({ tokens: true, ...(variant === 'wasm-int8' ? { quantize: 'int8' } : {}) });
      const ids = [0];
      return generator((token, fresh) => noGrad(() => {
        if (fresh) stepper.reset();
        ids[0] = token;
        return head.forward(stepper.step(ids)).data;
      }));
    }
    case 'W5': {
      const { x, y } = makeBatch(id);
      const lstm = new nn.LSTM({ inputSize: w.input, hiddenSize: w.hidden });
      const opt = new optim.SGD([...lstm.parameters()], { lr: w.lr });
      const xs = tensor(x, [w.seq, w.batch, w.input]);
      const ys = tensor(y, [w.seq, w.batch, w.hidden]);
      return trainer([lstm], opt, () => nn.mseLoss(lstm.forward(xs)[0], ys));
    }
    default:
      throw new Error(`recurrent adapter: unknown workload ${id}`);
  }
}
