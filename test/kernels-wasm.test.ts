// Every WebAssembly kernel against the TypeScript reference (src/kernels/js/) on seeded random inputs,
// with sizes that defeat the SIMD width (1, 3, 17, 65) and the GEMM's blocking, non-zero offsets and
// padded row strides. A mismatch prints the largest difference and the first bad elements.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FloatArray, KernelBuffer, Kernels, PackedMatrix, PreparedStep, SequenceKind } from '../src/kernels/contract.js';
import { jsKernels } from '../src/kernels/js/index.js';
import { loadWasmKernels, loadWasmKernelsSync, wasmSimdSupported, type WasmKernels } from '../src/kernels/wasm/index.js';
import { getBackend, initWasm, kernelsFor, setThreads } from '../src/kernels/index.js';
import { Chooser } from '../src/kernels/wasm/chooser.js';

const wasm = loadWasmKernelsSync();
const EPS = 2 ** -24;
const ODD_SIZES = [1, 3, 17, 65];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform in [-scale, scale). */
function randomArray(n: number, random: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * random() - 1) * scale;
  return a;
}

/** Fails with the largest difference and the first mismatches (llm.c's checker) when any
 * |got - want| > tolerance(i). */
function expectClose(label: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: (i: number) => number): void {
  assert.equal(got.length, want.length, `${label}: length`);
  let worst = 0;
  let worstAt = -1;
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const d = Math.abs(g - w);
    const bothNaN = Number.isNaN(g) && Number.isNaN(w);
    const ok = d <= tolerance(i) || bothNaN || g === w;
    if (!bothNaN && !(d <= worst)) {
      worst = Number.isNaN(d) ? Infinity : d;
      worstAt = i;
    }
    if (!ok && bad.length < 5) bad.push(`  [${i}] got ${g}, want ${w}, diff ${d}, tolerance ${tolerance(i)}`);
  }
  if (bad.length > 0) {
    assert.fail(`${label}: mismatch, largest difference ${worst} at [${worstAt}]\n${bad.join('\n')}`);
  }
}

/** Relative tolerance for elementwise kernels whose reference computes in f64 and rounds once. */
const relative = (want: ArrayLike<number>, rel = 2e-6, abs = 1e-7) => (i: number): number => abs + rel * Math.abs(want[i]!);

// ---- GEMM ----

interface GemmCase {
  transA: boolean; transB: boolean; m: number; n: number; k: number; alpha: number; beta: number;
  pad: number; offset: number;
}

function runGemm(kernels: Kernels, t: GemmCase, seed: number, resident: boolean): { c: Float32Array; scale: Float64Array } {
  const random = rng(seed);
  const [aRows, aCols] = t.transA ? [t.k, t.m] : [t.m, t.k];
  const [bRows, bCols] = t.transB ? [t.n, t.k] : [t.k, t.n];
  const lda = aCols + t.pad;
  const ldb = bCols + t.pad;
  const ldc = t.n + t.pad;
  const a = randomArray(t.offset + aRows * lda, random);
  const b = randomArray(t.offset + bRows * ldb, random);
  const c = randomArray(t.offset + t.m * ldc, random);
  if (t.beta === 0) c.fill(NaN); // beta = 0 must ignore C, NaN included
  // Error bound per element: the sum of |terms| (both results round at most k + 2 times).
  const scale = new Float64Array(c.length);
  for (let i = 0; i < t.m; i++) {
    for (let j = 0; j < t.n; j++) {
      let s = t.beta === 0 ? 0 : Math.abs(t.beta * c[t.offset + i * ldc + j]!);
      for (let p = 0; p < t.k; p++) {
        const av = t.transA ? a[t.offset + p * lda + i]! : a[t.offset + i * lda + p]!;
        const bv = t.transB ? b[t.offset + j * ldb + p]! : b[t.offset + p * ldb + j]!;
        s += Math.abs(t.alpha * av * bv);
      }
      scale[t.offset + i * ldc + j] = s;
    }
  }
  if (!resident) {
    kernels.gemm(t.transA, t.transB, t.m, t.n, t.k, t.alpha, a, t.offset, lda, b, t.offset, ldb, t.beta, c, t.offset, ldc);
    return { c, scale };
  }
  const inMemory = (x: Float32Array): KernelBuffer => {
    const buffer = kernels.allocate(x.length, 'float32');
    buffer.view().set(x);
    return buffer;
  };
  const [ba, bb, bc] = [inMemory(a), inMemory(b), inMemory(c)];
  kernels.gemm(t.transA, t.transB, t.m, t.n, t.k, t.alpha, ba.view(), t.offset, lda, bb.view(), t.offset, ldb, t.beta, bc.view(), t.offset, ldc);
  const out = Float32Array.from(bc.view());
  for (const x of [ba, bb, bc]) kernels.release(x);
  return { c: out, scale };
}

function checkGemm(t: GemmCase, seed: number, resident = false): void {
  const want = runGemm(jsKernels, t, seed, false);
  const got = runGemm(wasm, t, seed, resident);
  const label = `gemm ${t.transA ? 'T' : 'N'}${t.transB ? 'T' : 'N'} m=${t.m} n=${t.n} k=${t.k} alpha=${t.alpha} beta=${t.beta} pad=${t.pad} offset=${t.offset}`;
  expectClose(label, got.c, want.c, (i) => 2 * (t.k + 2) * EPS * want.scale[i]! + 1e-30);
}

const TRANSPOSES: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

describe('wasm gemm matches the reference', () => {
  test('all transposes over sizes 1, 3, 17, 65, with offsets, padded strides, alpha and beta', () => {
    let seed = 1;
    const alphas = [1, -0.75, 2.5];
    const betas = [0, 1, 0.3];
    for (const [transA, transB] of TRANSPOSES) {
      for (const m of ODD_SIZES) {
        for (const n of ODD_SIZES) {
          for (const k of ODD_SIZES) {
            seed++;
            checkGemm({ transA, transB, m, n, k, alpha: alphas[seed % 3]!, beta: betas[(seed >> 2) % 3]!, pad: seed % 3, offset: seed % 5 }, seed);
          }
        }
      }
    }
  });

  test('shapes that cross the KC, MC and NC blocks', () => {
    // MC = 128 rows, KC = 256 deep, NC = 2048 columns per block (assembly/gemm.ts).
    checkGemm({ transA: false, transB: false, m: 5, n: 2100, k: 300, alpha: 1, beta: 0.5, pad: 3, offset: 7 }, 11);
    checkGemm({ transA: true, transB: true, m: 3, n: 2055, k: 270, alpha: -1, beta: 0, pad: 1, offset: 2 }, 12);
    checkGemm({ transA: true, transB: false, m: 261, n: 21, k: 513, alpha: 0.5, beta: 1, pad: 0, offset: 0 }, 13);
    checkGemm({ transA: false, transB: true, m: 245, n: 33, k: 600, alpha: 1, beta: 0, pad: 5, offset: 1 }, 14);
  });

  test('arrays from allocate() (no copies) give the same results', () => {
    for (const [transA, transB] of TRANSPOSES) {
      checkGemm({ transA, transB, m: 37, n: 65, k: 29, alpha: 1.5, beta: 0.25, pad: 2, offset: 3 }, 21, true);
      checkGemm({ transA, transB, m: 6, n: 8, k: 1, alpha: 1, beta: 0, pad: 0, offset: 0 }, 22, true);
    }
  });

  test('k = 0 or alpha = 0 only scales C by beta, and beta = 0 clears NaN', () => {
    for (const [k, alpha] of [[0, 1], [5, 0]] as const) {
      for (const beta of [0, 1, -2]) checkGemm({ transA: false, transB: true, m: 3, n: 17, k, alpha, beta, pad: 1, offset: 2 }, 31);
    }
    const c = new Float32Array(4).fill(NaN);
    wasm.gemm(false, false, 2, 2, 1, 0, new Float32Array(2), 0, 1, new Float32Array(2), 0, 2, 0, c, 0, 2);
    assert.deepEqual([...c], [0, 0, 0, 0]);
  });

  test('the recurrent layer shapes: [32 x 256] x [256 x 1024]^T and its backward transposes', () => {
    checkGemm({ transA: false, transB: true, m: 32, n: 1024, k: 256, alpha: 1, beta: 1, pad: 0, offset: 0 }, 41);
    checkGemm({ transA: false, transB: false, m: 32, n: 256, k: 1024, alpha: 1, beta: 0, pad: 0, offset: 0 }, 42);
    checkGemm({ transA: true, transB: false, m: 1024, n: 256, k: 32, alpha: 1, beta: 1, pad: 0, offset: 0 }, 43);
  });
});

describe('wasm gemm for a few rows (the unpacked small-m paths)', () => {
  test('m = 1..9 against the reference, both layouts of B, odd n and k, offsets and strides', () => {
    let seed = 500;
    for (const transB of [true, false]) {
      for (const m of [1, 2, 3, 5, 8, 9]) {
        for (const n of [1, 3, 7, 17, 65]) {
          for (const k of ODD_SIZES) {
            seed++;
            checkGemm({ transA: false, transB, m, n, k, alpha: [1, -0.75, 2.5][seed % 3]!, beta: [0, 1, 0.3][(seed >> 2) % 3]!, pad: seed % 3, offset: seed % 5 }, seed);
          }
        }
      }
    }
  });

  test('generation shapes: [1 x 512] x [2048 x 512]^T, [1 x 65] x [2048 x 65]^T, [2 x 2048] x [2048 x 512]', () => {
    checkGemm({ transA: false, transB: true, m: 1, n: 2048, k: 512, alpha: 1, beta: 1, pad: 0, offset: 0 }, 601);
    checkGemm({ transA: false, transB: true, m: 1, n: 2048, k: 65, alpha: 1, beta: 0, pad: 0, offset: 0 }, 602);
    checkGemm({ transA: false, transB: false, m: 2, n: 512, k: 2048, alpha: 1, beta: 0, pad: 0, offset: 0 }, 603);
    checkGemm({ transA: false, transB: true, m: 7, n: 2049, k: 300, alpha: 0.5, beta: 0.25, pad: 3, offset: 1 }, 604, true);
  });
});

// ---- packed B ----

/** gemmPacked on `kernels` (B packed once, then `uses` products with fresh A and C) against the
 * reference gemm on the unpacked B. */
