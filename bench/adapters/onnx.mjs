// ONNX Runtime on the W4 network (bench/models/w4.onnx, written by tools/make_w4_onnx.py): one
// session.run per token, h and c fed back as tensors. Variants: node-1t / node-2t (onnxruntime-node,
// native, with 1 or 2 intra-op threads) and web (onnxruntime-web: its WebAssembly build, run in Node).
import { readFileSync } from 'node:fs';
import { generator } from '../data.mjs';
import { WORKLOADS } from '../workloads.mjs';

export const MODEL_PATH = new URL('../models/w4.onnx', import.meta.url);

let ort;

export async function info(variant) {
  ort = variant === 'web' ? await import('onnxruntime-web') : (await import('onnxruntime-node')).default;
  if (variant === 'web') ort.env.wasm.numThreads = 1; // its threads need cross-origin isolation in browsers
  return { backend: variant === 'web' ? 'wasm' : 'cpu (native)', version: ort.env.versions?.web ?? ort.env.versions?.node ?? ort.env.versions?.common };
}

export async function setup(id, variant) {
  if (id !== 'W4') throw new Error(`onnxruntime runs W4 only (the others train; ONNX Runtime here has no training), asked ${id}`);
  const w = WORKLOADS.W4;
  const options = { graphOptimizationLevel: 'all', executionMode: 'sequential' };
  if (variant !== 'web') {
    options.intraOpNumThreads = variant === 'node-1t' ? 1 : 2;
    options.interOpNumThreads = 1;
  }
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(MODEL_PATH)), options);
  const stateShape = [w.layers, 1, w.hidden];
  const zeros = () => new ort.Tensor('float32', new Float32Array(w.layers * w.hidden), stateShape);
  const oneHot = new Float32Array(w.vocab);
  const x = new ort.Tensor('float32', oneHot, [1, 1, w.vocab]);
  let h = zeros();
  let c = zeros();
  return generator(async (token, fresh) => {
    if (fresh) {
      h = zeros();
      c = zeros();
    }
    oneHot.fill(0);
    oneHot[token] = 1;
    const out = await session.run({ x, h0: h, c0: c });
    h = out.h;
    c = out.c;
    return out.logits.data;
  });
}
