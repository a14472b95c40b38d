/** In-place initialisers (no gradient recorded), each taking an optional seeded generator. */
import { defaultGenerator, noGrad, type Generator, type Tensor } from '../tensor/index.js';

export function uniform_(t: Tensor, low: number, high: number, generator: Generator = defaultGenerator): Tensor {
  noGrad(() => {
    const d = t.data;
    for (let i = 0; i < d.length; i++) d[i] = low + (high - low) * generator.uniform();
  });
  t.bumpVersion();
  return t;
}

export function normal_(t: Tensor, mean = 0, std = 1, generator: Generator = defaultGenerator): Tensor {
  noGrad(() => {
    const d = t.data;
    for (let i = 0; i < d.length; i++) d[i] = mean + std * generator.normal();
  });
  t.bumpVersion();
  return t;
}

export function fill_(t: Tensor, value: number): Tensor {
  t.data.fill(value);
  t.bumpVersion();
  return t;
}
