/**
 * Finite-difference gradient check, in float64. Compares the gradients that backward() computes for
 * the vector-Jacobian product with a random cotangent against central differences of the same scalar
 * sum(fn(inputs) * cotangent). Throws with the first mismatches and the largest difference.
 */
import { Generator } from './random.js';
import { formatShape } from './shape.js';
import { noGrad, Tensor } from './tensor.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

function weightedSum(out: Tensor, cotangent: Float64Array): number {
  const d = out.data;
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]! * cotangent[i]!;
  return s;
}

export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): true {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, seed = 0 } = options;
  for (const [k, t] of inputs.entries()) {
    if (t.dtype !== 'float64') throw new Error(`gradcheck: input ${k} must be float64 for finite differences, got ${t.dtype}`);
  }
  const output = fn(...inputs);
  const generator = new Generator(seed);
  const cotangent = new Float64Array(output.size).map(() => generator.normal());
  for (const t of inputs) t.grad = null;
  output.backward(new Tensor(cotangent.slice(), output.shape));

  const problems: string[] = [];
  let largest = 0;
  noGrad(() => {
    inputs.forEach((input, k) => {
      if (!input.requiresGrad) return;
      const analytic = input.grad?.data ?? new Float64Array(input.size);
      const data = input.data;
      for (let i = 0; i < input.size; i++) {
        // Each write is announced, so that fn never sees weights cached from before it (a layer may
        // keep prepared weights keyed on the version).
        const saved = data[i]!;
        data[i] = saved + eps;
        input.bumpVersion();
        const plus = weightedSum(fn(...inputs), cotangent);
        data[i] = saved - eps;
        input.bumpVersion();
        const minus = weightedSum(fn(...inputs), cotangent);
        data[i] = saved;
        input.bumpVersion();
        const numeric = (plus - minus) / (2 * eps);
        const a = analytic[i]!;
        const diff = Math.abs(a - numeric);
        largest = Math.max(largest, diff);
        if (!(diff <= atol + rtol * Math.abs(numeric))) {
          if (problems.length < 5) problems.push(`input ${k} ${formatShape(input.shape)} element ${i}: backward ${a}, finite difference ${numeric}`);
        }
      }
    });
  });
  if (problems.length > 0) {
    throw new Error(`gradcheck failed (largest difference ${largest}):\n  ${problems.join('\n  ')}`);
  }
  return true;
}
