/** In-place initialisers (no gradient recorded), each taking an optional seeded generator. */
import { defaultGenerator, Generator, noGrad, type Tensor } from '../tensor/index.js';
import { describeValue } from './checks.js';

/** A PyTorch habit (`generator=g` as a keyword) passes an object here: say so rather than fail inside. */
function checkGenerator(where: string, generator: unknown): Generator {
  if (generator instanceof Generator) return generator;
  const plain = typeof generator === 'object' && generator !== null && Object.getPrototypeOf(generator) === Object.prototype;
  throw new Error(`${where}: generator must be a Generator (new Generator(seed)), got ${plain ? `an object { ${Object.keys(generator).join(', ')} }` : describeValue(generator)}`);
}

export function uniform_(t: Tensor, low: number, high: number, generator: Generator = defaultGenerator): Tensor {
  checkGenerator('init.uniform_', generator);
  noGrad(() => {
    const d = t.data;
    for (let i = 0; i < d.length; i++) d[i] = low + (high - low) * generator.uniform();
  });
  t.bumpVersion();
  return t;
}

export function normal_(t: Tensor, mean = 0, std = 1, generator: Generator = defaultGenerator): Tensor {
  checkGenerator('init.normal_', generator);
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
