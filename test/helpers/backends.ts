// Every kernel backend that loaded (the TypeScript reference, and WebAssembly where SIMD validates),
// for tests that run the same cases on each.
import { getBackend, setBackend, type BackendName } from '../../src/kernels/index.js';

export const defaultBackend = getBackend();
export const backends: BackendName[] = defaultBackend === 'wasm' ? ['js', 'wasm'] : ['js'];

/** A test body that runs fn with `backend` selected and restores the default afterwards. */
export const onBackend = (backend: BackendName, fn: () => void) => () => {
  setBackend(backend);
  try {
    fn();
  } finally {
    setBackend(defaultBackend);
  }
};
