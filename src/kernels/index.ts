/**
 * The one dispatch point that picks a backend. float64 always runs on the TypeScript reference
 * kernels (with the system BLAS's dgemm under their products where it is on); float32 runs on the active backend (WebAssembly when available, unless
 * RECURRENT_BACKEND=js or setBackend('js') says otherwise).
 *
 * In Node the WebAssembly module compiles synchronously when this file is imported. Browsers refuse
 * synchronous compilation of large modules on the main thread: there, call `await initWasm()` once at
 * startup; until then float32 runs on the TypeScript kernels.
 */
import type { DType, FloatArray, KernelBuffer, Kernels } from './contract.js';
import { jsKernels } from './js/index.js';
import { loadNativeBlas, parseBlasVariable, type BlasMode, type NativeBlasLoad } from './native/addon.js';
import { float64KernelsOver } from './native/float64.js';
import { NativeGemm } from './native/gemm.js';
import { checkThreadCount, parseThreadsVariable } from './thread-count.js';
import type { WasmKernels } from './wasm/index.js';
import { loadWasmKernels, loadWasmKernelsSync, wasmSimdSupported } from './wasm/index.js';

export type { DType, FloatArray, KernelBuffer, Kernels, PackedMatrix, PreparedStep, RnnActivation, SequenceKind } from './contract.js';
export { jsKernels } from './js/index.js';

export type BackendName = 'js' | 'wasm';

const registry = new Map<BackendName, Kernels>([['js', jsKernels]]);
let active: Kernels = jsKernels;

/** Adds a backend (the wasm module registers itself once compiled). */
export function registerBackend(kernels: Kernels): void {
  registry.set(kernels.name, kernels);
  if (kernels.name === 'wasm') wasmHeap = (kernels as WasmKernels).heap;
}

/** The registered wasm backend's memory (isKernelMemoryView asks it on every tensor made). */
let wasmHeap: WasmKernels['heap'] | null = null;

/** The kernels that compute arrays of this dtype. */
export function kernelsFor(dtype: DType): Kernels {
  return dtype === 'float64' ? float64 : active;
}

/** float64's kernels: the reference, with the system BLAS under its products while it is on. */
let float64: Kernels = jsKernels;

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

// `process` is absent in browsers; RECURRENT_BACKEND=js keeps wasm registered but not the default.
const env = typeof process === 'object' ? process : undefined;
const preferJs = env?.env?.['RECURRENT_BACKEND'] === 'js';

function adoptWasm(kernels: Kernels): void {
  registerBackend(kernels);
  if (!preferJs) active = kernels;
}

if (env?.versions?.node !== undefined && wasmSimdSupported()) {
  try {
    adoptWasm(loadWasmKernelsSync());
  } catch (error) {
    console.warn(`recurrent: WebAssembly kernels failed to load, using the TypeScript kernels: ${String(error)}`);
  }
}

/**
 * Loads the WebAssembly kernels asynchronously (the way for browsers' main threads) and makes them
 * the float32 default unless RECURRENT_BACKEND=js. Resolves to the active backend's name: 'js' where
 * WebAssembly SIMD is missing. Safe to call more than once (only the first call loads).
 * `relaxedSimd: false` loads the plain-SIMD build even where the engine has relaxed SIMD, whose
 * fused multiply-adds may differ in the last bits between machines (default: relaxed where present).
 */
export async function initWasm(options: { relaxedSimd?: boolean } = {}): Promise<BackendName> {
  if (!registry.has('wasm') && wasmSimdSupported()) {
    adoptWasm(await loadWasmKernels(undefined, options.relaxedSimd === false ? false : undefined));
  }
  return active.name;
}

/**
 * Runs large float32 GEMMs and the recurrent step kernels of the WebAssembly backend on `threads`
 * threads (helper workers over shared memory; results are identical for any count). Resolves to the
 * count in effect: 1 where there is no wasm backend or no shared memory (a browser page that is not
 * cross-origin isolated). The default in Node is 2 where there are two cores or more (sharing pauses
 * by itself while other processes keep the cores busy), overridden by RECURRENT_THREADS, and set at
 * import: helpers exist before the first kernel call, so a program need not await anything. Elsewhere
 * it is 1. Where Node can start workers synchronously, the new helpers exist when this returns, and
 * the promise says when they are ready. Rejects unless `threads` is a whole number from 1 to 128.
 */
export async function setThreads(threads: number): Promise<number> {
  checkThreadCount('setThreads', threads);
  const wasm = registry.get('wasm') as WasmKernels | undefined;
  if (!wasm || (!wasm.shared && threads > 1)) return 1;
  await wasm.setThreads(threads);
  return wasm.threads;
}

/** The default thread count in Node: RECURRENT_THREADS, else up to 2 (never more than the cores). */
function defaultThreads(cores: number): number {
  const fallback = Math.min(2, cores);
  const fromEnv = env?.env?.['RECURRENT_THREADS'];
  if (fromEnv === undefined || fromEnv === '') return fallback;
  const parsed = parseThreadsVariable(fromEnv);
  if ('threads' in parsed) return parsed.threads;
  console.warn(`recurrent: ${parsed.error}; using ${fallback} thread${fallback === 1 ? '' : 's'}`);
  return fallback;
}

/** The cores, now where Node hands out built-in modules synchronously: then helpers start before
 * the first kernel call, and a program that never awaits still gets them. */
function coreCount(): number | Promise<number> {
  const getBuiltin = (env as { getBuiltinModule?: (id: string) => unknown } | undefined)?.getBuiltinModule;
  const os = getBuiltin?.call(env, 'node:os') as typeof import('node:os') | undefined;
  if (os) return os.availableParallelism();
  // A variable specifier keeps browser bundlers from trying to resolve the Node module.
  const specifier = 'node:os';
  return import(/* @vite-ignore */ specifier).then((loaded: typeof import('node:os')) => loaded.availableParallelism());
}