function checkPacked(kernels: Kernels, t: GemmCase, seed: number, resident: boolean, uses = 2): void {
  const random = rng(seed);
  const [bRows, bCols] = t.transB ? [t.n, t.k] : [t.k, t.n];
  const ldb = bCols + t.pad;
  const b = randomArray(t.offset + bRows * ldb, random);
  const bBuffer = resident ? kernels.allocate(b.length, 'float32') : null;
  bBuffer?.view().set(b);
  const packed = kernels.packB(t.transB, t.k, t.n, bBuffer ? bBuffer.view() : b, t.offset, ldb);
  assert.deepEqual([packed.transB, packed.k, packed.n], [t.transB, t.k, t.n]);
  const label = `gemmPacked ${kernels.name} ${t.transA ? 'T' : 'N'}${t.transB ? 'T' : 'N'} m=${t.m} n=${t.n} k=${t.k} alpha=${t.alpha} beta=${t.beta} pad=${t.pad} offset=${t.offset} resident=${resident}`;
  for (let use = 0; use < uses; use++) {
    const [aRows, aCols] = t.transA ? [t.k, t.m] : [t.m, t.k];
    const lda = aCols + t.pad;
    const ldc = t.n + t.pad;
    const a = randomArray(t.offset + aRows * lda, random);
    const c = randomArray(t.offset + t.m * ldc, random);
    if (t.beta === 0) c.fill(NaN);
    const want = Float32Array.from(c);
    jsKernels.gemm(t.transA, t.transB, t.m, t.n, t.k, t.alpha, a, t.offset, lda, b, t.offset, ldb, t.beta, want, t.offset, ldc);
    const got = Float32Array.from(c);
    kernels.gemmPacked(t.transA, t.m, t.n, t.k, t.alpha, a, t.offset, lda, packed, t.beta, got, t.offset, ldc);
    // Error bound per element, as in checkGemm.
    const bound = (i: number): number => {
      const row = Math.floor((i - t.offset) / ldc), col = (i - t.offset) % ldc;
      if (i < t.offset || col >= t.n) return 0;
      let s = t.beta === 0 ? 0 : Math.abs(t.beta * c[i]!);
      for (let p = 0; p < t.k; p++) {
        const av = t.transA ? a[t.offset + p * lda + row]! : a[t.offset + row * lda + p]!;
        const bv = t.transB ? b[t.offset + col * ldb + p]! : b[t.offset + p * ldb + col]!;
        s += Math.abs(t.alpha * av * bv);
      }
      return 2 * (t.k + 2) * EPS * s + 1e-30;
    };
    expectClose(`${label} use ${use}`, got, want, bound);
  }
  kernels.releasePacked(packed);
  if (bBuffer) kernels.release(bBuffer);
}

describe('packB and gemmPacked match the reference gemm', () => {
  test('wasm: all transposes over sizes 1, 3, 17, 65, with offsets, padded strides, alpha and beta', () => {
    let seed = 700;
    for (const [transA, transB] of TRANSPOSES) {
      for (const m of ODD_SIZES) {
        for (const n of ODD_SIZES) {
          for (const k of ODD_SIZES) {
            seed++;
            const t = { transA, transB, m, n, k, alpha: [1, -0.75, 2.5][seed % 3]!, beta: [0, 1, 0.3][(seed >> 2) % 3]!, pad: seed % 3, offset: seed % 5 };
            checkPacked(wasm, t, seed, seed % 2 === 0);
          }
        }
      }
    }
  });

  test('wasm: shapes that cross the KC and NC blocks, and the recurrent layer shapes', () => {
    checkPacked(wasm, { transA: false, transB: true, m: 5, n: 2100, k: 300, alpha: 1, beta: 0.5, pad: 3, offset: 7 }, 801, true);
    checkPacked(wasm, { transA: true, transB: false, m: 130, n: 2055, k: 513, alpha: -1, beta: 0, pad: 1, offset: 2 }, 802, false, 1);
    checkPacked(wasm, { transA: false, transB: true, m: 32, n: 1024, k: 256, alpha: 1, beta: 1, pad: 0, offset: 0 }, 803, true, 3);
    checkPacked(wasm, { transA: false, transB: false, m: 32, n: 256, k: 1024, alpha: 1, beta: 0, pad: 0, offset: 0 }, 804, true, 3);
  });

  test('wasm gemmPacked gives the bits of wasm gemm beyond the small-m paths', () => {
    const random = rng(811);
    const [m, n, k] = [37, 2061, 270];
    const a = randomArray(m * k, random), b = randomArray(n * k, random);
    const c1 = new Float32Array(m * n), c2 = new Float32Array(m * n);
    wasm.gemm(false, true, m, n, k, 1, a, 0, k, b, 0, k, 0, c1, 0, n);
    const packed = wasm.packB(true, k, n, b, 0, k);
    wasm.gemmPacked(false, m, n, k, 1, a, 0, k, packed, 0, c2, 0, n);
    wasm.releasePacked(packed);
    expectClose('gemmPacked vs gemm', c2, c1, () => 0);
  });

  test('the reference backend (float32 and float64), and float64 through the wasm backend', () => {
    checkPacked(jsKernels, { transA: true, transB: true, m: 17, n: 3, k: 65, alpha: 2.5, beta: 0.3, pad: 1, offset: 2 }, 821, false);
    const a = Float64Array.from({ length: 12 }, (_, i) => i / 3);
    const c1 = new Float64Array(9), c2 = new Float64Array(9);
    const packed = wasm.packB(true, 4, 3, a, 0, 4);
    assert.equal(packed.dtype, 'float64');
    wasm.gemmPacked(false, 3, 3, 4, 1, a, 0, 4, packed, 0, c1, 0, 3);
    jsKernels.gemm(false, true, 3, 3, 4, 1, a, 0, 4, a, 0, 4, 0, c2, 0, 3);
    assert.deepEqual(c1, c2);
  });

  test('packB into a packed matrix no longer in use packs over it (same shape) or ignores it (another shape, released)', () => {
    const random = rng(812);
    const [m, n, k] = [9, 70, 33];
    const a = randomArray(m * k, random), b1 = randomArray(n * k, random), b2 = randomArray(n * k, random);
    const product = (packed: PackedMatrix): Float32Array => {
      const c = new Float32Array(m * n);
      wasm.gemmPacked(false, m, n, k, 1, a, 0, k, packed, 0, c, 0, n);
      return c;
    };
    const fresh = wasm.packB(true, k, n, b2, 0, k);
    const want = product(fresh);
    const old = wasm.packB(true, k, n, b1, 0, k);
    const used = wasm.heap.inUse;
    const over = wasm.packB(true, k, n, b2, 0, k, old);
    assert.equal(over, old, 'the same shape is packed over');
    assert.equal(wasm.heap.inUse, used, 'nothing allocated');
    expectClose('packed over', product(over), want, () => 0);
    const other = wasm.packB(false, k, n, b2, 0, n, old);
    assert.notEqual(other, old, 'another transB gets a matrix of its own');
    wasm.releasePacked(old);
    const afterRelease = wasm.packB(true, k, n, b2, 0, k, old);
    assert.notEqual(afterRelease, old, 'a released matrix is never packed over');
    for (const p of [fresh, other, afterRelease]) wasm.releasePacked(p);
  });

  test('a product whose n or k differ from the packed B is refused', () => {
    for (const kernels of [wasm, jsKernels]) {
      const packed = kernels.packB(false, 3, 4, new Float32Array(12), 0, 4);
      assert.throws(
        () => kernels.gemmPacked(false, 1, 5, 3, 1, new Float32Array(3), 0, 3, packed, 0, new Float32Array(5), 0, 5),
        /packed B is \[k=3, n=4\] but the product asks for \[k=3, n=5\]/,
      );
      kernels.releasePacked(packed);
    }
  });

  test('packing a resident B that makes the memory grow still reads B', () => {
    const plain = loadWasmKernelsSync(false);
    const [k, n] = [64, 40];
    const random = rng(831);
    const b = randomArray(k * n, random);
    const bBuffer = plain.allocate(k * n, 'float32');
    bBuffer.view().set(b);
    // Fill the memory up to its end, so that the packed block must grow it.
    const free = (plain.heap.memory.buffer.byteLength - plain.heap.used) / 4;
    const filler = plain.allocate(Math.max(1, free - 100), 'float32');
    const before = plain.heap.memory.buffer.byteLength;
    const packed = plain.packB(false, k, n, bBuffer.view(), 0, n);
    assert.ok(plain.heap.memory.buffer.byteLength > before, 'packB grew the memory');
    const a = randomArray(3 * k, random);
    const got = new Float32Array(3 * n), want = new Float32Array(3 * n);
    plain.gemmPacked(false, 3, n, k, 1, a, 0, k, packed, 0, got, 0, n);
    jsKernels.gemm(false, false, 3, n, k, 1, a, 0, k, b, 0, n, 0, want, 0, n);
    expectClose('packed after growth', got, want, () => 1e-5);
    plain.releasePacked(packed);
    plain.release(filler);
    plain.release(bBuffer);
  });
});

// ---- elementwise, reductions ----

/** Runs `call` on both backends over copies of `inputs` and compares every array afterwards. */
function compareOn(label: string, inputs: FloatArray[], call: (k: Kernels, arrays: Float32Array[]) => number | void, tol = relative): void {
  const a = inputs.map((x) => Float32Array.from(x));
  const b = inputs.map((x) => Float32Array.from(x));
  const r1 = call(jsKernels, a);
  const r2 = call(wasm, b);
  if (typeof r1 === 'number') {
    assert.ok(Math.abs((r2 as number) - r1) <= 1e-6 * Math.abs(r1), `${label}: returned ${r2 as number}, want ${r1}`);
  }
  a.forEach((want, i) => expectClose(`${label} (array ${i})`, b[i]!, want, tol(want)));
}

