export { Tensor, noGrad, enableGrad, isGradEnabled, record, dtypeOf, type GradNode } from './tensor.js';
export { tensor, fromArray, fromBuffer, full, zeros, ones, zerosLike, rand, randn, arange, eye, allocateArray, type CreateOptions, type RandomOptions } from './create.js';
export { Generator, defaultGenerator, manualSeed } from './random.js';
export { formatShape, sizeOf, stridesOf, sameShape, broadcastShapes, normDim, checkShape, type Shape } from './shape.js';
export { gradcheck, type GradcheckOptions } from './gradcheck.js';
export { checkOptionKeys, knownOptions, closestName } from './options.js';
