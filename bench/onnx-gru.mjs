// An imported GRU with ONNX's default linear_before_reset = 0, on the fused kernels against the
// float64 reference that ran it before they took it (src/interop/onnx/recurrent-reference.ts). Side
// by side in one process, from one exported model: the reference column runs the same model with a
// `clip` no value reaches added to its GRU node, which sends the node to the reference and changes
// nothing else. For scale, the third column is the same weights with linear_before_reset = 1
// (PyTorch's formula), which was fused already. float32, on the default kernels (wasm; the system
// BLAS under its large products where the addon is built).
//
//   npm run build && node bench/onnx-gru.mjs
import { measure } from './measure.mjs';

const lib = await import('../dist/index.js');
const { onnx } = await import('../dist/interop/onnx/proto.js');
const { nn, Generator, randn, exportOnnx, importOnnx } = lib;

const SHAPES = [
  { T: 200, B: 1, I: 16, H: 64 },
  { T: 100, B: 16, I: 32, H: 128 },
  { T: 50, B: 64, I: 64, H: 256 },
];

/** The model's bytes with the GRU node's attributes changed by `edit`. */
function withGruAttributes(bytes, edit) {
  const model = onnx.ModelProto.decode(bytes);
  const node = model.graph.node.find((n) => n.opType === 'GRU');
  node.attribute = edit(node.attribute);
  return onnx.ModelProto.encode(model).finish();
}

const rows = [];
for (const { T, B, I, H } of SHAPES) {
  const g = new Generator(7);
  const gru = new nn.GRU({ inputSize: I, hiddenSize: H, linearBeforeReset: false, generator: g });
  const x = randn([T, B, I], { generator: g });
  const h0 = randn([1, B, H], { generator: g });
  const fusedBytes = exportOnnx(gru, x);
  const referenceBytes = withGruAttributes(fusedBytes, (a) => [...a, { name: 'clip', type: onnx.AttributeProto.AttributeType.FLOAT, f: 1e30 }]);
  const pytorchBytes = withGruAttributes(fusedBytes, (a) => a.map((at) => (at.name === 'linear_before_reset' ? { ...at, i: 1 } : at)));
  const feeds = { input: x, h0 };
  const rate = async (bytes) => {
    const model = importOnnx(bytes);
    return (await measure(() => model.run(feeds), 'quick')).rate;
  };
  const fused = await rate(fusedBytes), reference = await rate(referenceBytes), pytorch = await rate(pytorchBytes);
  // The two paths must agree, or the comparison means nothing.
  const a = importOnnx(fusedBytes).run(feeds).output.data, b = importOnnx(referenceBytes).run(feeds).output.data;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
  rows.push({ T, B, I, H, fusedMs: 1000 / fused, referenceMs: 1000 / reference, pytorchFormulaMs: 1000 / pytorch, speedup: fused / reference, maxDiff });
}

console.log('| T | batch | input | hidden | reference (before) ms | fused lbr=0 ms | speed-up | fused lbr=1 ms | max |fused - reference| |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.T} | ${r.B} | ${r.I} | ${r.H} | ${r.referenceMs.toFixed(2)} | ${r.fusedMs.toFixed(2)} | ${r.speedup.toFixed(1)}x | ${r.pytorchFormulaMs.toFixed(2)} | ${r.maxDiff.toExponential(1)} |`);
}