describe('wasm elementwise kernels match the reference', () => {
  const random = rng(7);
  test('addRowVector, sumRows, axpy, scale, sumSquares', () => {
    for (const rows of [1, 3, 5]) {
      for (const cols of ODD_SIZES) {
        const off = cols % 3;
        compareOn(`addRowVector ${rows}x${cols}`, [randomArray(off + rows * cols, random), randomArray(off + cols + 2, random)],
          (k, [x, v]) => k.addRowVector(rows, cols, x!, off, v!, 2));
        for (const accumulate of [false, true]) {
          compareOn(`sumRows ${rows}x${cols} accumulate=${accumulate}`, [randomArray(off + rows * cols, random), randomArray(cols + 1, random)],
            (k, [x, out]) => k.sumRows(rows, cols, x!, off, out!, 1, accumulate), (w) => relative(w, 1e-6, 4e-7 * rows));
        }
      }
    }
    for (const n of [...ODD_SIZES, 1000]) {
      compareOn(`axpy ${n}`, [randomArray(n + 1, random), randomArray(n + 2, random)], (k, [x, y]) => k.axpy(n, -0.7, x!, 1, y!, 2));
      compareOn(`scale ${n}`, [randomArray(n + 3, random)], (k, [x]) => k.scale(n, 1.7, x!, 3));
      compareOn(`sumSquares ${n}`, [randomArray(n + 1, random, 10)], (k, [x]) => k.sumSquares(n, x!, 1));
    }
  });

  test('scatterAddRows: the bits of one axpy per row in order, ids repeated or -1, and a clear error for a bad id', () => {
    for (const cols of ODD_SIZES) {
      const rows = 23, dstRows = 5;
      const ids = Int32Array.from({ length: rows }, (_, r) => (r % 6 === 5 ? -1 : (r * 3) % dstRows));
      const src = randomArray(2 + rows * cols, random), dst = randomArray(1 + dstRows * cols, random);
      const byAxpy = Float32Array.from(dst);
      for (let r = 0; r < rows; r++) if (ids[r]! >= 0) wasm.axpy(cols, 1, src, 2 + r * cols, byAxpy, 1 + ids[r]! * cols);
      for (const k of [wasm, jsKernels]) {
        const out = Float32Array.from(dst);
        k.scatterAddRows(rows, cols, ids, src, 2, out, 1, dstRows);
        assert.deepEqual(out, byAxpy, `${k.name} cols=${cols}`);
      }
    }
    for (const k of [wasm, jsKernels]) {
      const dst = new Float32Array(6);
      assert.throws(() => k.scatterAddRows(2, 3, Int32Array.of(0, 2), new Float32Array(6), 0, dst, 0, 2),
        /scatterAddRows: ids\[1\] must be -1 or a row of dst in \[0, 2\), got 2/);
      assert.throws(() => k.scatterAddRows(2, 3, Int32Array.of(-2, 0), new Float32Array(6), 0, dst, 0, 2), /ids\[0\] .* got -2/);
      assert.throws(() => k.scatterAddRows(3, 3, Int32Array.of(0, 1), new Float32Array(9), 0, dst, 0, 2), /ids must have at least 3 entries/);
      assert.deepEqual(dst, new Float32Array(6), `${k.name}: nothing written before the error`);
    }
  });

  test('rnnForward and rnnBackward (tanh, relu, sigmoid), dPre aliasing dh', () => {
    for (const n of ODD_SIZES) {
      for (const act of [0, 1, 4] as const) {
        const pre = randomArray(n + 2, random, 4);
        if (act === 1) pre[2] = NaN; // relu maps NaN to 0 as the reference's `v > 0 ? v : 0` does
        compareOn(`rnnForward n=${n} act=${act}`, [pre], (k, [x]) => k.rnnForward(n, act, x!, 2));
        const h = Float32Array.from(pre.slice(2), (v) => (act === 0 ? Math.tanh(v) : act === 4 ? 1 / (1 + Math.exp(-v)) : Math.max(v, 0)));
        compareOn(`rnnBackward n=${n} act=${act}`, [h, randomArray(n + 1, random), randomArray(n + 3, random)],
          (k, [hh, dh, dPre]) => k.rnnBackward(n, act, hh!, 0, dh!, 1, dPre!, 3));
        compareOn(`rnnBackward in place n=${n} act=${act}`, [h, randomArray(n, random)],
          (k, [hh, dh]) => k.rnnBackward(n, act, hh!, 0, dh!, 0, dh!, 0));
      }
    }
  });

  test('rnnBackward flushes float32 gradients below 1e-30 to 0 on both backends, keeps NaN, infinities and float64', () => {
    // tanh at h = 0 and relu at h = 1 pass dh through unchanged: dPre is dh, flushed or not.
    const dh = Float32Array.of(1e-31, -1e-31, 2e-38, -1e-40, 1e-45, 0, 1.5e-30, -1.5e-30, 1e-20, NaN, Infinity, -Infinity, -0.25);
    const n = dh.length;
    const want = Float32Array.of(0, -0, 0, -0, 0, 0, 1.5e-30, -1.5e-30, 1e-20, NaN, Infinity, -Infinity, -0.25);
    for (const k of [wasm, jsKernels]) {
      const tanh = new Float32Array(n);
      k.rnnBackward(n, 0, new Float32Array(n), 0, dh, 0, tanh, 0);
      const relu = new Float32Array(n);
      k.rnnBackward(n, 1, new Float32Array(n).fill(1), 0, dh, 0, relu, 0);
      for (let i = 0; i < n; i++) {
        assert.ok(Object.is(tanh[i], want[i]) || (want[i] === 0 && tanh[i] === 0), `${k.name} tanh ${dh[i]}: got ${tanh[i]}`);
        assert.ok(Object.is(relu[i], want[i]) || (want[i] === 0 && relu[i] === 0), `${k.name} relu ${dh[i]}: got ${relu[i]}`);
      }
    }
    // float64 has no such slow range near 1e-30 (its subnormals start at 2.2e-308): nothing flushed.
    const dh64 = Float64Array.of(1e-31, 1e-40);
    const out64 = new Float64Array(2);
    jsKernels.rnnBackward(2, 0, new Float64Array(2), 0, dh64, 0, out64, 0);
    assert.deepEqual(out64, dh64);
  });
});

// ---- math accuracy ----

