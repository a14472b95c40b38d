/**
 * Elementwise comparisons with broadcasting, for any dtypes (an index tensor against a float one
 * compares values). PyTorch returns bool tensors; with no bool dtype here the result is an int32
 * tensor of 0 and 1, which sums, masks (`where`) and converts (`.float()`) as PyTorch's bool does.
 * No gradient flows through a comparison.
 */
import { broadcastShapes, Tensor, type AnyTensor, type IntTensor } from '../tensor/index.js';
import { broadcastStrides, newTensor, stridedOffsets } from './util.js';

export type Comparable = AnyTensor | number;

function compare(name: string, a: Comparable, b: Comparable, test: (x: number, y: number) => boolean): IntTensor {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) throw new Error(`${name}: at least one operand must be a Tensor`);
  for (const operand of [a, b]) {
    if (!(operand instanceof Tensor) && typeof operand !== 'number') throw new Error(`${name}: expected a Tensor or a number, got ${typeof operand}`);
  }
  const shapeOf = (x: Comparable): readonly number[] => (x instanceof Tensor ? x.shape : []);
  const shape = broadcastShapes(shapeOf(a), shapeOf(b), name);
  const out = newTensor(shape, 'int32');
  const o = out.data;
  const reader = (x: Comparable): ((i: number) => number) => {
    if (!(x instanceof Tensor)) return () => x;
    const data = x.data;
    const offsets = stridedOffsets(shape, broadcastStrides(x.shape, shape));
    return (i) => data[offsets[i]!]!;
  };
  const x = reader(a), y = reader(b);
  for (let i = 0; i < o.length; i++) o[i] = test(x(i), y(i)) ? 1 : 0;
  return out;
}

export const eq = (a: Comparable, b: Comparable): IntTensor => compare('eq', a, b, (x, y) => x === y);
export const ne = (a: Comparable, b: Comparable): IntTensor => compare('ne', a, b, (x, y) => x !== y);
export const lt = (a: Comparable, b: Comparable): IntTensor => compare('lt', a, b, (x, y) => x < y);
export const le = (a: Comparable, b: Comparable): IntTensor => compare('le', a, b, (x, y) => x <= y);
export const gt = (a: Comparable, b: Comparable): IntTensor => compare('gt', a, b, (x, y) => x > y);
export const ge = (a: Comparable, b: Comparable): IntTensor => compare('ge', a, b, (x, y) => x >= y);
