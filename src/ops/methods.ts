/**
 * Attaches the ops to Tensor as chained methods (t.mul(u).sum()), as TF.js does, so that the tensor
 * layer never imports the ops layer (docs/architecture.md, "Tensor methods come from the ops
 * layer"). Importing this module once is enough.
 */
import { normDim, Tensor, type AnyTensor, type DTypeSpelling, type FloatDType, type IntTensor, type Shape, type TensorDType } from '../tensor/index.js';
import { eq, ge, gt, le, lt, ne, type Comparable } from './compare.js';
import { to } from './convert.js';
import * as ew from './elementwise.js';
import { linear, matmul } from './matmul.js';
import { argmax, argmin, max, mean, min, sum, type Dims } from './reduce.js';
import { index, maxAlong, minAlong, select, t, topk, type ValuesIndices } from './indexing.js';
import { add_, clamp_, copy_, fill_, mul_, zero_ } from './inplace.js';
import * as sh from './shape.js';
import { logSoftmax, softmax } from './softmax.js';
import type { IndexLike, TensorLike } from './util.js';

declare module '../tensor/tensor.js' {
  // Methods that compute with float values take `this: Tensor`, so TypeScript refuses them on an index
  // tensor (Tensor<'int32'>); the ops refuse it at run time too. Arithmetic, shape ops, comparisons, sum,
  // max/min, argmax and conversions work on every dtype (docs/architecture.md, "Index tensors are int32").
  interface Tensor<out D extends TensorDType = FloatDType> {
    // Arithmetic works on every dtype with PyTorch's type promotion (ew.Promoted): int with int stays
    // int, with a float tensor takes its dtype, with a fractional number becomes float32.
    add<O extends ew.Operand>(other: O): ew.Promoted<Tensor<D>, O>;
    sub<O extends ew.Operand>(other: O): ew.Promoted<Tensor<D>, O>;
    mul<O extends ew.Operand>(other: O): ew.Promoted<Tensor<D>, O>;
    /** True division: integers divide as float32, as in PyTorch. */
    div(other: ew.Operand): Tensor;
    /** torch.remainder / Python's %: the result has the divisor's sign. */
    remainder<O extends ew.Operand>(other: O): ew.Promoted<Tensor<D>, O>;
    /** torch.floor_divide / Python's //: rounds toward negative infinity; no gradient. */
    floorDivide<O extends ew.Operand>(other: O): ew.Promoted<Tensor<D>, O>;
    maximum<O extends ew.Operand>(other: O): ew.Promoted<Tensor<D>, O>;
    minimum<O extends ew.Operand>(other: O): ew.Promoted<Tensor<D>, O>;
    neg(): Tensor<D>;
    abs(): Tensor<D>;
    clamp<L extends number = never, H extends number = never>(min?: L, max?: H): ew.ClampResult<D, L, H>;
    pow(this: Tensor, exponent: TensorLike): Tensor;
    exp(this: Tensor): Tensor;
    log(this: Tensor): Tensor;
    sqrt(this: Tensor): Tensor;
    tanh(this: Tensor): Tensor;
    sigmoid(this: Tensor): Tensor;
    relu(this: Tensor): Tensor;
    sin(this: Tensor): Tensor;
    cos(this: Tensor): Tensor;
    /** Elementwise comparisons: int32 tensors of 0 and 1 (PyTorch's are bool). */
    eq(other: Comparable): IntTensor;
    ne(other: Comparable): IntTensor;
    lt(other: Comparable): IntTensor;
    le(other: Comparable): IntTensor;
    gt(other: Comparable): IntTensor;
    ge(other: Comparable): IntTensor;
    /** Sums keep the dtype: an index tensor sums to int32 (PyTorch: int64). */
    sum(dims?: Dims, keepDim?: boolean): Tensor<D>;
    mean(this: Tensor, dims?: Dims, keepDim?: boolean): Tensor;
    /** max() over everything, or amax over a list of dims: a tensor. */
    max(dims?: readonly number[], keepDim?: boolean): Tensor<D>;
    /** max(dim): [values, indices] (also .values, .indices), as torch.max(x, dim); indices are int32. */
    max(dim: number, keepDim?: boolean): ValuesIndices<D>;
    min(dims?: readonly number[], keepDim?: boolean): Tensor<D>;
    min(dim: number, keepDim?: boolean): ValuesIndices<D>;
    argmax(dim: number, keepDim?: boolean): IntTensor;
    argmin(dim: number, keepDim?: boolean): IntTensor;
    topk(k: number, options?: { dim?: number; largest?: boolean }): ValuesIndices<D>;
    /** The size of one dimension (negative counts from the end): PyTorch's x.size(dim). `size` is the element count. */
    sizeAt(dim: number): number;
    select(dim: number, index: number): Tensor<D>;
    /** x[i] in PyTorch: the i-th entry along the leading dimension; x[indices] with an index tensor or array. */
    index(i: number | IndexLike): Tensor<D>;
    t(): Tensor<D>;
    /** torch.cat([this, ...others], dim). */
    cat(others: readonly Tensor<D>[], dim?: number): Tensor<D>;
    /** torch.stack([this, ...others], dim). */
    stack(others: readonly Tensor<D>[], dim?: number): Tensor<D>;
    add_(this: Tensor, other: ew.Operand, alpha?: number): Tensor;
    mul_(this: Tensor, other: ew.Operand): Tensor;
    clamp_(this: Tensor, min?: number, max?: number): Tensor;
    fill_(value: number): Tensor<D>;
    zero_(): Tensor<D>;
    copy_(src: AnyTensor): Tensor<D>;
    double(): Tensor;
    float(): Tensor;
    /** An int32 index tensor, values truncated toward zero (PyTorch's .int()). */
    int(): IntTensor;
    /** PyTorch's .long(): an index tensor, stored as int32 here (docs/architecture.md). */
    long(): IntTensor;
    matmul(this: Tensor, other: Tensor): Tensor;
    linear(this: Tensor, weight: Tensor, bias?: Tensor | null): Tensor;
    reshape(shape: Shape): Tensor<D>;
    view(shape: Shape): Tensor<D>;
    flatten(startDim?: number, endDim?: number): Tensor<D>;
    unsqueeze(dim: number): Tensor<D>;
    squeeze(dim?: number): Tensor<D>;
    permute(dims: readonly number[]): Tensor<D>;
    transpose(dim0?: number, dim1?: number): Tensor<D>;
    narrow(dim: number, start: number, length: number): Tensor<D>;
    slice(dim: number, start?: number, end?: number): Tensor<D>;
    split(sizeOrSections: number | readonly number[], dim?: number): Tensor<D>[];
    indexSelect(dim: number, index: IndexLike): Tensor<D>;
    gather(dim: number, index: AnyTensor): Tensor<D>;
    expand(shape: Shape): Tensor<D>;
    softmax(this: Tensor, dim?: number): Tensor;
    logSoftmax(this: Tensor, dim?: number): Tensor;
    to(dtype: 'int32' | 'int64'): IntTensor;
    to(dtype: FloatDType): Tensor;
    to(dtype: DTypeSpelling): AnyTensor;
  }
}

