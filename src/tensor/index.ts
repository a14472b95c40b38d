export { Tensor, noGrad, enableGrad, isGradEnabled, record, dtypeOf, type GradNode, type IntTensor, type AnyTensor } from './tensor.js';
export { resolveDType, isFloatDType, dtypeOfArray, toInt32, copyConverting, integerTensorError, type FloatDType, type IntDType, type TensorDType, type DTypeSpelling, type ArrayOf, type AnyArray } from './dtype.js';
export { tensor, fromArray, fromBuffer, full, zeros, ones, zerosLike, rand, randn, arange, eye, allocateArray, type CreateOptions, type IntCreateOptions, type RandomOptions, type ShapeArgs, type ShapeArgsWith } from './create.js';
export { Generator, defaultGenerator, manualSeed } from './random.js';
export { formatShape, sizeOf, stridesOf, sameShape, broadcastShapes, normDim, checkShape, type Shape } from './shape.js';
export { gradcheck, type GradcheckOptions } from './gradcheck.js';
export { checkOptionKeys, knownOptions, closestName } from './options.js';
