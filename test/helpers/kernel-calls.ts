// Counts the calls of one kernel of a dtype's current backend while a function runs: how a test
// tells that a computation ran on the fused kernels, not only that its numbers agree.
import { kernelsFor, type DType } from '../../src/kernels/index.js';

type KernelName = 'gruResetBeforeGates' | 'gruForward' | 'lstmForward';

export function kernelCalls(dtype: DType, name: KernelName, fn: () => void): number {
  const k = kernelsFor(dtype) as unknown as Record<KernelName, (...args: unknown[]) => void>;
  const original = k[name];
  let calls = 0;
  k[name] = (...args: unknown[]) => {
    calls++;
    original.apply(k, args);
  };
  try {
    fn();
  } finally {
    k[name] = original;
  }
  return calls;
}