type Methods<T> = Partial<Record<keyof Tensor, (this: T, ...args: never[]) => unknown>>;

/** Methods that compute with float values (the ops refuse index tensors at run time). */
const floatMethods: Methods<Tensor> = {
  pow(o: TensorLike) { return ew.pow(this, o); },
  exp() { return ew.exp(this); },
  log() { return ew.log(this); },
  sqrt() { return ew.sqrt(this); },
  tanh() { return ew.tanh(this); },
  sigmoid() { return ew.sigmoid(this); },
  relu() { return ew.relu(this); },
  sin() { return ew.sin(this); },
  cos() { return ew.cos(this); },
  mean(d?: Dims, k?: boolean) { return mean(this, d, k); },
  add_(o: ew.Operand, alpha?: number) { return add_(this, o, alpha); },
  mul_(o: ew.Operand) { return mul_(this, o); },
  clamp_(lo?: number, hi?: number) { return clamp_(this, lo, hi); },
  matmul(o: Tensor) { return matmul(this, o); },
  linear(w: Tensor, b?: Tensor | null) { return linear(this, w, b ?? null); },
  softmax(d?: number) { return softmax(this, d); },
  logSoftmax(d?: number) { return logSoftmax(this, d); },
};

/** Methods for every dtype. */
const anyDTypeMethods: Methods<AnyTensor> = {
  add(o: ew.Operand) { return ew.add(this, o); },
  sub(o: ew.Operand) { return ew.sub(this, o); },
  mul(o: ew.Operand) { return ew.mul(this, o); },
  div(o: ew.Operand) { return ew.div(this, o); },
  remainder(o: ew.Operand) { return ew.remainder(this, o); },
  floorDivide(o: ew.Operand) { return ew.floorDivide(this, o); },
  maximum(o: ew.Operand) { return ew.maximum(this, o); },
  minimum(o: ew.Operand) { return ew.minimum(this, o); },
  neg() { return ew.neg(this); },
  abs() { return ew.abs(this); },
  clamp(lo?: number, hi?: number) { return ew.clamp(this, lo, hi); },
  eq(o: Comparable) { return eq(this, o); },
  ne(o: Comparable) { return ne(this, o); },
  lt(o: Comparable) { return lt(this, o); },
  le(o: Comparable) { return le(this, o); },
  gt(o: Comparable) { return gt(this, o); },
  ge(o: Comparable) { return ge(this, o); },
  sum(d?: Dims, k?: boolean) { return sum(this, d, k); },
  max(d?: Dims, k?: boolean) { return typeof d === 'number' ? maxAlong(this, d, k) : max(this, d, k); },
  min(d?: Dims, k?: boolean) { return typeof d === 'number' ? minAlong(this, d, k) : min(this, d, k); },
  argmax(d: number, k?: boolean) { return argmax(this, d, k); },
  argmin(d: number, k?: boolean) { return argmin(this, d, k); },
  topk(k: number, o?: { dim?: number; largest?: boolean }) { return topk(this, k, o); },
  sizeAt(d: number) { return this.shape[normDim(d, this.shape.length, 'sizeAt')]!; },
  select(d: number, i: number) { return select(this, d, i); },
  index(i: number | IndexLike) { return index(this, i); },
  t() { return t(this); },
  cat(others: readonly AnyTensor[], d?: number) { return sh.cat([this, ...others], d); },
  stack(others: readonly AnyTensor[], d?: number) { return sh.stack([this, ...others], d); },
  fill_(v: number) { return fill_(this, v); },
  zero_() { return zero_(this); },
  copy_(src: AnyTensor) { return copy_(this, src); },
  double() { return to(this, 'float64'); },
  float() { return to(this, 'float32'); },
  int() { return to(this, 'int32'); },
  long() { return to(this, 'int64'); },
  reshape(s: Shape) { return sh.reshape(this, s); },
  view(s: Shape) { return sh.reshape(this, s); },
  flatten(s?: number, e?: number) { return sh.flatten(this, s, e); },
  unsqueeze(d: number) { return sh.unsqueeze(this, d); },
  squeeze(d?: number) { return sh.squeeze(this, d); },
  permute(d: readonly number[]) { return sh.permute(this, d); },
  transpose(a?: number, b?: number) { return sh.transpose(this, a, b); },
  narrow(d: number, s: number, l: number) { return sh.narrow(this, d, s, l); },
  slice(d: number, s?: number, e?: number) { return sh.slice(this, d, s, e); },
  split(s: number | readonly number[], d?: number) { return sh.split(this, s, d); },
  indexSelect(d: number, i: IndexLike) { return sh.indexSelect(this, d, i); },
  gather(d: number, i: AnyTensor) { return sh.gather(this, d, i); },
  expand(s: Shape) { return sh.expand(this, s); },
  to(d: DTypeSpelling) { return to(this, d); },
};

Object.assign(Tensor.prototype, floatMethods, anyDTypeMethods);