describe('wasm exp, sigmoid and tanh', () => {
  function mapped(op: 0 | 1 | 2, xs: Float32Array): Float32Array {
    const buffer = wasm.allocate(xs.length, 'float32');
    buffer.view().set(xs);
    wasm.exports.mathMap(op, (buffer.view() as Float32Array).byteOffset, xs.length);
    const out = Float32Array.from(buffer.view());
    wasm.release(buffer);
    return out;
  }
  const grid = (lo: number, hi: number, n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
  const tiny = Float32Array.from({ length: 200 }, (_, i) => (i % 2 ? -1 : 1) * 10 ** (-8 + i / 25));

  test('relative error below 4e-7 against float64 Math', () => {
    const cases: [string, 0 | 1 | 2, Float32Array, (x: number) => number][] = [
      ['exp', 0, grid(-87, 0, 20001), Math.exp],
      ['sigmoid', 1, grid(-80, 80, 20001), (x) => 1 / (1 + Math.exp(-x))],
      ['sigmoid near 0', 1, tiny, (x) => 1 / (1 + Math.exp(-x))],
      ['tanh', 2, grid(-12, 12, 20001), Math.tanh],
      ['tanh near 0', 2, tiny, Math.tanh],
    ];
    for (const [name, op, xs, f] of cases) {
      const want = Float64Array.from(xs, f);
      expectClose(name, mapped(op, xs), want, (i) => 4e-7 * Math.abs(want[i]!) + 1e-38);
    }
  });

  test('saturates without overflow or NaN', () => {
    const xs = new Float32Array([-Infinity, -1000, -89, 89, 1000, Infinity]);
    // sigmoid(-89) is 2e-39, below the smallest normal float: flushing it to 0 is within 1e-38.
    assert.deepEqual([...mapped(1, xs)], [0, 0, 0, 1, 1, 1]);
    assert.deepEqual([...mapped(0, new Float32Array([-Infinity, -100, 0]))], [0, 0, 1]);
    assert.deepEqual([...mapped(2, xs)], [-1, -1, -1, 1, 1, 1]);
    assert.ok(Number.isNaN(mapped(2, new Float32Array([NaN]))[0]));
    assert.ok(Object.is(mapped(2, new Float32Array([-0]))[0], -0));
  });
});

// ---- recurrent cells ----

describe('wasm LSTM and GRU steps match the reference', () => {
  const random = rng(99);
  test('lstmForward and lstmBackward, with and without peepholes', () => {
    for (const batch of [1, 3]) {
      for (const hidden of ODD_SIZES) {
        for (const peephole of [false, true]) {
          const s = batch * hidden;
          const label = `lstm batch=${batch} hidden=${hidden} peephole=${peephole}`;
          const gates = randomArray(1 + 4 * s, random, 3);
          const cPrev = randomArray(2 + s, random, 2);
          const peep = randomArray(3 + 3 * hidden, random);
          compareOn(`${label} forward`, [gates, cPrev, randomArray(s, random), randomArray(s + 1, random), peep],
            (k, [g, cp, c, h, p]) => k.lstmForward(batch, hidden, g!, 1, cp!, 2, c!, 0, h!, 1, peephole ? p! : null, 3));
          // The backward runs on a consistent forward state, taken from the reference.
          const g = Float32Array.from(gates);
          const c = new Float32Array(s);
          jsKernels.lstmForward(batch, hidden, g, 1, cPrev, 2, c, 0, new Float32Array(s), 0, peephole ? peep : null, 3);
          compareOn(`${label} backward`,
            [g, cPrev, c, randomArray(s, random), randomArray(s + 2, random), randomArray(1 + 4 * s, random), peep, randomArray(3 * hidden, random)],
            (k, [gg, cp, cc, dh, dc, dG, p, dP]) => k.lstmBackward(batch, hidden, gg!, 1, cp!, 2, cc!, 0, dh!, 0, dc!, 2, dG!, 1,
              peephole ? p! : null, 3, peephole ? dP! : null, 0),
            (w) => relative(w, 4e-6, 4e-7));
        }
      }
    }
  });

  test('stepPrepared (weights grouped once; one-hot inputs as tokens): the bits of the T = 1 calls, every cell', () => {
    // What the layers' T = 1 forward runs (src/nn/recurrent/fused.ts), call by call.
    const unprepared = (
      cell: SequenceKind, batch: number, input: number, hidden: number, x: Float32Array, h: Float32Array, cPrev: Float32Array,
      wIh: Float32Array, wHh: Float32Array, bIh: Float32Array | null, bHh: Float32Array | null, peep: Float32Array | null,
    ): [Float32Array, Float32Array | null] => {
      const s = batch * hidden;
      const G = [1, 1, 4, 3, 1][cell]! * hidden;
      const gates = new Float32Array(batch * G);
      wasm.gemm(false, true, batch, G, input, 1, x, 0, input, wIh, 0, input, 0, gates, 0, G);
      if (bIh) wasm.addRowVector(batch, G, gates, 0, bIh, 0);
      if (cell === 3) {
        const gh = new Float32Array(batch * G), hOut = new Float32Array(s);
        wasm.gemm(false, true, batch, G, hidden, 1, h, 0, hidden, wHh, 0, hidden, 0, gh, 0, G);
        if (bHh) wasm.addRowVector(batch, G, gh, 0, bHh, 0);
        wasm.gruForward(batch, hidden, gates, 0, gh, 0, h, 0, hOut, 0);
        return [hOut, null];
      }
      if (bHh) wasm.addRowVector(batch, G, gates, 0, bHh, 0);
      wasm.gemm(false, true, batch, G, hidden, 1, h, 0, hidden, wHh, 0, hidden, 1, gates, 0, G);
      if (cell === 2) {
        const c = new Float32Array(s), hOut = new Float32Array(s);
        wasm.lstmForward(batch, hidden, gates, 0, cPrev, 0, c, 0, hOut, 0, peep, 0);
        return [hOut, c];
      }
      wasm.rnnForward(s, cell, gates, 0);
      return [gates, null];
    };
    for (const [cell, peepholes] of [[0, false], [1, false], [2, false], [2, true], [3, false], [4, false]] as const) {
      const gateCount = [1, 1, 4, 3, 1][cell]!;
      for (const batch of [1, 3]) {
        for (const input of ODD_SIZES) {
          for (const hidden of [...ODD_SIZES, 8, 24]) {
            for (const bias of [true, false]) {
              const label = `stepPrepared cell=${cell} peepholes=${peepholes} batch=${batch} input=${input} hidden=${hidden} bias=${bias}`;
              const s = batch * hidden, G = gateCount * hidden;
              const x = randomArray(batch * input, random), h = randomArray(s, random), cPrev = randomArray(s, random, 2);
              const wIh = randomArray(G * input, random, 0.5), wHh = randomArray(G * hidden, random, 0.5);
              const bIh = bias ? randomArray(G, random) : null, bHh = bias ? randomArray(G, random) : null;
              const peep = peepholes ? randomArray(3 * hidden, random) : null;
              const tokens = Int32Array.from({ length: batch }, (_, b) => (b * 5 + input - 1) % input);
              const oneHot = new Float32Array(batch * input);
              tokens.forEach((t, b) => (oneHot[b * input + t] = 1));
              for (const [name, dense] of [['dense', x], ['tokens', oneHot]] as const) {
                const [hWant, cWant] = unprepared(cell, batch, input, hidden, dense, h, cPrev, wIh, wHh, bIh, bHh, peep);
                const step = wasm.prepareStep!(cell, input, hidden, wIh, wHh, bIh, bHh, peep, name === 'tokens');
                // Changing the weights afterwards changes nothing: the step holds a copy.
                const wHhAfter = wHh.slice();
                wHh.fill(7);
                const c = cell === 2 ? new Float32Array(s) : null, hOut = new Float32Array(s);
                wasm.stepPrepared!(step, batch, name === 'tokens' ? null : dense, name === 'tokens' ? tokens : null, h, cell === 2 ? cPrev : null, c, hOut);
                wHh.set(wHhAfter);
                expectClose(`${label} ${name} h`, hOut, hWant, () => 0);
                if (c) expectClose(`${label} ${name} c`, c, cWant!, () => 0);
                wasm.releasePrepared!(step);
              }
            }
          }
        }
      }
    }
  });

  test('stepPrepared refuses a token out of range, the wrong input kind, a missing cell state and a released step', () => {
    const step = wasm.prepareStep!(2, 5, 3, new Float32Array(60), new Float32Array(36), null, null, null, true);
    const state = (): Float32Array => new Float32Array(3);
    assert.throws(() => wasm.stepPrepared!(step, 1, null, Int32Array.of(5), state(), state(), state(), state()), /token 0 must be in \[0, 5\), got 5/);
    assert.throws(() => wasm.stepPrepared!(step, 1, new Float32Array(5), null, state(), state(), state(), state()), /prepared for tokens/);
    assert.throws(() => wasm.stepPrepared!(step, 1, null, Int32Array.of(0), state(), null, null, state()), /an LSTM step takes cPrev and c/);
    assert.throws(() => wasm.prepareStep!(2, 5, 3, new Float32Array(59), new Float32Array(36), null, null, null, true), /weights must be \[12, 5\], \[12, 3\]/);
    assert.throws(() => wasm.prepareStep!(3, 5, 3, new Float32Array(45), new Float32Array(27), null, null, new Float32Array(9), true), /peephole weights are an LSTM's \[9\]/);
    wasm.releasePrepared!(step);
    assert.throws(() => wasm.stepPrepared!(step, 1, null, Int32Array.of(0), state(), state(), state(), state()), /released/);
  });

  test('gruForward and gruBackward', () => {
    for (const batch of [1, 3]) {
      for (const hidden of ODD_SIZES) {
        const s = batch * hidden;
        const label = `gru batch=${batch} hidden=${hidden}`;
        const gi = randomArray(2 + 3 * s, random, 3);
        const gh = randomArray(3 * s, random, 3);
        const hPrev = randomArray(s + 1, random);
        compareOn(`${label} forward`, [gi, gh, hPrev, randomArray(s + 3, random)],
          (k, [a, b, hp, h]) => k.gruForward(batch, hidden, a!, 2, b!, 0, hp!, 1, h!, 3));
        const act = Float32Array.from(gi);
        jsKernels.gruForward(batch, hidden, act, 2, gh, 0, hPrev, 1, new Float32Array(s), 0);
        compareOn(`${label} backward`,
          [act, gh, hPrev, randomArray(s, random), randomArray(2 + 3 * s, random), randomArray(3 * s + 1, random), randomArray(s, random)],
          (k, [a, b, hp, dh, dGi, dGh, dhp]) => k.gruBackward(batch, hidden, a!, 2, b!, 0, hp!, 1, dh!, 0, dGi!, 2, dGh!, 1, dhp!, 0),
          (w) => relative(w, 4e-6, 4e-7));
      }
    }
  });

  test('gruResetBeforeGates and gruResetBeforeUpdate (linear_before_reset = 0)', () => {
    for (const batch of [1, 3]) {
      for (const hidden of ODD_SIZES) {
        const s = batch * hidden;
        const label = `gru reset-before batch=${batch} hidden=${hidden}`;
        const gates = randomArray(2 + 3 * s, random, 3);
        const hPrev = randomArray(s + 1, random);
        compareOn(`${label} gates`, [gates, hPrev, randomArray(s + 3, random)],
          (k, [g, hp, rh]) => k.gruResetBeforeGates(batch, hidden, g!, 2, hp!, 1, rh!, 3));
        // The update reads z as the first half left it.
        const half = Float32Array.from(gates);
        jsKernels.gruResetBeforeGates(batch, hidden, half, 2, hPrev, 1, new Float32Array(s), 0);
        compareOn(`${label} update`, [half, hPrev, randomArray(s + 3, random)],
          (k, [g, hp, h]) => k.gruResetBeforeUpdate(batch, hidden, g!, 2, hp!, 1, h!, 3));
      }
    }
  });
});

// Whole-sequence loops (sequenceForward/sequenceBackward): their inputs, and calls that pack W_hh.
type Arrays = Record<string, Float32Array | null>;
const SEQUENCE_KINDS = [
  { kind: 0, name: 'rnn tanh', G: 1 }, { kind: 1, name: 'rnn relu', G: 1 },
  { kind: 2, name: 'lstm', G: 4 }, { kind: 2, name: 'lstm peephole', G: 4 }, { kind: 3, name: 'gru', G: 3 },
  { kind: 4, name: 'rnn sigmoid', G: 1 },
] as const;
const copyAll = (a: Arrays): Arrays => Object.fromEntries(Object.entries(a).map(([key, v]) => [key, v ? Float32Array.from(v) : null]));

/** A forward loop's arrays: projections in gates, h0 (and c0) in the first rows of states (cells). */
function sequenceInputs(kind: number, G: number, peephole: boolean, T: number, B: number, H: number, random: () => number): Arrays {
  const GH = G * H;
  return {
    gates: randomArray(T * B * GH, random, 2),
    gh: kind === 3 ? new Float32Array(T * B * GH) : null,
    states: Float32Array.from({ length: (T + 1) * B * H }, (_, i) => (i < B * H ? 2 * random() - 1 : 0)),
    cells: kind === 2 ? Float32Array.from({ length: (T + 1) * B * H }, (_, i) => (i < B * H ? 2 * random() - 1 : 0)) : null,
    biasHh: kind === 3 ? randomArray(GH, random) : null,
    peep: peephole ? randomArray(3 * H, random) : null,
  };
}

/** A backward loop's arrays, after the forward loop that left `forward`. */
function sequenceGradients(forward: Arrays, kind: number, G: number, peephole: boolean, T: number, B: number, H: number, random: () => number): Arrays {
  const GH = G * H;
  return {
    ...forward,
    dOut: randomArray(T * B * H, random),
    dh: randomArray(B * H, random),
    dc: kind === 2 ? randomArray(B * H, random) : null,
    dGates: new Float32Array(T * B * GH),
    dGh: kind === 3 ? new Float32Array(T * B * GH) : null,
    dhPrev: kind === 3 ? new Float32Array(B * H) : null,
    dPeep: peephole ? new Float32Array(3 * H) : null,
  };
}

/** A packed sequence's step layout (contract.ts, sequenceForward): batch sizes [B, ...] non-increasing,
 * in processing order (reversed for a reverse direction); returns it and the packed rows. */
function packedLayout(batchSizes: number[], reverse: boolean): { layout: Int32Array; rows: number } {
  const T = batchSizes.length;
  const first = batchSizes.map((_, t) => batchSizes.slice(0, t).reduce((a, n) => a + n, 0));
  const layout = new Int32Array(2 * T);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    layout[2 * s] = first[t]!;
    layout[2 * s + 1] = batchSizes[t]!;
  }
  return { layout, rows: batchSizes.reduce((a, n) => a + n, 0) };
}

function sequenceForwardOn(k: Kernels, kind: SequenceKind, T: number, B: number, H: number, wHh: Float32Array, a: Arrays, layout: Int32Array | null = null): boolean {
  const GH = wHh.length / H;
  const packed = k.packB(true, H, GH, wHh, 0, H);
  try {
    return k.sequenceForward!(kind, T, B, H, packed, a.gates!, a.gh ?? null, a.states!, a.cells ?? null, a.biasHh ?? null, a.peep ?? null, layout);
  } finally {
    k.releasePacked(packed);
  }
}

function sequenceBackwardOn(k: Kernels, kind: SequenceKind, T: number, B: number, H: number, wHh: Float32Array, a: Arrays, layout: Int32Array | null = null): boolean {
  const GH = wHh.length / H;
  const packed = k.packB(false, GH, H, wHh, 0, H);
  try {
    return k.sequenceBackward!(
      kind, T, B, H, packed, a.gates!, a.gh ?? null, a.states!, a.cells ?? null, a.dOut!, a.dh!, a.dc ?? null, a.dGates!,
      a.dGh ?? null, a.dhPrev ?? null, a.peep ?? null, a.dPeep ?? null, layout,
    );
  } finally {
    k.releasePacked(packed);
  }
}

describe('wasm whole-sequence loops give the bits of the step-by-step loop', () => {
  const random = rng(7);

  /** The loop src/nn/recurrent/fused.ts runs when a backend has no sequence kernels. */
  /** With a layout, step s runs m = layout[2s + 1] rows from row layout[2s] of the step-major arrays. */
  function stepsForward(k: Kernels, kind: number, T: number, B: number, H: number, wHh: Float32Array, a: Arrays, layout: Int32Array | null = null): void {
    const GH = (kind === 2 ? 4 : kind === 3 ? 3 : 1) * H;
    const packed = k.packB(true, H, GH, wHh, 0, H);
    for (let s = 0; s < T; s++) {
      const m = layout ? layout[2 * s + 1]! : B;
      const gOff = (layout ? layout[2 * s]! : s * B) * GH, hPrev = s * B * H, hNext = (s + 1) * B * H;
      if (kind === 3) {
        k.gemmPacked(false, m, GH, H, 1, a.states!, hPrev, H, packed, 0, a.gh!, gOff, GH);
        k.addRowVector(m, GH, a.gh!, gOff, a.biasHh!, 0);
        k.gruForward(m, H, a.gates!, gOff, a.gh!, gOff, a.states!, hPrev, a.states!, hNext);
        continue;
      }
      k.gemmPacked(false, m, GH, H, 1, a.states!, hPrev, H, packed, 1, a.gates!, gOff, GH);
      if (kind === 2) k.lstmForward(m, H, a.gates!, gOff, a.cells!, s * B * H, a.cells!, (s + 1) * B * H, a.states!, hNext, a.peep ?? null, 0);
      else {
        k.rnnForward(m * H, kind as 0 | 1 | 4, a.gates!, gOff);
        a.states!.set(a.gates!.subarray(gOff, gOff + m * H), hNext);
      }
    }
    k.releasePacked(packed);
  }

  function stepsBackward(k: Kernels, kind: number, T: number, B: number, H: number, wHh: Float32Array, a: Arrays, layout: Int32Array | null = null): void {
    const GH = (kind === 2 ? 4 : kind === 3 ? 3 : 1) * H;
    const packed = k.packB(false, GH, H, wHh, 0, H);
    for (let s = T - 1; s >= 0; s--) {
      const m = layout ? layout[2 * s + 1]! : B, row = layout ? layout[2 * s]! : s * B;
      const gOff = row * GH;
      k.axpy(m * H, 1, a.dOut!, row * H, a.dh!, 0);
      if (kind === 2) {
        k.lstmBackward(m, H, a.gates!, gOff, a.cells!, s * B * H, a.cells!, (s + 1) * B * H, a.dh!, 0, a.dc!, 0, a.dGates!, gOff, a.peep ?? null, 0, a.dPeep ?? null, 0);
        k.gemmPacked(false, m, H, GH, 1, a.dGates!, gOff, GH, packed, 0, a.dh!, 0, H);
      } else if (kind === 3) {
        k.gruBackward(m, H, a.gates!, gOff, a.gh!, gOff, a.states!, s * B * H, a.dh!, 0, a.dGates!, gOff, a.dGh!, gOff, a.dhPrev!, 0);
        a.dh!.set(a.dhPrev!.subarray(0, m * H));
        k.gemmPacked(false, m, H, GH, 1, a.dGh!, gOff, GH, packed, 1, a.dh!, 0, H);
      } else {
        k.rnnBackward(m * H, kind as 0 | 1 | 4, a.states!, (s + 1) * B * H, a.dh!, 0, a.dGates!, gOff);
        k.gemmPacked(false, m, H, GH, 1, a.dGates!, gOff, GH, packed, 0, a.dh!, 0, H);
      }
    }
    k.releasePacked(packed);
  }

  test('RNN (tanh, relu, sigmoid), LSTM (with and without peepholes) and GRU, forward and backward', () => {
    for (const { kind, name, G } of SEQUENCE_KINDS) {
      for (const B of [1, 3]) {
        for (const H of [1, 3, 17]) {
          const T = 5, GH = G * H, label = `${name} B=${B} H=${H}`;
          const wHh = randomArray(GH * H, random);
          const peephole = name === 'lstm peephole';
          const inputs = sequenceInputs(kind, G, peephole, T, B, H, random);
          const stepwise = copyAll(inputs);
          stepsForward(wasm, kind, T, B, H, wHh, stepwise);
          const whole = copyAll(inputs);
          assert.equal(sequenceForwardOn(wasm, kind, T, B, H, wHh, whole), true, `${label}: taken`);
          for (const key of ['gates', 'gh', 'states', 'cells']) assert.deepEqual(whole[key], stepwise[key], `${label} forward: ${key}`);

          const grads = sequenceGradients(stepwise, kind, G, peephole, T, B, H, random);
          const stepBack = copyAll(grads);
          stepsBackward(wasm, kind, T, B, H, wHh, stepBack);
          const wholeBack = copyAll(grads);
          assert.equal(sequenceBackwardOn(wasm, kind, T, B, H, wHh, wholeBack), true);
          for (const key of ['dh', 'dc', 'dGates', 'dGh', 'dPeep']) assert.deepEqual(wholeBack[key], stepBack[key], `${label} backward: ${key}`);
        }
      }
    }
  });

  test('with a packed layout (variable lengths), forward and reverse: the bits of the step loop, rows not running left alone', () => {
    for (const { kind, name, G } of SEQUENCE_KINDS) {
      for (const reverse of [false, true]) {
        const batchSizes = [5, 5, 3, 2, 2, 1];
        const { layout, rows } = packedLayout(batchSizes, reverse);
        const [T, B, H] = [batchSizes.length, batchSizes[0]!, 7];
        const label = `${name}${reverse ? ' reverse' : ''}`;
        const wHh = randomArray(G * H * H, random);
        const peephole = name === 'lstm peephole';
        // Packed step-major arrays hold `rows` rows; the dense helpers make T * B, of which these use the first.
        const inputs = sequenceInputs(kind, G, peephole, T, B, H, random);
        const stepwise = copyAll(inputs);
        stepsForward(wasm, kind, T, B, H, wHh, stepwise, layout);
        const whole = copyAll(inputs);
        assert.equal(sequenceForwardOn(wasm, kind, T, B, H, wHh, whole, layout), true, `${label}: taken`);
        for (const key of ['gates', 'gh', 'states', 'cells']) assert.deepEqual(whole[key], stepwise[key], `${label} forward: ${key}`);
        // The last row of the batch runs `length` steps (the first ones, or the last ones in reverse);
        // the states of the other steps it never writes.
        const lastRow = (B - 1) * H, length = batchSizes.filter((n) => n === B).length;
        for (let s = 1; s <= T; s++) {
          if (reverse ? s > T - length : s <= length) continue;
          assert.deepEqual(whole.states!.subarray(s * B * H + lastRow, (s + 1) * B * H), inputs.states!.subarray(s * B * H + lastRow, (s + 1) * B * H), `${label}: row ${B - 1} at step ${s}`);
        }
        assert.ok(rows < T * B);

        const grads = sequenceGradients(stepwise, kind, G, peephole, T, B, H, random);
        const stepBack = copyAll(grads);
        stepsBackward(wasm, kind, T, B, H, wHh, stepBack, layout);
        const wholeBack = copyAll(grads);
        assert.equal(sequenceBackwardOn(wasm, kind, T, B, H, wHh, wholeBack, layout), true);
        for (const key of ['dh', 'dc', 'dGates', 'dGh', 'dPeep']) assert.deepEqual(wholeBack[key], stepBack[key], `${label} backward: ${key}`);
        // Rows beyond the packed ones were never written.
        assert.ok(wholeBack.dGates!.subarray(rows * G * H).every((v) => v === 0), `${label}: dGates beyond the packed rows`);
      }
    }
  });

  test('the reference backend has no sequence kernels, so layers run their own loop there', () => {
    assert.equal(jsKernels.sequenceForward, undefined);
    assert.equal(jsKernels.sequenceBackward, undefined);
  });
});

// ---- loss and optimizer ----

describe('wasm softmaxCrossEntropy and adamUpdate match the reference', () => {
  const random = rng(5);
  test('softmaxCrossEntropy with ignored rows, with and without dLogits', () => {
    for (const classes of ODD_SIZES) {
      const rows = 6;
      const targets = Int32Array.from({ length: rows }, (_, r) => (r === 2 ? -100 : Math.floor(random() * classes)));
      for (const withGrad of [true, false]) {
        compareOn(`softmaxCrossEntropy classes=${classes} grad=${withGrad}`,
          [randomArray(1 + rows * classes, random, 20), randomArray(rows + 1, random), randomArray(rows * classes, random)],
          (k, [logits, loss, d]) => k.softmaxCrossEntropy(rows, classes, logits!, 1, targets, -100, loss!, 1, withGrad ? d! : null, 0),
          (w) => relative(w, 2e-6, 1e-6));
      }
    }
  });

  test('adamUpdate: Adam with L2, AdamW, steps 1 and 10', () => {
    for (const n of [...ODD_SIZES, 1000]) {
      for (const [decoupled, wd, step] of [[false, 0, 1], [false, 0.01, 10], [true, 0.1, 1], [true, 0.01, 10]] as const) {
        compareOn(`adam n=${n} decoupled=${decoupled} wd=${wd} step=${step}`,
          [randomArray(n, random), randomArray(n, random), randomArray(n, random, 0.1), Float32Array.from(randomArray(n, random, 0.01), Math.abs)],
          (k, [p, g, m, v]) => k.adamUpdate(n, p!, g!, m!, v!, 1e-3, 0.9, 0.999, 1e-8, wd, decoupled, step),
          (w) => relative(w, 2e-6, 1e-7));
      }
    }
  });
});

// ---- staging: resident and plain arrays ----

type Staged = Float32Array | Int32Array;

/** One kernel call over arrays that the test places (in wasm memory or not); `prepare` makes what
 * the call needs beside them (a packed matrix, prepared weights) before any array is placed, from
 * arrays in memory, so that the call's staging allocates its scratch first. */
interface StagingCase {
  kernel: string;
  /** The call's arrays before it (each run works on copies). */
  arrays: Staged[];
  prepare?: (k: WasmKernels) => unknown;
  call: (k: WasmKernels, a: Staged[], prepared: unknown) => unknown;
}

/** A copy of `array` in `k`'s memory (for what a case prepares: no staging scratch before the call). */
const inMemory = (k: WasmKernels, array: Float32Array): Float32Array => residentCopy(k, array).view() as Float32Array;

/** Calls of every staged kernel with offsets, tails past the used span and sizes off the SIMD width. */
function stagingCases(): StagingCase[] {
  const random = rng(2024);
  const f = (n: number, scale = 1): Float32Array => randomArray(n, random, scale);
  const F = (a: Staged): Float32Array => a as Float32Array;
  const I = (a: Staged): Int32Array => a as Int32Array;
  const [M, N, K, B, H, X, T] = [3, 5, 7, 3, 5, 6, 4];
  const OFF = 2;
  const wHhLstm = f(4 * H * H, 0.5), wHhGru = f(3 * H * H, 0.5), bPacked = f(OFF + N * K);
  const weights = { wIh: f(4 * H * X, 0.5), wHh: f(4 * H * H, 0.5), bIh: f(4 * H), bHh: f(4 * H), peep: f(3 * H) };
  const gruWeights = { wIh: f(3 * H * X, 0.5), wHh: f(3 * H * H, 0.5), bIh: f(3 * H), bHh: f(3 * H) };
  const lstmState = [f(B * H), f(B * H, 2), f(B * H), f(B * H)]; // h, cPrev, c, hOut
  const stepInput = f(B * X);
  return [
    { kernel: 'gemm (C read)', arrays: [f(OFF + M * K + 1), f(OFF + N * K), f(OFF + M * (N + 2) + 3)],
      call: (k, [a, b, c]) => k.gemm(false, true, M, N, K, 0.5, F(a!), OFF, K, F(b!), OFF, K, 0.25, F(c!), OFF, N + 2) },
    { kernel: 'gemm (C overwritten)', arrays: [f(K * M), f(K * N), f(OFF + M * N + 1)],
      call: (k, [a, b, c]) => k.gemm(true, false, M, N, K, 1, F(a!), 0, M, F(b!), 0, N, 0, F(c!), OFF, N) },
    { kernel: 'packB', arrays: [f(OFF + N * K + 1)],
      call: (k, [b]) => {
        const packed = k.packB(true, K, N, F(b!), OFF, K);
        const c = new Float32Array(M * N);
        k.gemmPacked(false, M, N, K, 1, bPacked.subarray(0, M * K), 0, K, packed, 0, c, 0, N);
        k.releasePacked(packed);
        return c;
      } },
    { kernel: 'gemmPacked', arrays: [f(OFF + M * K), f(OFF + M * N + 2)],
      prepare: (k) => k.packB(true, K, N, inMemory(k, bPacked), OFF, K),
      call: (k, [a, c], packed) => k.gemmPacked(false, M, N, K, 1, F(a!), OFF, K, packed as PackedMatrix, 1, F(c!), OFF, N) },
    { kernel: 'addRowVector', arrays: [f(OFF + M * N + 1), f(1 + N)], call: (k, [x, v]) => k.addRowVector(M, N, F(x!), OFF, F(v!), 1) },
    { kernel: 'sumRows', arrays: [f(OFF + M * N), f(1 + N)], call: (k, [x, out]) => k.sumRows(M, N, F(x!), OFF, F(out!), 1, false) },
    { kernel: 'sumRows (accumulating)', arrays: [f(M * N), f(N + 1)], call: (k, [x, out]) => k.sumRows(M, N, F(x!), 0, F(out!), 0, true) },
    { kernel: 'scatterAddRows', arrays: [Int32Array.of(2, -1, 0, 2, 1), f(OFF + 5 * N), f(1 + 3 * N + 1)],
      call: (k, [ids, src, dst]) => k.scatterAddRows(5, N, I(ids!), F(src!), OFF, F(dst!), 1, 3) },
    { kernel: 'axpy', arrays: [f(OFF + 17), f(1 + 17 + 1)], call: (k, [x, y]) => k.axpy(17, -0.75, F(x!), OFF, F(y!), 1) },
    { kernel: 'sumSquares', arrays: [f(OFF + 17 + 1)], call: (k, [x]) => k.sumSquares(17, F(x!), OFF) },
    { kernel: 'scale', arrays: [f(OFF + 17 + 1)], call: (k, [x]) => k.scale(17, 1.5, F(x!), OFF) },
    { kernel: 'rnnForward', arrays: [f(OFF + 17 + 1, 3)], call: (k, [pre]) => k.rnnForward(17, 0, F(pre!), OFF) },
    { kernel: 'rnnBackward', arrays: [f(17), f(OFF + 17), f(1 + 17 + 1)],
      call: (k, [h, dh, dPre]) => k.rnnBackward(17, 1, F(h!), 0, F(dh!), OFF, F(dPre!), 1) },
    { kernel: 'lstmForward', arrays: [f(OFF + 4 * B * H, 3), f(1 + B * H, 2), f(B * H + 1), f(OFF + B * H), f(3 * H)],
      call: (k, [g, cPrev, c, hRaw, peep]) => k.lstmForward(B, H, F(g!), OFF, F(cPrev!), 1, F(c!), 0, F(hRaw!), OFF, F(peep!), 0) },
    { kernel: 'lstmBackward',
      arrays: [Float32Array.from(f(OFF + 4 * B * H), Math.abs), f(B * H), f(1 + B * H), f(B * H), f(OFF + B * H), f(4 * B * H + 1), f(3 * H), f(3 * H)],
      call: (k, [g, cPrev, c, dh, dc, dG, peep, dPeep]) =>
        k.lstmBackward(B, H, F(g!), OFF, F(cPrev!), 0, F(c!), 1, F(dh!), 0, F(dc!), OFF, F(dG!), 0, F(peep!), 0, F(dPeep!), 0) },
    { kernel: 'prepareStep', arrays: [weights.wIh, weights.wHh, weights.bIh, weights.bHh, weights.peep],
      call: (k, [wIh, wHh, bIh, bHh, peep]) => {
        // The prepared copy's allocation may grow the memory: the step's own arrays are plain.
        const step = k.prepareStep!(2, X, H, F(wIh!), F(wHh!), F(bIh!), F(bHh!), F(peep!), false);
        const [x, h, cPrev, c, hOut] = [stepInput, ...lstmState].map((a) => F(a).slice());
        k.stepPrepared!(step, B, x!, null, h!, cPrev!, c!, hOut!);
        k.releasePrepared!(step);
        return [c, hOut].map((a) => bits(a!));
      } },
    { kernel: 'stepPrepared (LSTM, peepholes)', arrays: [stepInput, ...lstmState],
      prepare: (k) => k.prepareStep!(2, X, H, ...([weights.wIh, weights.wHh, weights.bIh, weights.bHh, weights.peep].map((w) => inMemory(k, w)) as [
        Float32Array, Float32Array, Float32Array, Float32Array, Float32Array]), false),
      call: (k, [x, h, cPrev, c, hOut], step) => k.stepPrepared!(step as PreparedStep, B, F(x!), null, F(h!), F(cPrev!), F(c!), F(hOut!)) },
    { kernel: 'stepPrepared (GRU, tokens)', arrays: [Int32Array.of(5, 0, 3), f(B * H), f(B * H)],
      prepare: (k) => k.prepareStep!(3, X, H, inMemory(k, gruWeights.wIh), inMemory(k, gruWeights.wHh), inMemory(k, gruWeights.bIh), inMemory(k, gruWeights.bHh), null, true),
      call: (k, [tokens, h, hOut], step) => k.stepPrepared!(step as PreparedStep, B, null, I(tokens!), F(h!), null, null, F(hOut!)) },
    { kernel: 'gruForward', arrays: [f(OFF + 3 * B * H, 3), f(3 * B * H, 3), f(1 + B * H), f(B * H + 2)],
      call: (k, [gi, gh, hPrev, h]) => k.gruForward(B, H, F(gi!), OFF, F(gh!), 0, F(hPrev!), 1, F(h!), 0) },
    { kernel: 'gruResetBeforeGates', arrays: [f(OFF + 3 * B * H, 3), f(1 + B * H), f(B * H + 2)],
      call: (k, [gates, hPrev, rh]) => k.gruResetBeforeGates(B, H, F(gates!), OFF, F(hPrev!), 1, F(rh!), 2) },
    { kernel: 'gruResetBeforeUpdate', arrays: [f(OFF + 3 * B * H, 3), f(1 + B * H), f(B * H + 2)],
      call: (k, [gates, hPrev, h]) => k.gruResetBeforeUpdate(B, H, F(gates!), OFF, F(hPrev!), 1, F(h!), 0) },
    { kernel: 'gruBackward', arrays: [Float32Array.from(f(3 * B * H), Math.abs), f(3 * B * H), f(B * H), f(OFF + B * H), f(3 * B * H), f(1 + 3 * B * H), f(B * H)],
      call: (k, [gi, gh, hPrev, dh, dGi, dGh, dhPrev]) =>
        k.gruBackward(B, H, F(gi!), 0, F(gh!), 0, F(hPrev!), 0, F(dh!), OFF, F(dGi!), 0, F(dGh!), 1, F(dhPrev!), 0) },
    { kernel: 'sequenceForward (LSTM, peepholes)', arrays: [f(T * B * 4 * H + 1, 2), f((T + 1) * B * H), f((T + 1) * B * H + 1), f(3 * H)],
      prepare: (k) => k.packB(true, H, 4 * H, inMemory(k, wHhLstm), 0, H),
      call: (k, [gates, states, cells, peep], packed) =>
        k.sequenceForward!(2, T, B, H, packed as PackedMatrix, F(gates!), null, F(states!), F(cells!), null, F(peep!)) },
    { kernel: 'sequenceBackward (GRU)',
      arrays: [Float32Array.from(f(T * B * 3 * H), Math.abs), f(T * B * 3 * H), f((T + 1) * B * H), f(T * B * H), f(B * H), f(T * B * 3 * H), f(T * B * 3 * H + 1), f(B * H)],
      prepare: (k) => k.packB(false, 3 * H, H, inMemory(k, wHhGru), 0, H),
      call: (k, [gates, gh, states, dOut, dh, dGates, dGh, dhPrev], packed) =>
        k.sequenceBackward!(3, T, B, H, packed as PackedMatrix, F(gates!), F(gh!), F(states!), null, F(dOut!), F(dh!), null,
          F(dGates!), F(dGh!), F(dhPrev!), null, null) },
    { kernel: 'softmaxCrossEntropy', arrays: [f(OFF + M * N, 5), Int32Array.of(1, -100, 4), f(1 + M), f(M * N + 1)],
      call: (k, [logits, targets, loss, d]) => k.softmaxCrossEntropy(M, N, F(logits!), OFF, I(targets!), -100, F(loss!), 1, F(d!), 0) },
    { kernel: 'adamUpdate', arrays: [f(17), f(17), f(17, 0.1), Float32Array.from(f(17, 0.01), Math.abs)],
      call: (k, [p, g, m, v]) => k.adamUpdate(17, F(p!), F(g!), F(m!), F(v!), 1e-3, 0.9, 0.999, 1e-8, 0.01, true, 3) },
  ];
}

/** `array`'s contents in a block of `k`'s memory; `view()` follows the memory across growth. */
function residentCopy(k: WasmKernels, array: Staged): { view: () => Staged } {
  const buffer = k.allocate(array.length, 'float32');
  const floats = (): Float32Array => buffer.view() as Float32Array;
  const view = array instanceof Int32Array ? (): Staged => new Int32Array(floats().buffer, floats().byteOffset, array.length) : floats;
  (view() as Float32Array | Int32Array).set(array as never);
  return { view };
}

/** Runs a case with its arrays resident where `resident(i)` says, else plain; returns every array
 * after the call (read back from memory for resident ones), the call's result and whether the memory
 * grew during the call. `full` fills the memory first, so that the call's first allocation grows it. */
function runStaged(k: WasmKernels, c: StagingCase, resident: (i: number) => boolean, full = false): { arrays: Staged[]; result: unknown; grew: boolean } {
  const prepared = c.prepare?.(k);
  const placed = c.arrays.map((a, i) => (resident(i) ? residentCopy(k, a) : { view: ((copy: Staged) => () => copy)(a.slice()) }));
  if (full) {
    const slack = k.heap.buffer.byteLength - k.heap.used;
    if (slack > 0) k.heap.alloc(slack);
  }
  const before = k.heap.buffer.byteLength;
  const result = c.call(k, placed.map((p) => p.view()), prepared);
  return { arrays: placed.map((p) => p.view().slice()), result: result instanceof Float32Array ? bits(result) : result, grew: k.heap.buffer.byteLength > before };
}

const bits = (a: Staged): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length).slice();

