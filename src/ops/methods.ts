/**
 * Attaches the ops to Tensor as chained methods (t.mul(u).sum()), as TF.js does, so that the tensor
 * layer never imports the ops layer (docs/architecture.md, "Tensor methods come from the ops
 * layer"). Importing this module once is enough.
 */
import type { DType } from '../kernels/index.js';
import { normDim, Tensor, type Shape } from '../tensor/index.js';
import { to } from './convert.js';
import * as ew from './elementwise.js';
import { linear, matmul } from './matmul.js';
import { argmax, argmin, max, mean, min, sum, type Dims } from './reduce.js';
import { index, maxAlong, minAlong, select, t, topk, type ValuesIndices } from './indexing.js';
import { add_, clamp_, copy_, fill_, mul_, zero_ } from './inplace.js';
import * as sh from './shape.js';
import { logSoftmax, softmax } from './softmax.js';
import type { TensorLike } from './util.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(exponent: TensorLike): Tensor;
    maximum(other: TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    abs(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    clamp(min?: number, max?: number): Tensor;
    sum(dims?: Dims, keepDim?: boolean): Tensor;
    mean(dims?: Dims, keepDim?: boolean): Tensor;
    /** max() over everything, or amax over a list of dims: a tensor. */
    max(dims?: readonly number[], keepDim?: boolean): Tensor;
    /** max(dim): [values, indices] (also .values, .indices), as torch.max(x, dim). */
    max(dim: number, keepDim?: boolean): ValuesIndices;
    min(dims?: readonly number[], keepDim?: boolean): Tensor;
    min(dim: number, keepDim?: boolean): ValuesIndices;
    argmax(dim: number, keepDim?: boolean): Tensor;
    argmin(dim: number, keepDim?: boolean): Tensor;
    topk(k: number, options?: { dim?: number; largest?: boolean }): ValuesIndices;
    /** The size of one dimension (negative counts from the end): PyTorch's x.size(dim). `size` is the element count. */
    sizeAt(dim: number): number;
    select(dim: number, index: number): Tensor;
    /** x[i] in PyTorch: the i-th entry along the leading dimension. */
    index(i: number): Tensor;
    t(): Tensor;
    /** torch.cat([this, ...others], dim). */
    cat(others: readonly Tensor[], dim?: number): Tensor;
    /** torch.stack([this, ...others], dim). */
    stack(others: readonly Tensor[], dim?: number): Tensor;
    add_(other: TensorLike, alpha?: number): Tensor;
    mul_(other: TensorLike): Tensor;
    clamp_(min?: number, max?: number): Tensor;
    fill_(value: number): Tensor;
    zero_(): Tensor;
    copy_(src: Tensor): Tensor;
    double(): Tensor;
    float(): Tensor;
    matmul(other: Tensor): Tensor;
    linear(weight: Tensor, bias?: Tensor | null): Tensor;
    reshape(shape: Shape): Tensor;
    view(shape: Shape): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    unsqueeze(dim: number): Tensor;
    squeeze(dim?: number): Tensor;
    permute(dims: readonly number[]): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    slice(dim: number, start?: number, end?: number): Tensor;
    split(sizeOrSections: number | readonly number[], dim?: number): Tensor[];
    indexSelect(dim: number, index: Tensor | Int32Array | readonly number[]): Tensor;
    gather(dim: number, index: Tensor): Tensor;
    expand(shape: Shape): Tensor;
    softmax(dim?: number): Tensor;
    logSoftmax(dim?: number): Tensor;
    to(dtype: DType): Tensor;
  }
}

const methods: Partial<Record<keyof Tensor, (this: Tensor, ...args: never[]) => unknown>> = {
  add(o: TensorLike) { return ew.add(this, o); },
  sub(o: TensorLike) { return ew.sub(this, o); },
  mul(o: TensorLike) { return ew.mul(this, o); },
  div(o: TensorLike) { return ew.div(this, o); },
  pow(o: TensorLike) { return ew.pow(this, o); },
  maximum(o: TensorLike) { return ew.maximum(this, o); },
  neg() { return ew.neg(this); },
  exp() { return ew.exp(this); },
  log() { return ew.log(this); },
  sqrt() { return ew.sqrt(this); },
  abs() { return ew.abs(this); },
  tanh() { return ew.tanh(this); },
  sigmoid() { return ew.sigmoid(this); },
  relu() { return ew.relu(this); },
  sin() { return ew.sin(this); },
  cos() { return ew.cos(this); },
  clamp(lo?: number, hi?: number) { return ew.clamp(this, lo, hi); },
  sum(d?: Dims, k?: boolean) { return sum(this, d, k); },
  mean(d?: Dims, k?: boolean) { return mean(this, d, k); },
  max(d?: Dims, k?: boolean) { return typeof d === 'number' ? maxAlong(this, d, k) : max(this, d, k); },
  min(d?: Dims, k?: boolean) { return typeof d === 'number' ? minAlong(this, d, k) : min(this, d, k); },
  argmax(d: number, k?: boolean) { return argmax(this, d, k); },
  argmin(d: number, k?: boolean) { return argmin(this, d, k); },
  topk(k: number, o?: { dim?: number; largest?: boolean }) { return topk(this, k, o); },
  sizeAt(d: number) { return this.shape[normDim(d, this.shape.length, 'sizeAt')]!; },
  select(d: number, i: number) { return select(this, d, i); },
  index(i: number) { return index(this, i); },
  t() { return t(this); },
  cat(others: readonly Tensor[], d?: number) { return sh.cat([this, ...others], d); },
  stack(others: readonly Tensor[], d?: number) { return sh.stack([this, ...others], d); },
  add_(o: TensorLike, alpha?: number) { return add_(this, o, alpha); },
  mul_(o: TensorLike) { return mul_(this, o); },
  clamp_(lo?: number, hi?: number) { return clamp_(this, lo, hi); },
  fill_(v: number) { return fill_(this, v); },
  zero_() { return zero_(this); },
  copy_(src: Tensor) { return copy_(this, src); },
  double() { return to(this, 'float64'); },
  float() { return to(this, 'float32'); },
  matmul(o: Tensor) { return matmul(this, o); },
  linear(w: Tensor, b?: Tensor | null) { return linear(this, w, b ?? null); },
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
  indexSelect(d: number, i: Tensor | Int32Array | readonly number[]) { return sh.indexSelect(this, d, i); },
  gather(d: number, i: Tensor) { return sh.gather(this, d, i); },
  expand(s: Shape) { return sh.expand(this, s); },
  softmax(d?: number) { return softmax(this, d); },
  logSoftmax(d?: number) { return logSoftmax(this, d); },
  to(d: DType) { return to(this, d); },
};

Object.assign(Tensor.prototype, methods);
