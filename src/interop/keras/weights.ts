/**
 * Keras 3 variables as our modules' PyTorch-named parameters. Keras stores a recurrent cell as
 * kernel [input, gates*units], recurrent_kernel [units, gates*units] and bias, gates in the order
 * LSTM i, f, c, o (PyTorch's i, f, g, o: no reordering) and GRU z, r, h (PyTorch's r, z, n: swapped);
 * PyTorch stores weight_ih [gates*units, input]: the transpose. A GRU with reset_after=True has two
 * bias rows (input, recurrent), PyTorch's bias_ih and bias_hh, and PyTorch's candidate formula;
 * reset_after=False has one bias row (added on the input side) and our `linearBeforeReset: false`.
 * Dense's kernel [in, out] is Linear's weight [out, in] transposed; Embedding's table is the same.
 *
 * Paths are Keras 3's saving_lib: a Sequential's layer `name` (snake-cased class name, `_1`, `_2`
 * for repeats) under `layers/`, its variables under `vars/0`, `vars/1`, ...; an RNN layer's under
 * `cell/vars/`; a Bidirectional's under `forward_layer/cell/vars/` and `backward_layer/cell/vars/`.
 */
import { Embedding, GRU, LSTM, Linear, RNN, type Module } from '../../nn/index.js';
import { Tensor, formatShape } from '../../tensor/index.js';
import { reorderBlocks } from '../onnx/gates.js';
import type { H5Array, H5Store } from './hdf5.js';

export type KerasRecurrentClass = 'LSTM' | 'GRU' | 'SimpleRNN';

const GATES: Record<KerasRecurrentClass, number> = { LSTM: 4, GRU: 3, SimpleRNN: 1 };
/** Each PyTorch gate block's Keras block. */
const TORCH_FROM_KERAS: Record<KerasRecurrentClass, readonly number[]> = { LSTM: [0, 1, 2, 3], GRU: [1, 0, 2], SimpleRNN: [0] };

/**
 * The variables stored at `group/vars/0`, `group/vars/1`, ... in order. Keras numbers them without
 * gaps, so a gap is a dataset missing from the file (read on, the variables after it would load into
 * the wrong parameters).
 */
export function variablesAt(store: H5Store, group: string, where: string): H5Array[] {
  const prefix = `${group}/vars/`;
  const indices = [...store.keys()].filter((p) => p.startsWith(prefix) && /^\d+$/.test(p.slice(prefix.length))).map((p) => Number(p.slice(prefix.length)));
  const count = indices.length === 0 ? 0 : Math.max(...indices) + 1;
  const gap = Array.from({ length: count }, (_, i) => i).find((i) => !store.has(`${prefix}${i}`));
  if (gap !== undefined) {
    throw new Error(`${where}: the dataset ${prefix}${gap} is missing (the file has ${indices.sort((a, b) => a - b).map((i) => `vars/${i}`).join(', ')} under ${group})`);
  }
  return Array.from({ length: count }, (_, i) => store.get(`${prefix}${i}`)!);
}