function assertSameBits(label: string, got: ReturnType<typeof runStaged>, want: ReturnType<typeof runStaged>): void {
  assert.equal(got.arrays.length, want.arrays.length);
  got.arrays.forEach((a, i) => assert.deepEqual(bits(a), bits(want.arrays[i]!), `${label}: array ${i}`));
  assert.deepEqual(got.result, want.result, `${label}: result`);
}

describe('wasm staging', () => {
  const cases = stagingCases();

  test('plain typed arrays, read and written, give the bits of arrays in wasm memory (every kernel)', () => {
    for (const c of cases) {
      const resident = runStaged(wasm, c, () => true);
      const plain = runStaged(wasm, c, () => false);
      assertSameBits(`${c.kernel}, plain`, plain, resident);
    }
  });

  test('a plain memory that grows between binding and the scratch allocation gives the same bits', () => {
    // Fresh plain-memory kernels per call: a full memory and no scratch yet, so that the call's copies
    // (or its gates scratch) must grow the memory, which detaches the views of its resident arrays.
    const want = new Map(cases.map((c) => [c, runStaged(wasm, c, () => true)]));
    for (const c of cases) {
      for (const [pattern, resident] of [['even resident', (i: number) => i % 2 === 0], ['odd resident', (i: number) => i % 2 === 1]] as const) {
        const label = `${c.kernel}, ${pattern}`;
        const got = runStaged(loadWasmKernelsSync(false), c, resident, true);
        assertSameBits(label, got, want.get(c)!);
        const copies = c.arrays.some((_, i) => !resident(i));
        if (copies || c.kernel.startsWith('stepPrepared')) assert.ok(got.grew, `${label}: the memory grew`);
      }
    }
  });

  test('an array too short for the call is named in the error, with its kernel', () => {
    const a = (n: number): Float32Array => new Float32Array(n);
    assert.throws(() => wasm.lstmForward(2, 4, a(32), 0, a(7), 0, a(8), 0, a(8), 0, null, 0),
      /^RangeError: lstmForward: cPrev needs elements \[0, 8\) but its array has length 7$/);
    assert.throws(() => wasm.gemm(false, false, 2, 3, 4, 1, a(8), 0, 4, a(12), 0, 3, 0, a(10), 5, 3),
      /^RangeError: gemm: c needs elements \[5, 11\) but its array has length 10$/);
    assert.throws(() => wasm.adamUpdate(5, a(5), a(5), a(4), a(5), 1e-3, 0.9, 0.999, 1e-8, 0, false, 1), /adamUpdate: m needs elements \[0, 5\)/);
    assert.throws(() => wasm.softmaxCrossEntropy(3, 2, a(6), 0, new Int32Array(2), -1, a(3), 0, null, 0), /softmaxCrossEntropy: targets needs elements \[0, 3\)/);
    assert.throws(() => wasm.scale(4, 2, a(3), 1), /scale: x needs elements \[1, 5\)/);
  });
});

