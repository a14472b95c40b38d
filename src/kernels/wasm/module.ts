/**
 * Compiling and instantiating the kernels module. The binaries are embedded as base64
 * (binary.generated.ts, written by scripts/build-wasm.mjs), so nothing is fetched or read from disk.
 * Where shared memory is available the shared-memory build is used, so that worker threads can be
 * added at any time later (the memory cannot change kind once buffers live in it). Where the engine
 * validates relaxed SIMD, the build with fused multiply-adds is used (assembly/fma.ts), unless
 * RECURRENT_RELAXED_SIMD=off (Node) or the caller asks for the plain one.
 */
import { wasmBase64, wasmRelaxedBase64, wasmSharedBase64, wasmSharedRelaxedBase64 } from './binary.generated.js';
import type { WasmExports } from './exports.js';

export interface WasmInstance {
  readonly exports: WasmExports;
  readonly memory: WebAssembly.Memory;
  /** Kept so worker threads can instantiate the same code over the same (shared) memory. */
  readonly module: WebAssembly.Module;
  readonly shared: boolean;
  /** Whether this is the relaxed-SIMD build (fused multiply-add). */
  readonly relaxed: boolean;
}

// The smallest module that uses a SIMD instruction: (func (result v128) i32.const 0 i8x16.splat).
// Validating it tells whether this engine has WebAssembly SIMD (the check tfjs-backend-wasm makes).
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b, // code: i32.const 0, i8x16.splat, end
]);

export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

// (func (result v128) three times (i32.const 0, i8x16.splat), f32x4.relaxed_madd): validates only
// where the engine has relaxed SIMD.
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x13, 0x01, 0x11, 0x00, // code section: one body of 17 bytes, no locals
  0x41, 0x00, 0xfd, 0x0f, 0x41, 0x00, 0xfd, 0x0f, 0x41, 0x00, 0xfd, 0x0f, // three zero vectors
  0xfd, 0x85, 0x02, 0x0b, // f32x4.relaxed_madd, end
]);

/** Whether this engine has relaxed SIMD (Node 20 only with --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_SIMD_PROBE);
  } catch {
    return false;
  }
}

/** The relaxed build where the engine has it, unless RECURRENT_RELAXED_SIMD=off says otherwise. */
function relaxedByDefault(): boolean {
  const env = typeof process === 'object' ? process.env?.['RECURRENT_RELAXED_SIMD'] : undefined;
  return env?.trim().toLowerCase() !== 'off' && relaxedSimdSupported();
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const chars = atob(text);
  const bytes = new Uint8Array(chars.length);
  for (let i = 0; i < chars.length; i++) bytes[i] = chars.charCodeAt(i);
  return bytes;
}

// 1 MiB to start; the allocator grows it as buffers are requested.
const INITIAL_PAGES = 16;
/** A shared memory needs a maximum; must equal SHARED_MAXIMUM_PAGES in scripts/build-wasm.mjs. */
const SHARED_MAXIMUM_PAGES = 32768; // 2 GiB

/** Whether this context can use the shared-memory build (needed for worker threads). Browsers
 * expose SharedArrayBuffer only on cross-origin-isolated pages. */
export function sharedMemorySupported(): boolean {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return typeof SharedArrayBuffer === 'function' && isolated !== false;
}

function setup(shared: boolean, relaxed: boolean): { bytes: Uint8Array<ArrayBuffer>; memory: WebAssembly.Memory; imports: WebAssembly.Imports } {
  if (relaxed && !relaxedSimdSupported()) throw new Error('the relaxed-SIMD build needs an engine with relaxed SIMD (Node 20: --experimental-wasm-relaxed-simd)');
  const memory = shared
    ? new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: SHARED_MAXIMUM_PAGES, shared: true })
    : new WebAssembly.Memory({ initial: INITIAL_PAGES });
  const base64 = shared ? (relaxed ? wasmSharedRelaxedBase64 : wasmSharedBase64) : relaxed ? wasmRelaxedBase64 : wasmBase64;
  return { bytes: decodeBase64(base64), memory, imports: { env: { memory } } };
}

/** Synchronous compile and instantiate: fine in Node and in workers; browsers refuse it for large
 * modules on the main thread, where instantiateWasmAsync is the way. */
export function instantiateWasmSync(shared = sharedMemorySupported(), relaxed = relaxedByDefault()): WasmInstance {
  const { bytes, memory, imports } = setup(shared, relaxed);
  const module = new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, imports);
  return { exports: instance.exports as unknown as WasmExports, memory, module, shared, relaxed };
}

export async function instantiateWasmAsync(shared = sharedMemorySupported(), relaxed = relaxedByDefault()): Promise<WasmInstance> {
  const { bytes, memory, imports } = setup(shared, relaxed);
  const module = await WebAssembly.compile(bytes);
  const instance = await WebAssembly.instantiate(module, imports);
  return { exports: instance.exports as unknown as WasmExports, memory, module, shared, relaxed };
}
