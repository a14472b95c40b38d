/**
 * An identity op that reports the gradient flowing back through it. The autograd keeps gradients only
 * on leaves (there is no retain_grad), so to read dLoss/dh_t for an intermediate state the state is
 * passed through a tap, which hands the gradient on unchanged and records its norm.
 */
import { Tensor, record } from '../tensor/index.js';

export function gradientNormTap(x: Tensor, onGradient: (norm: number) => void): Tensor {
  const out = new Tensor(x.data, x.shape);
  return record(out, {
    name: 'GradientNormTap',
    inputs: [x],
    backward(gradOutput: Tensor) {
      const g = gradOutput.data;
      let sum = 0;
      for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
      onGradient(Math.sqrt(sum));
      return [gradOutput];
    },
  });
}
