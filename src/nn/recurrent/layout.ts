/**
 * Parameter layout of a recurrent layer, in PyTorch's flat order: for each layer, for each direction,
 * weight_ih, weight_hh, bias_ih, bias_hh, weight_hr (projection), then our peephole weights
 * weight_ci, weight_cf, weight_co. All of them are windows of one contiguous buffer.
 */
import { sliceBuffer, type DType, type KernelBuffer } from '../../kernels/index.js';
import { fromBuffer, type Generator, type Tensor } from '../../tensor/index.js';
import { uniform_ } from '../init.js';
import { gateCount, type CellKind, type DirectionWeights } from './fused.js';

export interface LayoutSpec {
  kind: CellKind;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  directions: number;
  bias: boolean;
  projSize: number;
  peephole: boolean;
}

interface Entry {
  name: string;
  shape: number[];
}

/** Names and shapes for one layer and direction; `suffix` is '' for cells, `_l0`, `_l1_reverse`... for layers. */
export function directionEntries(spec: LayoutSpec, layerInput: number, suffix: string): Entry[] {
  const G = gateCount(spec.kind);
  const H = spec.hiddenSize;
  const P = spec.projSize || H;
  const entries: Entry[] = [
    { name: `weight_ih${suffix}`, shape: [G * H, layerInput] },
    { name: `weight_hh${suffix}`, shape: [G * H, P] },
  ];
  if (spec.bias) entries.push({ name: `bias_ih${suffix}`, shape: [G * H] }, { name: `bias_hh${suffix}`, shape: [G * H] });
  if (spec.projSize) entries.push({ name: `weight_hr${suffix}`, shape: [P, H] });
  if (spec.peephole) entries.push(...['ci', 'cf', 'co'].map((gate) => ({ name: `weight_${gate}${suffix}`, shape: [H] })));
  return entries;
}

export const layerInputSize = (spec: LayoutSpec, layer: number): number =>
  layer === 0 ? spec.inputSize : spec.directions * (spec.projSize || spec.hiddenSize);

/** Initialises U(-1/sqrt(H), 1/sqrt(H)) in order one buffer for all entries (from `allocate`), and
 * returns the named views. */
export function allocateWeights(
  entries: Entry[], hiddenSize: number, dtype: DType, generator: Generator, allocate: (length: number, dtype: DType) => KernelBuffer,
): Map<string, Tensor> {
  const total = entries.reduce((n, e) => n + e.shape.reduce((p, q) => p * q, 1), 0);
  const buffer = allocate(total, dtype);
  const bound = 1 / Math.sqrt(hiddenSize);
  const out = new Map<string, Tensor>();
  let offset = 0;
  for (const e of entries) {
    const size = e.shape.reduce((p, q) => p * q, 1);
    const t = fromBuffer(sliceBuffer(buffer, offset, size), e.shape, { requiresGrad: true });
    uniform_(t, -bound, bound, generator);
    out.set(e.name, t);
    offset += size;
  }
  return out;
}

/** The tensors one direction's fused kernel needs, picked from the named parameters. */
export function directionWeights(params: Map<string, Tensor>, suffix: string): DirectionWeights {
  const get = (name: string): Tensor | null => params.get(`${name}${suffix}`) ?? null;
  const ci = get('weight_ci'), cf = get('weight_cf'), co = get('weight_co');
  return {
    weightIh: get('weight_ih')!,
    weightHh: get('weight_hh')!,
    biasIh: get('bias_ih'),
    biasHh: get('bias_hh'),
    weightHr: get('weight_hr'),
    peephole: ci && cf && co ? [ci, cf, co] : null,
  };
}
