/**
 * One ceiling for the arrays the data helpers allocate, so a typo such as `--seq-len 1e9` fails with
 * a message naming the option instead of exhausting memory or throwing a bare RangeError.
 */

/** 2^27 elements: 512 MB of float32, far above any batch or roll the shipped tasks need. */
export const MAX_ELEMENTS = 2 ** 27;

export function checkAllocation(fn: string, what: string, elements: number): void {
  if (!(elements <= MAX_ELEMENTS)) {
    throw new Error(`${fn}: ${what} would need ${elements} elements, more than the limit of ${MAX_ELEMENTS}; use smaller sizes`);
  }
}
