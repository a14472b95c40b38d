/**
 * exportOnnx: a chain of Embedding, Linear, Dropout and RNN / LSTM / GRU modules as an ONNX model
 * (opset 14) built from ONNX's own recurrent operators, so any ONNX runtime runs it.
 *
 * Graph interface: `input` (float [.., .., features], or int64 token ids when the chain starts with
 * an Embedding), then per recurrent layer k its initial states `h0` and `c0` (LSTM) as inputs and its
 * final states `hn` and `cn` as outputs (k > 0: `h0_k`, `hn_k`...), so a caller can step the model by
 * feeding the final states back; `output` is the last module's output.
 *
 * Each of our layers × directions becomes one ONNX operator per layer (ONNX's have one layer each)
 * with the gates reordered (gates.ts); GRU uses linear_before_reset = 1, which is PyTorch's formula
 * (0 for a GRU made with linearBeforeReset: false);
 * peephole weights go to the P input in ONNX's order i, o, f. batchFirst layers are wrapped in
 * Transpose nodes and run with layout 0, which every runtime implements.
 */
import { Dropout, Embedding, GRU, Linear, LSTM, Module, RNN, Sequential } from '../../nn/index.js';
import { formatShape, type AnyTensor, type Tensor } from '../../tensor/index.js';
import { ONNX_FROM_TORCH, reorderBlocks, type RecurrentOp } from './gates.js';
import { onnx, type OnnxTypes } from './proto.js';
import { floatTensorProto, int64TensorProto } from './values.js';

export const EXPORT_OPSET = 14;

const ONNX_ACTIVATIONS = { tanh: 'Tanh', relu: 'Relu', sigmoid: 'Sigmoid' } as const;
/** IR version 7 is the one that goes with opset 14. */
const IR_VERSION = 7;

export interface ExportOnnxOptions {
  /**
   * Axes of `input` whose size may change from the example's, with a name for each, as in
   * torch.onnx.export: `{ input: { 0: 'seq', 1: 'batch' } }`. The states' and outputs' matching axes
   * follow. Without it every dimension is fixed to the example's.
   */
  dynamicAxes?: Record<string, Record<number, string>>;
  /** Stored as the model's doc_string. */
  docString?: string;
  /** Stored as the model's metadata_props (e.g. a vocabulary a caller needs to decode outputs). */
  metadata?: Record<string, string>;
}

type Dim = number | string;
type Recurrent = RNN | LSTM | GRU;

const SUPPORTED = 'Embedding, Linear, Dropout, RNN, LSTM, GRU';

/** The modules of the chain in order: a Sequential's children, an array's items, or the one module. */
function flatten(model: Module | readonly Module[]): Module[] {
  const items = Array.isArray(model) ? [...model] : [model as Module];
  return items.flatMap((m) => (m instanceof Sequential ? flatten(m.children()) : [m]));
}

class GraphBuilder {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];
  private used = new Set<string>();

  name(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  reserve(name: string): string {
    if (this.used.has(name)) throw new Error(`internal: graph name ${name} used twice`);
    this.used.add(name);
    return name;
  }

  floats(base: string, shape: readonly number[], data: ArrayLike<number>): string {
    const name = this.name(base);
    this.initializers.push(floatTensorProto(name, shape, data));
    return name;
  }

  ints(base: string, values: readonly number[]): string {
    const name = this.name(base);
    this.initializers.push(int64TensorProto(name, values));
    return name;
  }

  node(opType: string, inputs: string[], outputs: string[], attributes: OnnxTypes.IAttributeProto[] = []): string[] {
    this.nodes.push({ opType, name: this.name(`${opType}_${this.nodes.length}`), input: inputs, output: outputs, attribute: attributes });
    return outputs;
  }

  /** One output named after `base`. */
  op(opType: string, inputs: string[], base: string, attributes: OnnxTypes.IAttributeProto[] = []): string {
    return this.node(opType, inputs, [this.name(base)], attributes)[0]!;
  }
}

