/**
 * The activation functions ONNX's RNN, LSTM and GRU accept by name, with the alpha and beta the
 * attribute lists give them: each function that takes an alpha (beta) consumes the next value of
 * activation_alpha (activation_beta), in the order the functions are listed; a list that runs out
 * leaves the function's ONNX default.
 */
export type Activation = (x: number) => number;

interface Definition {
  alpha?: number;
  beta?: number;
  usesAlpha: boolean;
  usesBeta: boolean;
  make(alpha: number, beta: number): Activation;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

const DEFINITIONS: Record<string, Definition> = {
  sigmoid: { usesAlpha: false, usesBeta: false, make: () => sigmoid },
  tanh: { usesAlpha: false, usesBeta: false, make: () => Math.tanh },
  relu: { usesAlpha: false, usesBeta: false, make: () => (x) => Math.max(0, x) },
  softsign: { usesAlpha: false, usesBeta: false, make: () => (x) => x / (1 + Math.abs(x)) },
  softplus: { usesAlpha: false, usesBeta: false, make: () => (x) => Math.log1p(Math.exp(x)) },
  affine: { alpha: 1, beta: 0, usesAlpha: true, usesBeta: true, make: (a, b) => (x) => a * x + b },
  leakyrelu: { alpha: 0.01, usesAlpha: true, usesBeta: false, make: (a) => (x) => (x >= 0 ? x : a * x) },
  thresholdedrelu: { alpha: 1, usesAlpha: true, usesBeta: false, make: (a) => (x) => (x > a ? x : 0) },
  scaledtanh: { alpha: 1, beta: 1, usesAlpha: true, usesBeta: true, make: (a, b) => (x) => a * Math.tanh(b * x) },
  hardsigmoid: { alpha: 0.2, beta: 0.5, usesAlpha: true, usesBeta: true, make: (a, b) => (x) => Math.max(0, Math.min(1, a * x + b)) },
  elu: { alpha: 1, usesAlpha: true, usesBeta: false, make: (a) => (x) => (x >= 0 ? x : a * (Math.exp(x) - 1)) },
};

export const ACTIVATION_NAMES = ['Sigmoid', 'Tanh', 'Relu', 'Affine', 'LeakyRelu', 'ThresholdedRelu', 'ScaledTanh', 'HardSigmoid', 'Elu', 'Softsign', 'Softplus'];

export interface ResolvedActivation {
  /** Lower-case name. */
  name: string;
  fn: Activation;
  /** Whether alpha or beta came from the attribute lists (a fused kernel has none). */
  parameterised: boolean;
}

export function resolveActivations(names: readonly string[], alphas: readonly number[], betas: readonly number[], where: string): ResolvedActivation[] {
  let a = 0, b = 0;
  return names.map((name) => {
    const def = DEFINITIONS[name.toLowerCase()];
    if (!def) throw new Error(`${where}: activation '${name}' is not supported (supported: ${ACTIVATION_NAMES.join(', ')})`);
    const alpha = def.usesAlpha && a < alphas.length ? alphas[a++]! : def.alpha ?? 0;
    const beta = def.usesBeta && b < betas.length ? betas[b++]! : def.beta ?? 0;
    return { name: name.toLowerCase(), fn: def.make(alpha, beta), parameterised: def.usesAlpha || def.usesBeta };
  });
}
