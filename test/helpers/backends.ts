// Every kernel backend that loaded (the TypeScript reference, and WebAssembly where SIMD validates),
// for tests that run the same cases on each.
import { getBackend, getBackendInfo, setBackend, setNativeBlas, type BackendName } from '../../src/kernels/index.js';

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

/**
 * Every GEMM provider present, for the parity suite: the TypeScript reference, the wasm kernels with
 * every product their own ('wasm'), and the wasm kernels with the system BLAS under their large
 * products ('wasm+blas', where the addon loaded).
 */
export type Provider = 'js' | 'wasm' | 'wasm+blas';
const nativeByDefault = getBackendInfo().gemm === 'native';
export const providers: Provider[] = [...backends, ...(nativeByDefault ? (['wasm+blas'] as const) : [])];

/** A test body that runs fn on `provider` and restores the defaults afterwards. */
export const onProvider = (provider: Provider, fn: () => void) => () => {
  setBackend(provider === 'js' ? 'js' : 'wasm');
  if (provider !== 'js') setNativeBlas(provider === 'wasm+blas');
  try {
    fn();
  } finally {
    setBackend(defaultBackend);
    if (backends.includes('wasm')) setNativeBlas(nativeByDefault);
  }
};
