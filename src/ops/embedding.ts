/** Row lookup of an embedding table, with PyTorch's padding_idx: that row gets no gradient. */
import { formatShape, noGrad, record, Tensor } from '../tensor/index.js';
import { indexSelect } from './shape.js';
import { newTensor, toIndexArray, type IndexLike } from './util.js';

/**
 * weight [num, dim] and ids (any shape, integral values) give [...ids.shape, dim]. Rows looked up at
 * `paddingIdx` (if given) pass their value forward but add nothing to weight's gradient.
 */
export function embedding(weight: Tensor, ids: IndexLike, idsShape: readonly number[], paddingIdx: number | null = null): Tensor {
  if (weight.shape.length !== 2) throw new Error(`embedding: weight must be 2-D [num, dim], got ${formatShape(weight.shape)}`);
  const [num, dim] = weight.shape as [number, number];
  const idx = toIndexArray(ids, num, 'embedding');
  const rows = noGrad(() => indexSelect(weight, 0, idx));
  const out = new Tensor(rows.rawStorage, [...idsShape, dim]);
  return record(out, {
    name: 'embedding', inputs: [weight],
    backward: (g) => {
      const dw = newTensor(weight.shape, weight);
      const gd = g.data, dd = dw.data;
      for (let j = 0; j < idx.length; j++) {
        const row = idx[j]!;
        if (row === paddingIdx) continue;
        for (let q = 0; q < dim; q++) dd[row * dim + q]! += gd[j * dim + q]!;
      }
      return [dw];
    },
  });
}
