import './methods.js';

export { add, sub, mul, div, remainder, floorDivide, pow, maximum, minimum, neg, exp, log, sqrt, abs, tanh, sigmoid, relu, sin, cos, clamp, where, type Operand, type Promoted, type IntWithNumber, type ClampResult } from './elementwise.js';
export { sum, mean, max, min, argmax, argmin, type Dims } from './reduce.js';
export { select, index, t, topk, maxAlong, minAlong, type ValuesIndices } from './indexing.js';
export { add_, mul_, clamp_, fill_, zero_, copy_ } from './inplace.js';
export { reshape, view, flatten, unsqueeze, squeeze, permute, transpose, narrow, slice, cat, stack, split, indexSelect, gather, expand } from './shape.js';
export { matmul, linear } from './matmul.js';
export { embedding } from './embedding.js';
export { softmax, logSoftmax } from './softmax.js';
export { to } from './convert.js';
export { eq, ne, lt, le, gt, ge, type Comparable } from './compare.js';
export { sumToShape, type IndexLike, type TensorLike } from './util.js';
