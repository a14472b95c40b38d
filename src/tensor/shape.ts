/** Shape arithmetic shared by tensors and ops. Shapes are row-major and contiguous. */
export type Shape = readonly number[];

export const formatShape = (shape: Shape): string => `[${shape.join(', ')}]`;

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Rejects shapes that are not lists of non-negative integers or that would need a huge allocation. */
export function checkShape(shape: Shape, where: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${where}: shape must hold non-negative integers, got ${formatShape(shape)}`);
    }
  }
  const n = sizeOf(shape);
  if (n > 2 ** 31 - 1) throw new Error(`${where}: shape ${formatShape(shape)} has ${n} elements, more than the 2^31-1 a tensor can hold`);
}

/** NumPy broadcasting of two shapes; throws naming both shapes when they are incompatible. */
export function broadcastShapes(a: Shape, b: Shape, where: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${where}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together (dimension ${i} of the result: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalises a possibly negative dimension index against a rank. */
export function normDim(dim: number, rank: number, where: string): number {
  const d = dim < 0 ? dim + rank : dim;
  if (!Number.isInteger(dim) || d < 0 || d >= Math.max(rank, 1)) {
    throw new Error(`${where}: dim must be in [${-rank}, ${rank - 1}] for a tensor of rank ${rank}, got ${dim}`);
  }
  return d;
}