// ---- memory ----

describe('wasm memory', () => {
  // Fresh instances, so their memory starts small and growth is cheap to provoke.
  const wasm = loadWasmKernelsSync();
  const plain = loadWasmKernelsSync(false);

  test('allocate() is zeroed and view() follows growth, for plain and shared memory', () => {
    for (const kernels of [plain, wasm]) {
      const kept = kernels.allocate(1000, 'float32');
      assert.ok(kept.view().every((v) => v === 0));
      kept.view().set(Float32Array.from({ length: 1000 }, (_, i) => i));
      const stale = kept.view();
      const before = kernels.heap.memory.buffer.byteLength;
      const big = kernels.allocate((before / 4) * 2, 'float32'); // forces the memory to grow
      assert.ok(kernels.heap.memory.buffer.byteLength > before);
      assert.equal(kept.view()[999], 999, 'view() re-derives the array over the grown memory');
      assert.equal(big.view().length, (before / 4) * 2);
      if (kernels.shared) {
        // A view over the old shared buffer still addresses the memory: kernels use it in place.
        assert.equal(stale.length, 1000);
        kernels.scale(10, 2, stale, 0);
        assert.equal(kept.view()[9], 18);
      } else {
        assert.equal(stale.length, 0, 'growth detaches old views of a plain memory');
        assert.throws(() => kernels.scale(10, 2, stale, 0), /call buffer\.view\(\) again/);
      }
      kernels.release(big);
      kernels.release(kept);
    }
  });

  test('released blocks are reused and come back zeroed', () => {
    const a = wasm.allocate(333, 'float32');
    a.view().fill(5);
    wasm.release(a);
    const b = wasm.allocate(333, 'float32');
    assert.ok(b.view().every((v) => v === 0));
    wasm.release(b);
  });

  test('a call that grows memory to stage its copies still finds its resident arrays', () => {
    // x lives in wasm memory; y is a plain array big enough that staging it must grow the memory.
    const n = wasm.heap.memory.buffer.byteLength / 4 + 1000;
    const x = wasm.allocate(n, 'float32');
    x.view().fill(2);
    const y = new Float32Array(n).fill(1);
    const before = wasm.heap.memory.buffer.byteLength;
    wasm.axpy(n, 3, x.view(), 0, y, 0);
    assert.ok(wasm.heap.memory.buffer.byteLength > before, 'staging grew the memory');
    assert.equal(y[0], 7);
    assert.equal(y[n - 1], 7);
    wasm.release(x);
  });

  test('prepareStep and stepPrepared take views of a plain memory that their own allocations grow', () => {
    // A plain (not shared) memory detaches its views when it grows: what a browser page without
    // cross-origin isolation has. Weights and state live in the memory, which is full, so the
    // prepared copy and the gates scratch must grow it.
    const k = loadWasmKernelsSync(false);
    const random = rng(77);
    const [input, hidden] = [33, 40];
    const G = 4 * hidden;
    const resident = (n: number, scale = 0.5): KernelBuffer => {
      const b = k.allocate(n, 'float32');
      b.view().set(randomArray(n, random, scale));
      return b;
    };
    const wIh = resident(G * input), wHh = resident(G * hidden), bIh = resident(G), bHh = resident(G), peep = resident(3 * hidden);
    const x = resident(input), h = resident(hidden), cPrev = resident(hidden), c = k.allocate(hidden, 'float32'), hOut = k.allocate(hidden, 'float32');
    const fill = (): void => {
      const slack = k.heap.buffer.byteLength - k.heap.used;
      if (slack > 0) k.heap.alloc(slack);
    };
    fill();
    const before = k.heap.buffer.byteLength;
    const step = k.prepareStep!(2, input, hidden, wIh.view(), wHh.view(), bIh.view(), bHh.view(), peep.view(), false);
    assert.ok(k.heap.buffer.byteLength > before, 'the preparation grew the memory');
    fill();
    k.stepPrepared!(step, 1, x.view(), null, h.view(), cPrev.view(), c.view(), hOut.view());
    const want = [new Float32Array(hidden), new Float32Array(hidden)] as const;
    const gates = new Float32Array(G);
    k.gemm(false, true, 1, G, input, 1, x.view(), 0, input, wIh.view(), 0, input, 0, gates, 0, G);
    k.addRowVector(1, G, gates, 0, bIh.view(), 0);
    k.addRowVector(1, G, gates, 0, bHh.view(), 0);
    k.gemm(false, true, 1, G, hidden, 1, h.view(), 0, hidden, wHh.view(), 0, hidden, 1, gates, 0, G);
    k.lstmForward(1, hidden, gates, 0, cPrev.view(), 0, want[0], 0, want[1], 0, peep.view(), 0);
    expectClose('stepPrepared on a grown plain memory: c', c.view(), want[0], () => 0);
    expectClose('stepPrepared on a grown plain memory: h', hOut.view(), want[1], () => 0);
    // stepPrepared's gates scratch, grown for a larger batch, after its arguments were bound.
    fill();
    const batch = 9, xs = resident(batch * input), hs = resident(batch * hidden), cs = resident(batch * hidden);
    fill();
    const before9 = k.heap.buffer.byteLength;
    const cOut = new Float32Array(batch * hidden), hNew = new Float32Array(batch * hidden);
    k.stepPrepared!(step, batch, xs.view(), null, hs.view(), cs.view(), cOut, hNew);
    assert.ok(k.heap.buffer.byteLength > before9, 'the gates scratch grew the memory');
    assert.ok(hNew.every(Number.isFinite) && hNew.some((v) => v !== 0), 'stepPrepared wrote finite states');
  });

  test('float64 arrays go to the reference kernels', () => {
    const a = Float64Array.from({ length: 12 }, (_, i) => i / 3);
    const c1 = new Float64Array(9);
    const c2 = new Float64Array(9);
    wasm.gemm(false, true, 3, 3, 4, 1, a, 0, 4, a, 0, 4, 0, c1, 0, 3);
    jsKernels.gemm(false, true, 3, 3, 4, 1, a, 0, 4, a, 0, 4, 0, c2, 0, 3);
    assert.deepEqual(c1, c2);
    assert.ok(wasm.allocate(3, 'float64').view() instanceof Float64Array);
  });

  test('wasm is the float32 default where SIMD validates (unless RECURRENT_BACKEND=js)', async () => {
    const want = wasmSimdSupported() && process.env['RECURRENT_BACKEND'] !== 'js' ? 'wasm' : 'js';
    assert.equal(getBackend(), want);
    assert.equal(kernelsFor('float32').name, want);
    assert.equal(kernelsFor('float64').name, 'js');
    assert.equal(await initWasm(), want);
    assert.equal(await setThreads(1), 1);
  });

  test('the asynchronous load (the browser path) gives working kernels', async () => {
    const kernels = await loadWasmKernels();
    const c = new Float32Array(4);
    kernels.gemm(false, false, 2, 2, 2, 1, new Float32Array([1, 2, 3, 4]), 0, 2, new Float32Array([5, 6, 7, 8]), 0, 2, 0, c, 0, 2);
    assert.deepEqual([...c], [19, 22, 43, 50]);
  });
});

