/**
 * The one dispatch point that picks a backend. float64 always runs on the TypeScript reference
 * kernels; float32 runs on the active backend (WebAssembly when available, unless
 * RECURRENT_BACKEND=js or setBackend('js') says otherwise).
 */
import type { DType, Kernels } from './contract.js';
import { jsKernels } from './js/index.js';

export type { DType, FloatArray, KernelBuffer, Kernels } from './contract.js';
export { jsKernels } from './js/index.js';

export type BackendName = 'js' | 'wasm';

const registry = new Map<BackendName, Kernels>([['js', jsKernels]]);
let active: Kernels = jsKernels;

/** Adds a backend (the wasm module registers itself once compiled). */
export function registerBackend(kernels: Kernels): void {
  registry.set(kernels.name, kernels);
}

/** The kernels that compute arrays of this dtype. */
export function kernelsFor(dtype: DType): Kernels {
  return dtype === 'float64' ? jsKernels : active;
}

export function setBackend(name: BackendName): void {
  const kernels = registry.get(name);
  if (!kernels) {
    throw new Error(`setBackend: backend '${name}' is not available (available: ${[...registry.keys()].join(', ')})`);
  }
  active = kernels;
}

export function getBackend(): BackendName {
  return active.name;
}
