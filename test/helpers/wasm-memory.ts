// Running a test body on WebAssembly kernels over one kind of memory: the process's own (shared in
// Node) or a plain one, as a browser page that is not cross-origin isolated gets.
import { getBackend, kernelsFor, registerBackend, setBackend } from '../../src/kernels/index.js';
import type { LinearMemory } from '../../src/kernels/wasm/memory.js';
import { loadWasmKernelsSync, type WasmKernels } from '../../src/kernels/wasm/index.js';

let plain: WasmKernels | null = null;

export function withWasmMemory(memory: 'shared' | 'plain', body: (heap: LinearMemory) => void): void {
  const own = kernelsFor('float32') as WasmKernels;
  const before = getBackend();
  const kernels = memory === 'plain' ? (plain ??= loadWasmKernelsSync(false)) : own;
  registerBackend(kernels);
  setBackend('wasm');
  try {
    body(kernels.heap);
  } finally {
    registerBackend(own);
    setBackend(before);
  }
}