const warnOneThread = (error: unknown): void => console.warn(`recurrent: running the kernels on one thread (${String(error)})`);

function startDefaultThreads(cores: number): void {
  const threads = defaultThreads(cores);
  if (threads > 1) setThreads(threads).catch(warnOneThread);
}

/**
 * The system BLAS under the wasm backend's large GEMMs and under float64's (Node only; ./native/):
 * RECURRENT_BLAS=off never, on always (absent is an error at import), unset or auto where the addon
 * was built.
 */
let nativeLoad: NativeBlasLoad = { addon: null, reason: 'not in Node' };
let nativeGemm: NativeGemm | null = null;

function blasModeFromEnv(): BlasMode {
  const parsed = parseBlasVariable(env?.env?.['RECURRENT_BLAS']);
  if ('mode' in parsed) return parsed.mode;
  console.warn(`recurrent: ${parsed.error}; using auto`);
  return 'auto';
}

/** Puts the BLAS under the wasm kernels' large products and float64's products, or takes it away. */
function useNativeGemm(wasm: WasmKernels, provider: NativeGemm | null): void {
  wasm.nativeGemm = provider;
  float64 = provider ? float64KernelsOver(provider) : jsKernels;
}

if (env?.versions?.node !== undefined && registry.has('wasm')) {
  nativeLoad = loadNativeBlas(blasModeFromEnv());
  if (nativeLoad.addon) {
    const wasm = registry.get('wasm') as WasmKernels;
    nativeGemm = new NativeGemm(nativeLoad.addon, wasm.exports.gemmSmallRows());
    useNativeGemm(wasm, nativeGemm);
  }
}

/**
 * Turns the system BLAS under the wasm backend's large GEMMs (and float64's) on or off for this process (what
 * RECURRENT_BLAS chose at import otherwise). Returns whether it is on: turning it on where the addon
 * is absent throws, saying why it is absent.
 */
export function setNativeBlas(on: boolean): boolean {
  const wasm = registry.get('wasm') as WasmKernels | undefined;
  if (on && !nativeGemm) {
    if (!wasm) throw new Error('setNativeBlas: the native BLAS works under the WebAssembly backend, which is not loaded');
    const load = nativeLoad.addon ? nativeLoad : loadNativeBlas('auto');
    if (!load.addon) throw new Error(`setNativeBlas: the native BLAS is not available: ${load.reason}`);
    nativeLoad = load;
    nativeGemm = new NativeGemm(load.addon, wasm.exports.gemmSmallRows());
  }
  if (wasm) useNativeGemm(wasm, on ? nativeGemm : null);
  return on;
}

/** What computes float32 now. */
export interface BackendInfo {
  backend: BackendName;
  /** Which GEMM runs the large float32 products: the system BLAS under the wasm kernels, or ours. */
  gemm: 'native' | 'wasm' | 'js';
  /** The BLAS library when gemm is 'native'; otherwise why it is not used (null on the js backend). */
  blas: string | null;
  /** Threads the wasm kernels (and the BLAS under them) use now. */
  threads: number;
  /** Whether the wasm kernels are the relaxed-SIMD build (fused multiply-add). */
  relaxedSimd: boolean;
  /** Which GEMM runs float64's products (float64 models, gradient checks): the BLAS's dgemm or the reference. */
  float64Gemm: 'native' | 'js';
}

export function getBackendInfo(): BackendInfo {
  const wasm = registry.get('wasm') as WasmKernels | undefined;
  const float64Gemm = float64 === jsKernels ? 'js' : 'native';
  if (active.name === 'js' || !wasm) return { backend: 'js', gemm: 'js', blas: null, threads: 1, relaxedSimd: false, float64Gemm };
  const native = wasm.nativeGemm;
  return {
    backend: 'wasm',
    gemm: native ? 'native' : 'wasm',
    blas: native ? native.library : nativeLoad.addon ? 'turned off by setNativeBlas(false)' : nativeLoad.reason,
    threads: wasm.threads,
    relaxedSimd: wasm.relaxed,
    float64Gemm,
  };
}

if (env?.versions?.node !== undefined && registry.has('wasm') && !preferJs) {
  const cores = coreCount();
  if (typeof cores === 'number') startDefaultThreads(cores);
  else cores.then(startDefaultThreads, warnOneThread);
}

/**
 * Whether a typed array is a view of the WebAssembly backend's memory rather than an array of its
 * own. Such a view must not outlive the kernel call it was taken for: growing the memory detaches it
 * (plain memory) or leaves it short (shared memory), and released blocks are reused.
 */
export function isKernelMemoryView(array: ArrayBufferView): boolean {
  return wasmHeap !== null && wasmHeap.owns(array.buffer);
}

/** A window [offset, offset+length) of a buffer: how one contiguous allocation gets named views
 * (a recurrent layer's weights in PyTorch's flat order). */
export function sliceBuffer(parent: KernelBuffer, offset: number, length: number): KernelBuffer {
  if (offset < 0 || length < 0 || offset + length > parent.length) {
    throw new Error(`sliceBuffer: window [${offset}, ${offset + length}) does not fit a buffer of ${parent.length}`);
  }
  // The window is re-cut only when the parent's view changes (after memory growth), since parameter
  // tensors over windows are read on every step.
  let parentView: FloatArray | null = null;
  let window: FloatArray | null = null;
  return {
    length,
    dtype: parent.dtype,
    view: () => {
      const current = parent.view();
      if (current !== parentView) {
        parentView = current;
        window = current.subarray(offset, offset + length);
      }
      return window!;
    },
  };
}