/** The Keras layer names that hold weights, from the dataset paths (`layers/<name>/...`). */
export function layersWithWeights(store: H5Store): string[] {
  const names = new Set<string>();
  for (const path of store.keys()) {
    const parts = path.split('/');
    if (parts[0] === 'layers' && parts.length > 2) names.add(parts[1]!);
  }
  return [...names];
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** [rows, cols] → [cols, rows], gate blocks of `blockRows` rows reordered by `order`. */
function transposedBlocks(a: H5Array, order: readonly number[]): Tensor {
  const [rows, cols] = a.shape as [number, number];
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a.data[r * cols + c]!;
  const out = new Float32Array(rows * cols);
  reorderBlocks(t, 0, order, (cols / order.length) * rows, out, 0);
  return new Tensor(out, [cols, rows]);
}

function vectorBlocks(data: Float32Array, order: readonly number[]): Tensor {
  const out = new Float32Array(data.length);
  reorderBlocks(data, 0, order, data.length / order.length, out, 0);
  return new Tensor(out, [data.length]);
}

export interface RecurrentCellWeights {
  inputSize: number;
  units: number;
  bias: boolean;
  /** GRU only: two bias rows (reset_after=True); null when there is no bias to tell. */
  resetAfter: boolean | null;
  tensors: Record<string, Tensor>;
}

/** One Keras cell's variables as PyTorch's weight_ih_l0{suffix}, ... */
export function recurrentCell(kind: KerasRecurrentClass, vars: H5Array[], suffix: string, where: string): RecurrentCellWeights {
  const G = GATES[kind];
  if (vars.length !== 2 && vars.length !== 3) throw new Error(`${where}: expected kernel, recurrent_kernel and optionally bias, found ${vars.length} variables`);
  const [kernel, recurrent, bias] = vars as [H5Array, H5Array, H5Array | undefined];
  if (recurrent.shape.length !== 2 || recurrent.shape[1] !== G * recurrent.shape[0]!) {
    throw new Error(`${where}: recurrent_kernel must be [units, ${G}*units] for ${kind}, got ${formatShape(recurrent.shape)}`);
  }
  const units = recurrent.shape[0]!;
  if (kernel.shape.length !== 2 || kernel.shape[1] !== G * units) throw new Error(`${where}: kernel must be [input, ${G * units}] for ${kind} with ${units} units, got ${formatShape(kernel.shape)}`);
  const order = TORCH_FROM_KERAS[kind];
  const tensors: Record<string, Tensor> = {
    [`weight_ih_l0${suffix}`]: transposedBlocks(kernel, order),
    [`weight_hh_l0${suffix}`]: transposedBlocks(recurrent, order),
  };
  let resetAfter: boolean | null = null;
  if (bias) {
    resetAfter = kind === 'GRU' ? bias.shape.length === 2 : null;
    const want = resetAfter ? [2, G * units] : [G * units];
    if (!sameShape(bias.shape, want)) throw new Error(`${where}: bias must be ${formatShape(want)}${kind === 'GRU' ? ' (reset_after=True: [2, 3*units])' : ''}, got ${formatShape(bias.shape)}`);
    const n = G * units;
    tensors[`bias_ih_l0${suffix}`] = vectorBlocks(bias.data.subarray(0, n), order);
    // One Keras bias: all of it on the input side (for reset_after=False that is where Keras adds it).
    tensors[`bias_hh_l0${suffix}`] = resetAfter ? vectorBlocks(bias.data.subarray(n, 2 * n), order) : new Tensor(new Float32Array(n), [n]);
  }
  return { inputSize: kernel.shape[0]!, units, bias: !!bias, resetAfter, tensors };
}

export function denseTensors(vars: H5Array[], where: string): { inFeatures: number; outFeatures: number; tensors: Record<string, Tensor> } {
  const [kernel, bias] = vars as [H5Array | undefined, H5Array | undefined];
  if (!kernel || vars.length > 2 || kernel.shape.length !== 2) throw new Error(`${where}: expected a 2-D kernel and optionally a bias, found ${vars.map((v) => formatShape(v.shape)).join(', ') || 'no variables'}`);
  const [inFeatures, outFeatures] = kernel.shape as [number, number];
  if (bias && !sameShape(bias.shape, [outFeatures])) throw new Error(`${where}: bias must be [${outFeatures}], got ${formatShape(bias.shape)}`);
  const tensors: Record<string, Tensor> = { weight: transposedBlocks(kernel, [0]) };
  if (bias) tensors['bias'] = new Tensor(bias.data.slice(), [outFeatures]);
  return { inFeatures, outFeatures, tensors };
}

export function embeddingTensors(vars: H5Array[], where: string): { rows: number; dim: number; tensors: Record<string, Tensor> } {
  const [table] = vars;
  if (!table || vars.length !== 1 || table.shape.length !== 2) throw new Error(`${where}: expected one 2-D embeddings table, found ${vars.map((v) => formatShape(v.shape)).join(', ') || 'no variables'}`);
  return { rows: table.shape[0]!, dim: table.shape[1]!, tensors: { weight: new Tensor(table.data.slice(), [...table.shape]) } };
}

/** A recurrent layer's (or a Bidirectional's) variables, checked against the module they load into. */
export function recurrentLayerTensors(store: H5Store, path: string, kind: KerasRecurrentClass, bidirectional: boolean, where: string): RecurrentCellWeights {
  const groups = bidirectional ? [`${path}/forward_layer/cell`, `${path}/backward_layer/cell`] : [`${path}/cell`];
  const cells = groups.map((group, d) => {
    const vars = variablesAt(store, group, where);
    if (vars.length === 0) throw new Error(`${where}: the file has no variables at ${group}/vars (expected a ${bidirectional ? 'Bidirectional ' : ''}${kind} layer there)`);
    return recurrentCell(kind, vars, d === 1 ? '_reverse' : '', `${where} (${group})`);
  });
  const [first, second] = cells as [RecurrentCellWeights, RecurrentCellWeights | undefined];
  if (second && (second.units !== first.units || second.inputSize !== first.inputSize || second.bias !== first.bias || second.resetAfter !== first.resetAfter)) {
    throw new Error(`${where}: the backward layer differs from the forward one (units ${second.units} vs ${first.units}, input ${second.inputSize} vs ${first.inputSize}); our bidirectional layers have one shape for both`);
  }
  return { ...first, tensors: Object.assign({}, ...cells.map((c) => c.tensors)) };
}

/**
 * Checks that Keras layer `layerName` fits `module` (shapes and options) and returns what loads it,
 * so a caller loading several layers checks them all before changing any.
 */
export function prepareLayerLoad(store: H5Store, layerName: string, module: Module, where: string): () => void {
  const path = `layers/${layerName}`;
  const at = `${where}: Keras layer '${layerName}'`;
  const vars = variablesAt(store, path, at);
  if (module instanceof Linear) {
    const d = denseTensors(vars, at);
    if (d.inFeatures !== module.inFeatures || d.outFeatures !== module.outFeatures || !!d.tensors['bias'] !== !!module.bias) {
      throw new Error(`${at} is Dense ${d.inFeatures} → ${d.outFeatures}${d.tensors['bias'] ? '' : ' without bias'}, but the Linear is ${module.inFeatures} → ${module.outFeatures}${module.bias ? (d.tensors['bias'] ? '' : ' with bias') : ' without bias'}`);
    }
    module.checkStateDict(d.tensors);
    return () => module.loadStateDict(d.tensors);
  } else if (module instanceof Embedding) {
    const e = embeddingTensors(vars, at);
    if (e.rows !== module.numEmbeddings || e.dim !== module.embeddingDim) throw new Error(`${at} is Embedding ${e.rows} × ${e.dim}, but the Embedding is ${module.numEmbeddings} × ${module.embeddingDim}`);
    module.checkStateDict(e.tensors);
    return () => module.loadStateDict(e.tensors);
  } else if (module instanceof LSTM || module instanceof GRU || module instanceof RNN) {
    const kind: KerasRecurrentClass = module instanceof LSTM ? 'LSTM' : module instanceof GRU ? 'GRU' : 'SimpleRNN';
    if (module.numLayers !== 1) throw new Error(`${at}: a Keras recurrent layer is one layer; the ${module.layerName} has numLayers ${module.numLayers} (use one module per Keras layer)`);
    if (module instanceof LSTM && (module.peephole || module.projSize > 0)) throw new Error(`${at}: Keras' LSTM has no peepholes or projection; the LSTM has ${module.peephole ? 'peephole: true' : `projSize ${module.projSize}`}`);
    const w = recurrentLayerTensors(store, path, kind, module.bidirectional, at);
    if (w.inputSize !== module.inputSize || w.units !== module.hiddenSize || w.bias !== module.bias) {
      throw new Error(`${at} is ${kind} with input ${w.inputSize}, ${w.units} units${w.bias ? '' : ', no bias'}, but the ${module.layerName} has inputSize ${module.inputSize}, hiddenSize ${module.hiddenSize}${module.bias ? (w.bias ? '' : ', bias: true') : ', bias: false'}`);
    }
    if (module instanceof GRU && w.resetAfter !== null && w.resetAfter !== module.linearBeforeReset) {
      throw new Error(`${at} has reset_after=${w.resetAfter ? 'True' : 'False'}, which is the GRU option linearBeforeReset: ${w.resetAfter}; the GRU has linearBeforeReset: ${module.linearBeforeReset}`);
    }
    module.checkStateDict(w.tensors);
    return () => module.loadStateDict(w.tensors);
  }
  throw new Error(`${at}: cannot load into a ${module.constructor.name} (Keras weights load into Linear, Embedding, LSTM, GRU and RNN modules)`);
}