// ---- threads ----

/** Runs `body` with kernels on two threads that share every shareable call however busy the machine
 * (adaptive sharing off), and kernels on one; returns the threaded kernels, back on one thread. */
async function onOneAndTwoThreads(body: (threaded: WasmKernels, single: WasmKernels) => void): Promise<WasmKernels> {
  const threaded = loadWasmKernelsSync(true);
  const single = loadWasmKernelsSync(false);
  await threaded.setThreads(2);
  threaded.adaptiveThreads = false;
  try {
    body(threaded, single);
  } finally {
    await threaded.setThreads(1);
  }
  return threaded;
}

/** Repeats `call` until the helper thread computes a chunk of it, for up to 10 s: a helper claims
 * chunks once the system runs it, and one that sleeps may wake after the caller took every chunk. */
function helperTakesPart(threaded: WasmKernels, what: string, call: () => unknown): void {
  const before = threaded.helperChunks;
  const deadline = performance.now() + 10_000;
  while (threaded.helperChunks === before && performance.now() < deadline) call();
  assert.ok(threaded.helperChunks > before, `the helper thread computed no chunk of ${what}`);
}

describe('wasm kernels on helper threads', () => {
  test('gives bit-identical results for 1 and 2 threads, split by rows or by columns', async () => {
    const kernels = await onOneAndTwoThreads((threaded, single) => {
      assert.equal(threaded.threads, 2);
      const cases: GemmCase[] = [
        { transA: false, transB: true, m: 37, n: 1029, k: 65, alpha: 1, beta: 0, pad: 1, offset: 3 }, // columns
        { transA: true, transB: false, m: 1029, n: 40, k: 70, alpha: -0.5, beta: 1, pad: 2, offset: 1 }, // rows
        { transA: true, transB: true, m: 300, n: 301, k: 33, alpha: 2, beta: 0.5, pad: 0, offset: 0 },
        { transA: false, transB: false, m: 32, n: 1024, k: 256, alpha: 1, beta: 1, pad: 0, offset: 0 },
      ];
      cases.push(
        { transA: false, transB: true, m: 5, n: 4100, k: 301, alpha: 1, beta: 0.5, pad: 2, offset: 1 }, // small-m path, columns
        { transA: false, transB: false, m: 3, n: 2050, k: 1030, alpha: -1, beta: 0, pad: 0, offset: 3 }, // small-m path, columns
        { transA: false, transB: false, m: 1030, n: 70, k: 129, alpha: 1, beta: 0.5, pad: 1, offset: 2 }, // rows, B packed once
        { transA: true, transB: true, m: 517, n: 33, k: 300, alpha: 1, beta: 0, pad: 0, offset: 0 }, // rows, B packed once
      );
      for (const [i, t] of cases.entries()) {
        for (const resident of [false, true]) {
          const one = runGemm(single, t, 50 + i, resident).c;
          const two = runGemm(threaded, t, 50 + i, resident).c;
          expectClose(`threaded gemm case ${i} resident=${resident}`, two, one, () => 0);
        }
      }
      // Packed products, cut by columns (few rows) and by rows (many).
      const packedCases: [number, number, number, boolean, boolean][] = [
        [32, 1024, 256, false, true], [64, 517, 2048, false, false], [300, 1029, 70, true, true], [1029, 40, 300, false, false],
      ];
      for (const [i, [m, n, k, transA, transB]] of packedCases.entries()) {
        const random = rng(90 + i);
        const a = randomArray(m * k, random), b = randomArray(n * k, random), c = randomArray(m * n, random);
        const results = [single, threaded].map((kernels) => {
          const out = Float32Array.from(c);
          const packed = kernels.packB(transB, k, n, b, 0, transB ? k : n);
          kernels.gemmPacked(transA, m, n, k, 0.5, a, 0, transA ? m : k, packed, 0.25, out, 0, n);
          kernels.releasePacked(packed);
          return out;
        });
        expectClose(`threaded gemmPacked case ${i}`, results[1]!, results[0]!, () => 0);
      }
      helperTakesPart(threaded, 'a GEMM', () => runGemm(threaded, cases[0]!, 1, true));
    });
    assert.equal(kernels.threads, 1);
  });

  test('the prepared step cut into hidden units gives bit-identical results for 1 and 2 threads, every cell', async () => {
    await onOneAndTwoThreads((threaded, single) => {
      const random = rng(654);
      const shapes = [[1, 65, 200, true], [3, 300, 131, false], [1, 512, 512, false], [2, 65, 512, true]] as const;
      for (const cell of [0, 1, 2, 3] as const) {
        for (const [batch, input, hidden, tokens] of shapes) {
          const s = batch * hidden, G = [1, 1, 4, 3][cell]! * hidden;
          const x = randomArray(batch * input, random), h = randomArray(s, random), cPrev = randomArray(s, random, 2);
          const wIh = randomArray(G * input, random, 0.2), wHh = randomArray(G * hidden, random, 0.2);
          const bIh = randomArray(G, random), bHh = randomArray(G, random);
          const ids = Int32Array.from({ length: batch }, (_, b) => (7 * b + 3) % input);
          const [one, two] = [single, threaded].map((k) => {
            const step = k.prepareStep!(cell, input, hidden, wIh, wHh, bIh, bHh, cell === 2 ? randomArray(3 * hidden, rng(hidden)) : null, tokens);
            const c = cell === 2 ? new Float32Array(s) : null, hOut = new Float32Array(s);
            for (let r = 0; r < 3; r++) k.stepPrepared!(step, batch, tokens ? null : x, tokens ? ids : null, h, c ? cPrev : null, c, hOut);
            return [c ?? new Float32Array(0), hOut];
          });
          expectClose(`prepared step cell ${cell} ${batch}x${input}x${hidden} c`, two![0]!, one![0]!, () => 0);
          expectClose(`prepared step cell ${cell} ${batch}x${input}x${hidden} h`, two![1]!, one![1]!, () => 0);
        }
      }
      const step = threaded.prepareStep!(2, 512, 512, new Float32Array(2048 * 512), new Float32Array(2048 * 512), null, null, null, false);
      const [x, out] = [new Float32Array(512), new Float32Array(512)];
      helperTakesPart(threaded, 'the prepared step', () => threaded.stepPrepared!(step, 1, x, null, x, x, out, out));
    });
  });

  test('LSTM and GRU steps cut into batch rows give bit-identical results for 1 and 2 threads', async () => {
    await onOneAndTwoThreads((threaded, single) => {
      const random = rng(123);
      const [batch, hidden] = [37, 129]; // 4773 units: shared; 37 rows in uneven chunks
      const s = batch * hidden;
      const same = (label: string, inputs: Float32Array[], call: (k: Kernels, arrays: Float32Array[]) => void): void => {
        const one = inputs.map((x) => Float32Array.from(x));
        const two = inputs.map((x) => Float32Array.from(x));
        call(single, one);
        call(threaded, two);
        one.forEach((want, i) => expectClose(`${label} (array ${i})`, two[i]!, want, () => 0));
      };
      const before = threaded.helperChunks;
      for (const peephole of [false, true]) {
        const gates = randomArray(1 + 4 * s, random, 3), cPrev = randomArray(2 + s, random, 2), peep = randomArray(3 + 3 * hidden, random);
        same(`lstmForward peephole=${peephole}`, [gates, cPrev, new Float32Array(s), new Float32Array(s + 1), peep],
          (k, [g, cp, c, h, p]) => k.lstmForward(batch, hidden, g!, 1, cp!, 2, c!, 0, h!, 1, peephole ? p! : null, 3));
        const g = Float32Array.from(gates), c = new Float32Array(s);
        jsKernels.lstmForward(batch, hidden, g, 1, cPrev, 2, c, 0, new Float32Array(s), 0, peephole ? peep : null, 3);
        same(`lstmBackward peephole=${peephole}`,
          [g, cPrev, c, randomArray(s, random), randomArray(s + 2, random), new Float32Array(1 + 4 * s), peep, randomArray(3 * hidden, random)],
          (k, [gg, cp, cc, dh, dc, dG, p, dP]) => k.lstmBackward(batch, hidden, gg!, 1, cp!, 2, cc!, 0, dh!, 0, dc!, 2, dG!, 1,
            peephole ? p! : null, 3, peephole ? dP! : null, 0));
      }
      const gi = randomArray(2 + 3 * s, random, 3), gh = randomArray(3 * s, random, 3), hPrev = randomArray(s + 1, random);
      same('gruForward', [gi, gh, hPrev, new Float32Array(s + 3)], (k, [a, b, hp, h]) => k.gruForward(batch, hidden, a!, 2, b!, 0, hp!, 1, h!, 3));
      const act = Float32Array.from(gi);
      jsKernels.gruForward(batch, hidden, act, 2, gh, 0, hPrev, 1, new Float32Array(s), 0);
      same('gruBackward', [act, gh, hPrev, randomArray(s, random), new Float32Array(2 + 3 * s), new Float32Array(3 * s + 1), new Float32Array(s)],
        (k, [a, b, hp, dh, dGi, dGh, dhp]) => k.gruBackward(batch, hidden, a!, 2, b!, 0, hp!, 1, dh!, 0, dGi!, 2, dGh!, 1, dhp!, 0));
      assert.ok(threaded.helperChunks >= before, 'helper chunk count only grows');
    });
  });

  test('whole time loops cut into batch rows give bit-identical results for 1 and 2 threads, every cell', async () => {
    await onOneAndTwoThreads((threaded, single) => {
      const random = rng(321);
      // 37 rows: chunks of 8, 8, 8, 8 and 5 (a 4-row tile and a row left over); 37 x 129 units are enough to
      // share a step, so the loop is shared too.
      const [T, B, H] = [4, 37, 129];
      for (const { kind, name, G } of SEQUENCE_KINDS) {
        const peephole = name === 'lstm peephole';
        const wHh = randomArray(G * H * H, random, 0.2);
        const inputs = sequenceInputs(kind, G, peephole, T, B, H, random);
        const [one, two] = [copyAll(inputs), copyAll(inputs)];
        assert.equal(sequenceForwardOn(single, kind, T, B, H, wHh, one), true);
        assert.equal(sequenceForwardOn(threaded, kind, T, B, H, wHh, two), true, `${name}: a shareable forward loop runs whole`);
        for (const key of ['gates', 'gh', 'states', 'cells']) expectClose(`${name} forward: ${key}`, two[key] ?? [], one[key] ?? [], () => 0);

        const grads = sequenceGradients(one, kind, G, peephole, T, B, H, random);
        const [backOne, backTwo] = [copyAll(grads), copyAll(grads)];
        assert.equal(sequenceBackwardOn(single, kind, T, B, H, wHh, backOne), true);
        // The peephole gradient sums over rows: that backward loop goes step by step instead.
        assert.equal(sequenceBackwardOn(threaded, kind, T, B, H, wHh, backTwo), !peephole, `${name}: backward loop taken`);
        if (peephole) continue;
        for (const key of ['dh', 'dc', 'dGates', 'dGh', 'dhPrev']) expectClose(`${name} backward: ${key}`, backTwo[key] ?? [], backOne[key] ?? [], () => 0);
      }
      // Packed (variable lengths): chunks of rows run only their rows still active at each step.
      for (const reverse of [false, true]) {
        const { layout } = packedLayout([37, 33, 20, 5], reverse);
        for (const { kind, name, G } of SEQUENCE_KINDS.filter((c) => c.name !== 'lstm peephole')) {
          const wHh = randomArray(G * H * H, random, 0.2);
          const inputs = sequenceInputs(kind, G, false, T, B, H, random);
          const [one, two] = [copyAll(inputs), copyAll(inputs)];
          assert.equal(sequenceForwardOn(single, kind, T, B, H, wHh, one, layout), true);
          assert.equal(sequenceForwardOn(threaded, kind, T, B, H, wHh, two, layout), true);
          for (const key of ['gates', 'gh', 'states', 'cells']) expectClose(`packed ${name} forward: ${key}`, two[key] ?? [], one[key] ?? [], () => 0);
          const grads = sequenceGradients(one, kind, G, false, T, B, H, random);
          const [backOne, backTwo] = [copyAll(grads), copyAll(grads)];
          assert.equal(sequenceBackwardOn(single, kind, T, B, H, wHh, backOne, layout), true);
          assert.equal(sequenceBackwardOn(threaded, kind, T, B, H, wHh, backTwo, layout), true);
          for (const key of ['dh', 'dc', 'dGates', 'dGh']) expectClose(`packed ${name} backward: ${key}`, backTwo[key] ?? [], backOne[key] ?? [], () => 0);
        }
      }
      const wHh = randomArray(4 * H * H, random, 0.2);
      helperTakesPart(threaded, 'a time loop', () => sequenceForwardOn(threaded, 2, T, B, H, wHh, sequenceInputs(2, 4, false, T, B, H, random)));
      // A batch too small to give each thread 8 rows is left to the step-by-step loop.
      const small = sequenceInputs(2, 4, false, 2, 14, 512, random);
      assert.equal(sequenceForwardOn(threaded, 2, 2, 14, 512, randomArray(4 * 512 * 512, random, 0.05), small), false);
    });
  });

  test('shareable work is shared only while measured faster, and the choice follows a change of load', () => {
    let clock = 0;
    const chooser = new Chooser(() => clock);
    // `calls` calls (1 ms apart) alternating two shapes that take `sharedMs` shared, `aloneMs` alone;
    // returns how many were shared.
    const run = (calls: number, sharedMs: number, aloneMs: number): number => {
      let shared = 0;
      for (let i = 0; i < calls; i++) {
        const share = chooser.share();
        if (share) shared++;
        const scale = i % 2 === 0 ? 1 : 3;
        chooser.record(i % 2 === 0 ? 'small' : 'large', share, scale * (share ? sharedMs : aloneMs));
        clock += 1;
      }
      return shared;
    };
    // A free core: sharing halves the time; after the first probe, phases of sharing grow longer.
    const quiet = run(20_000, 1, 2);
    assert.ok(quiet > 18_000, `quiet machine: ${quiet} of 20000 shared`);
    // The machine gets busy: shared calls take longer than alone; the next probe switches.
    const busy = run(60_000, 3, 2);
    assert.ok(busy < 40_000, `busy machine: ${busy} of 60000 shared`);
    const settled = run(20_000, 3, 2);
    assert.ok(settled < 2_000, `busy machine, settled: ${settled} of 20000 shared`);
    // Not clearly faster (within 10%): the current way stays.
    assert.ok(run(20_000, 1.95, 2) < 2_000);
    // Off: always shared.
    chooser.enabled = false;
    assert.equal(run(100, 5, 1), 100);
  });

  test('probing costs little when each step is long (W5: a few large calls per step)', () => {
    // One training step, step by step (an input projection, 100 recurrent products, a weight
    // gradient) or with whole time loops (five calls); sharing halves each call. Time that ran alone,
    // the slow way, is what probing cost: over two minutes, and over the first 15 s (a benchmark's
    // warm-up and timed rounds).
    const schedules: Record<string, [string, number][]> = {
      'step by step': [['projection', 20], ...Array.from({ length: 100 }, (): [string, number] => ['step', 2.5]), ['gradient', 40]],
      'whole loops': [['projection', 45], ['forward loop', 80], ['backward loop', 80], ['input gradient', 45], ['hidden gradient', 90]],
    };
    for (const [name, calls] of Object.entries(schedules)) {
      for (const [horizon, most] of [[15_000, 0.1], [120_000, 0.05]] as const) {
        let clock = 0;
        const chooser = new Chooser(() => clock);
        let alone = 0;
        while (clock < horizon) {
          for (const [key, sharedMs] of calls) {
            const share = chooser.share();
            const ms = share ? sharedMs : 2 * sharedMs;
            if (!share) alone += ms;
            chooser.record(key, share, ms);
            clock += ms;
          }
        }
        assert.ok(alone < most * clock, `${name}, ${horizon / 1000} s: ${((100 * alone) / clock).toFixed(1)}% of the time ran alone while probing`);
      }
    }
  });

  test('plain memory refuses helper threads with a hint', async () => {
    await assert.rejects(loadWasmKernelsSync(false).setThreads(2), /cross-origin isolated/);
  });
});