const Attr = onnx.AttributeProto.AttributeType;
const intAttr = (name: string, i: number): OnnxTypes.IAttributeProto => ({ name, type: Attr.INT, i });
const intsAttr = (name: string, ints: number[]): OnnxTypes.IAttributeProto => ({ name, type: Attr.INTS, ints });
const stringAttr = (name: string, s: string): OnnxTypes.IAttributeProto => ({ name, type: Attr.STRING, s: new TextEncoder().encode(s) });
const stringsAttr = (name: string, list: string[]): OnnxTypes.IAttributeProto => ({
  name, type: Attr.STRINGS, strings: list.map((s) => new TextEncoder().encode(s)),
});

function valueInfo(name: string, elemType: number, shape: readonly Dim[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/**
 * Writes `model` as ONNX; returns the bytes of the ModelProto. Only exampleInput's shape is read: token
 * ids (a model starting with an Embedding) as an index tensor, as torch.onnx.export takes a long
 * tensor, or any tensor of that shape.
 */
export function exportOnnx(model: Module | readonly Module[], exampleInput: AnyTensor, options: ExportOnnxOptions = {}): Uint8Array {
  const modules = flatten(model);
  if (modules.length === 0) throw new Error('exportOnnx: the model has no modules to export');
  modules.forEach((m, i) => {
    if (!(m instanceof Embedding || m instanceof Linear || m instanceof Dropout || m instanceof RNN || m instanceof LSTM || m instanceof GRU)) {
      throw new Error(`exportOnnx: module ${i} (${m?.constructor?.name ?? typeof m}) cannot be exported; supported: ${SUPPORTED}`);
    }
    if (m instanceof Embedding && i !== 0) throw new Error(`exportOnnx: an Embedding must come first in the chain, found one at position ${i}`);
    if (m instanceof LSTM && m.projSize > 0) {
      throw new Error(`exportOnnx: module ${i} is an LSTM with projSize ${m.projSize}; ONNX's LSTM has no projection, so it cannot be exported`);
    }
  });
  const startsWithIds = modules[0] instanceof Embedding;
  const shape = exampleInput?.shape;
  if (!shape || (startsWithIds ? shape.length !== 2 : shape.length !== 3)) {
    const want = startsWithIds ? '2-D token ids [seq, batch] (or [batch, seq])' : '3-D [seq, batch, features] (or batchFirst [batch, seq, features])';
    throw new Error(`exportOnnx: exampleInput must be ${want}, got ${shape ? formatShape(shape) : String(exampleInput)}`);
  }

  const dims: Dim[] = [...shape];
  const dynamic = options.dynamicAxes ?? {};
  for (const [key, axes] of Object.entries(dynamic)) {
    if (key !== 'input') throw new Error(`exportOnnx: dynamicAxes may name axes of 'input' only (states and outputs follow), got '${key}'`);
    for (const [axis, label] of Object.entries(axes)) {
      const a = Number(axis);
      if (!Number.isInteger(a) || a < 0 || a >= dims.length) throw new Error(`exportOnnx: dynamicAxes.input axis ${axis} is not an axis of the ${dims.length}-D input`);
      if (typeof label !== 'string' || label === '') throw new Error(`exportOnnx: dynamicAxes.input[${axis}] must be a non-empty name, got ${String(label)}`);
      dims[a] = label;
    }
  }
  if (startsWithIds) dims.push((modules[0] as Embedding).embeddingDim);

  const g = new GraphBuilder();
  const inputs: OnnxTypes.IValueInfoProto[] = [valueInfo(g.reserve('input'), startsWithIds ? onnx.TensorProto.DataType.INT64 : onnx.TensorProto.DataType.FLOAT, shape.map((d, i) => dims[i]!))];
  const stateOutputs: OnnxTypes.IValueInfoProto[] = [];
  let current = 'input';
  let features = startsWithIds ? (modules[0] as Embedding).embeddingDim : shape[2]!;
  let recurrentCount = 0;

  for (const [i, m] of modules.entries()) {
    if (m instanceof Dropout) continue; // inference: identity
    if (m instanceof Embedding) {
      const table = g.floats('embedding_weight', m.weight.shape, m.weight.data);
      current = g.op('Gather', [table, current], 'embedded', [intAttr('axis', 0)]);
      continue;
    }
    if (m instanceof Linear) {
      if (features !== m.inFeatures) throw new Error(`exportOnnx: module ${i} (Linear) expects ${m.inFeatures} features, the chain gives it ${features}`);
      const weightT = transpose2d(m.weight.data, m.outFeatures, m.inFeatures);
      current = g.op('MatMul', [current, g.floats('linear_weight_t', [m.inFeatures, m.outFeatures], weightT)], 'linear');
      if (m.bias) current = g.op('Add', [current, g.floats('linear_bias', [m.outFeatures], m.bias.data)], 'linear');
      features = m.outFeatures;
      continue;
    }
    if (!(m instanceof RNN || m instanceof LSTM || m instanceof GRU)) continue; // checked above
    if (features !== m.inputSize) throw new Error(`exportOnnx: module ${i} (${m.layerName}) expects inputSize ${m.inputSize}, the chain gives it ${features}`);
    const suffix = recurrentCount === 0 ? '' : `_${recurrentCount}`;
    recurrentCount++;
    const batchDim = m.batchFirst ? dims[0]! : dims[1]!;
    const D = m.bidirectional ? 2 : 1;
    const stateShape = [m.numLayers * D, batchDim, m.hiddenSize];
    const h0 = g.reserve(`h0${suffix}`);
    inputs.push(valueInfo(h0, onnx.TensorProto.DataType.FLOAT, stateShape));
    const c0 = m instanceof LSTM ? g.reserve(`c0${suffix}`) : null;
    if (c0) inputs.push(valueInfo(c0, onnx.TensorProto.DataType.FLOAT, stateShape));
    const hn = g.reserve(`hn${suffix}`);
    const cn = c0 ? g.reserve(`cn${suffix}`) : null;
    stateOutputs.push(valueInfo(hn, onnx.TensorProto.DataType.FLOAT, stateShape));
    if (cn) stateOutputs.push(valueInfo(cn, onnx.TensorProto.DataType.FLOAT, stateShape));

    if (m.batchFirst) current = g.op('Transpose', [current], 'time_major', [intsAttr('perm', [1, 0, 2])]);
    current = recurrentLayers(g, m, current, h0, c0, hn, cn);
    if (m.batchFirst) current = g.op('Transpose', [current], 'batch_major', [intsAttr('perm', [1, 0, 2])]);
    features = D * m.hiddenSize;
  }

  const output = g.reserve('output');
  g.node('Identity', [current], [output]);
  const outputs = [valueInfo(output, onnx.TensorProto.DataType.FLOAT, [dims[0]!, dims[1]!, features]), ...stateOutputs];
  const proto: OnnxTypes.IModelProto = {
    irVersion: IR_VERSION,
    producerName: 'recurrent',
    opsetImport: [{ domain: '', version: EXPORT_OPSET }],
    docString: options.docString ?? '',
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: { name: 'recurrent', node: g.nodes, initializer: g.initializers, input: inputs, output: outputs },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish();
}

function transpose2d(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/** One ONNX operator per layer; returns the name of the last layer's [seq, batch, D*hidden] output. */
function recurrentLayers(g: GraphBuilder, m: Recurrent, x: string, h0: string, c0: string | null, hn: string, cn: string | null): string {
  const op: RecurrentOp = m instanceof LSTM ? 'LSTM' : m instanceof GRU ? 'GRU' : 'RNN';
  const order = ONNX_FROM_TORCH[op];
  const G = order.length, H = m.hiddenSize, D = m.bidirectional ? 2 : 1;
  const params = m.stateDict();
  const hs: string[] = [];
  const cs: string[] = [];
  for (let layer = 0; layer < m.numLayers; layer++) {
    const suffixes = Array.from({ length: D }, (_, d) => `_l${layer}${d === 1 ? '_reverse' : ''}`);
    const inputSize = params[`weight_ih${suffixes[0]}`]!.shape[1]!;
    const stacked = (rows: number, cols: number, pick: (suffix: string) => Tensor): Float32Array => {
      const out = new Float32Array(D * G * rows * cols);
      suffixes.forEach((s, d) => reorderBlocks(pick(s).data, 0, order, rows * cols, out, d * G * rows * cols));
      return out;
    };
    const W = g.floats(`W_l${layer}`, [D, G * H, inputSize], stacked(H, inputSize, (s) => params[`weight_ih${s}`]!));
    const R = g.floats(`R_l${layer}`, [D, G * H, H], stacked(H, H, (s) => params[`weight_hh${s}`]!));
    let B = '';
    if (m.bias) {
      const data = new Float32Array(D * 2 * G * H);
      suffixes.forEach((s, d) => {
        reorderBlocks(params[`bias_ih${s}`]!.data, 0, order, H, data, d * 2 * G * H);
        reorderBlocks(params[`bias_hh${s}`]!.data, 0, order, H, data, d * 2 * G * H + G * H);
      });
      B = g.floats(`B_l${layer}`, [D, 2 * G * H], data);
    }
    const slice = (state: string): string =>
      g.op('Slice', [state, g.ints('starts', [layer * D]), g.ints('ends', [(layer + 1) * D]), g.ints('axes', [0])], `${state}_l${layer}`);
    const inputs = [x, W, R, B, '', slice(h0)];
    if (op === 'LSTM') {
      inputs.push(slice(c0!));
      if ((m as LSTM).peephole) {
        const data = new Float32Array(D * 3 * H);
        suffixes.forEach((s, d) => ['ci', 'co', 'cf'].forEach((gate, k) => data.set(params[`weight_${gate}${s}`]!.data, (d * 3 + k) * H)));
        inputs.push(g.floats(`P_l${layer}`, [D, 3 * H], data));
      }
    }
    const attributes = [intAttr('hidden_size', H), stringAttr('direction', D === 2 ? 'bidirectional' : 'forward')];
    if (m instanceof GRU) attributes.push(intAttr('linear_before_reset', m.linearBeforeReset ? 1 : 0));
    // ONNX's RNN takes Sigmoid as well as PyTorch's two, so a sigmoid RNN (our extension) exports as it is.
    if (m instanceof RNN) attributes.push(stringsAttr('activations', Array(D).fill(ONNX_ACTIVATIONS[m.nonlinearity])));
    const last = layer === m.numLayers - 1;
    const outNames = [g.name(`Y_l${layer}`), last && m.numLayers === 1 ? hn : g.name(`Y_h_l${layer}`)];
    if (op === 'LSTM') outNames.push(last && m.numLayers === 1 ? cn! : g.name(`Y_c_l${layer}`));
    g.node(op, inputs.map((name) => name), outNames, attributes);
    hs.push(outNames[1]!);
    if (op === 'LSTM') cs.push(outNames[2]!);
    // Y is [seq, directions, batch, hidden]: the next layer reads [seq, batch, directions * hidden].
    const batchMajor = g.op('Transpose', [outNames[0]!], `Y_l${layer}_t`, [intsAttr('perm', [0, 2, 1, 3])]);
    x = g.op('Reshape', [batchMajor, g.ints('shape', [0, 0, -1])], `layer${layer}_out`);
  }
  if (m.numLayers > 1) {
    g.node('Concat', hs, [hn], [intAttr('axis', 0)]);
    if (cn) g.node('Concat', cs, [cn], [intAttr('axis', 0)]);
  }
  return x;
}
