/**
 * The contract between the tensor library and the hardware: every backend (the TypeScript reference in
 * `js/`, the WebAssembly SIMD one in `wasm/`) implements exactly this interface. Kernels see flat
 * row-major float arrays plus element offsets and row strides (BLAS style) and know nothing of tensors
 * or autograd.
 *
 * Conventions
 * - Every array argument is followed by its element offset (`xOffset`); matrices also take a row
 *   stride (`ldx`, in elements).
 * - Arrays may be Float32Array or Float64Array, but all arrays of one call share a dtype. The wasm
 *   backend computes float32 only and hands float64 calls to the reference backend.
 * - Arrays obtained from `allocate()` live in the backend's memory (wasm linear memory); passing them
 *   avoids copies. Any other typed array is accepted too (the wasm backend copies it in and out).
 * - A kernel never allocates per call in the hot path and never keeps a reference to its arguments.
 *
 * Fused recurrent cell kernels work on one time step for a whole batch: `batch` rows of `hidden`
 * units. Gate layouts are PyTorch's: LSTM rows are [i | f | g | o] (4*hidden), GRU rows [r | z | n]
 * (3*hidden). Row strides of gate buffers are 4*hidden / 3*hidden, of state buffers `hidden`.
 */
export type FloatArray = Float32Array | Float64Array;
/** The cell of a whole-sequence kernel: 0 tanh RNN, 1 ReLU RNN, 2 LSTM, 3 GRU, 4 sigmoid RNN (our extension). */
export type SequenceKind = 0 | 1 | 2 | 3 | 4;
/** Gate blocks in a SequenceKind's weights: 4 for the LSTM, 3 for the GRU, 1 for an RNN. */
export const gatesOf = (cell: SequenceKind): number => [1, 1, 4, 3, 1][cell]!;
/** An RNN's nonlinearity, numbered as its SequenceKind: 0 tanh, 1 relu, 4 sigmoid. */
export type RnnActivation = 0 | 1 | 4;
export type DType = 'float32' | 'float64';

/** A long-lived buffer owned by a module or optimizer. `view()` re-derives the array on each access
 * because wasm memory growth detaches earlier views. */
export interface KernelBuffer {
  readonly length: number;
  readonly dtype: DType;
  view(): FloatArray;
}

/** op(B) of a GEMM prepared once for many products (Kernels.packB). Opaque: only the backend that
 * made it reads it. */
export interface PackedMatrix {
  readonly transB: boolean;
  /** op(B) is [k, n]. */
  readonly k: number;
  readonly n: number;
  readonly dtype: DType;
}

/** A recurrent direction's weights copied once for single steps without gradients
 * (Kernels.prepareStep). A copy: later changes to the layer's tensors are not seen. Opaque: only the
 * backend that made it reads it. */
export interface PreparedStep {
  readonly cell: SequenceKind;
  readonly input: number;
  readonly hidden: number;
  /** Steps take one-hot inputs as the index of each row's 1 (Kernels.stepPrepared's `tokens`). */
  readonly tokens: boolean;
}

export interface Kernels {
  readonly name: 'js' | 'wasm';

  /** A zero-filled buffer that lives as long as its owner (parameters, gradients, optimizer state,
   * workspaces). float64 buffers are always plain typed arrays. */
  allocate(length: number, dtype: DType): KernelBuffer;
  /** Returns a buffer's memory to the backend (once: a second release does nothing). Its view()
   * throws from then on, on every backend. */
  release(buffer: KernelBuffer): void;

  /**
   * C = alpha * op(A) * op(B) + beta * C, row-major. op(A) is [m, k], op(B) is [k, n], C is [m, n].
   * With transA, A is stored [k, m]; with transB, B is stored [n, k]. `beta = 0` must ignore the old
   * contents of C (even NaN), as BLAS does.
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: FloatArray, aOffset: number, lda: number,
    b: FloatArray, bOffset: number, ldb: number,
    beta: number, c: FloatArray, cOffset: number, ldc: number,
  ): void;

  /**
   * Prepares op(B) ([k, n]; with transB, B is stored [n, k]) once for many gemmPacked calls with the
   * same B, such as a recurrent layer's weights over its time steps: the wasm backend packs it into
   * the layout its register tiles read, so the per-call packing of gemm disappears. May allocate
   * backend memory, so call it before taking views that must stay valid. B must not change, nor its
   * memory be released, while the packed matrix is in use: the reference backend keeps B itself and
   * reads it at each call, and the wasm backend hands the products it gives the system BLAS B where
   * it lies when B is in kernel memory (a parameter), keeping a copy only of a B outside it.
   * `into`, a packed matrix of the same transB, k and n that is no longer in use, is packed over
   * and returned, which spares an allocation (a layer whose weights changed since its last call);
   * any other `into` is ignored.
   */
  packB(transB: boolean, k: number, n: number, b: FloatArray, bOffset: number, ldb: number, into?: PackedMatrix | null): PackedMatrix;
  /** gemm(transA, packed.transB, m, n, k, alpha, A, B, beta, C) with B given packed; n and k must be
   * the packed matrix's. */
  gemmPacked(
    transA: boolean, m: number, n: number, k: number, alpha: number,
    a: FloatArray, aOffset: number, lda: number,
    packed: PackedMatrix,
    beta: number, c: FloatArray, cOffset: number, ldc: number,
  ): void;
  /** Returns a packed matrix's memory. Using it afterwards is undefined. */
  releasePacked(packed: PackedMatrix): void;

  /** rows of x ([rows, cols], row stride cols) += v ([cols]). */
  addRowVector(rows: number, cols: number, x: FloatArray, xOffset: number, v: FloatArray, vOffset: number): void;
  /** out[j] (+)= sum over rows of x[r, j]; accumulate adds to out instead of overwriting. */
  sumRows(rows: number, cols: number, x: FloatArray, xOffset: number, out: FloatArray, outOffset: number, accumulate: boolean): void;
  /** y[i] += alpha * x[i] for i < n. */
  axpy(n: number, alpha: number, x: FloatArray, xOffset: number, y: FloatArray, yOffset: number): void;
  /**
   * dst[ids[r], :] += src[r, :] for r = 0..rows-1 in that order, skipping rows whose id is -1 (dst is
   * [dstRows, cols]; any other id outside [0, dstRows) is a RangeError). What a one-hot layer's dW_ih
   * is, in one call: the bits of one axpy (alpha 1) per row, in row order.
   */
  scatterAddRows(
    rows: number, cols: number, ids: Int32Array, src: FloatArray, srcOffset: number, dst: FloatArray, dstOffset: number, dstRows: number,
  ): void;
  /** Sum of squares of x[0..n). Returned as a JS number (accumulated in float64). */
  sumSquares(n: number, x: FloatArray, xOffset: number): number;
  /** x[i] *= alpha for i < n. */
  scale(n: number, alpha: number, x: FloatArray, xOffset: number): void;

  // ---- vanilla RNN ----
  /** h = act(pre) in place over n elements; act 0 = tanh, 1 = relu, 4 = sigmoid. */
  rnnForward(n: number, activation: RnnActivation, pre: FloatArray, preOffset: number): void;
  /**
   * dPre = dh * act'(h), where h is the activated output; dPre may alias dh. In float32, |dPre| below
   * 1e-30 is flushed to 0 (NaN and infinities kept): a gradient vanishing through time would
   * otherwise cross float32's subnormal range, which x86 cores compute many times slower.
   */
  rnnBackward(n: number, activation: RnnActivation, h: FloatArray, hOffset: number, dh: FloatArray, dhOffset: number, dPre: FloatArray, dPreOffset: number): void;

  // ---- LSTM (optionally peephole) ----
  /**
   * One step. `gates` holds [batch, 4*hidden] pre-activations (x W_ih^T + b_ih + h W_hh^T + b_hh) and
   * is overwritten with the activations (i, f, g, o) that the backward needs. c = f*cPrev + i*g,
   * hRaw = o * tanh(c). With peepholes (`peep` = [w_ci | w_cf | w_co], 3*hidden), i and f add
   * w_ci*cPrev, w_cf*cPrev before the sigmoid and o adds w_co*c (the ONNX equations).
   */
  lstmForward(
    batch: number, hidden: number,
    gates: FloatArray, gatesOffset: number,
    cPrev: FloatArray, cPrevOffset: number,
    c: FloatArray, cOffset: number,
    hRaw: FloatArray, hRawOffset: number,
    peep: FloatArray | null, peepOffset: number,
  ): void;
  /**
   * Optional (the wasm backend has it): copies one direction's weights (RNN, GRU, or LSTM without
   * projection, with peepholes `peep` [3 * hidden] = w_ci, w_cf, w_co or without; float32) into a
   * layout for stepPrepared. With `tokens`, steps take one-hot inputs as indices. Release with
   * releasePrepared (or drop it: the memory returns when it is collected).
   */
  prepareStep?(
    cell: SequenceKind, input: number, hidden: number, wIh: FloatArray, wHh: FloatArray, bIh: FloatArray | null, bHh: FloatArray | null,
    peep: FloatArray | null, tokens: boolean,
  ): PreparedStep;
  /**
   * One step over prepared weights, bit for bit the layer's T = 1 forward: x is [batch, input], or
   * null and `tokens` holds each row's index of the 1 in [0, input) when the step was prepared for
   * tokens. h and hOut are [batch, hidden]; an LSTM reads cPrev and writes c (null otherwise).
   */
  stepPrepared?(
    step: PreparedStep, batch: number, x: FloatArray | null, tokens: Int32Array | null,
    h: FloatArray, cPrev: FloatArray | null, c: FloatArray | null, hOut: FloatArray,
  ): void;
  /**
   * Optional (the wasm backend, and the js backend as the reference): prepareStep's weights
   * quantized to int8 per row (src/kernels/quantize.ts) for stepQuantized; biases and peepholes
   * stay float32. Errors on a non-finite weight. Release with releasePrepared.
   */
  prepareQuantizedStep?(
    cell: SequenceKind, input: number, hidden: number, wIh: FloatArray, wHh: FloatArray, bIh: FloatArray | null, bHh: FloatArray | null,
    peep: FloatArray | null, tokens: boolean,
  ): PreparedStep;
  /**
   * stepPrepared over quantized weights (float32 arrays): x and h quantized per row for the step,
   * integer products rescaled to float32, then the float32 gates. Close to the float step, not
   * equal to it; the same bits on any thread count.
   */
  stepQuantized?(
    step: PreparedStep, batch: number, x: FloatArray | null, tokens: Int32Array | null,
    h: FloatArray, cPrev: FloatArray | null, c: FloatArray | null, hOut: FloatArray,
  ): void;
  releasePrepared?(step: PreparedStep): void;
  /**
   * Backward of one step. Inputs: activated `gates`, cPrev, c, dhRaw (gradient w.r.t. hRaw), and dc
   * (gradient flowing into c from step t+1; overwritten with the gradient w.r.t. cPrev). Writes
   * dGates [batch, 4*hidden] (gradients w.r.t. the pre-activations). With peepholes, accumulates into
   * dPeep ([3*hidden]).
   */
  lstmBackward(
    batch: number, hidden: number,
    gates: FloatArray, gatesOffset: number,
    cPrev: FloatArray, cPrevOffset: number,
    c: FloatArray, cOffset: number,
    dhRaw: FloatArray, dhRawOffset: number,
    dc: FloatArray, dcOffset: number,
    dGates: FloatArray, dGatesOffset: number,
    peep: FloatArray | null, peepOffset: number,
    dPeep: FloatArray | null, dPeepOffset: number,
  ): void;

  // ---- GRU ----
  /**
   * One step. `gi` holds x W_ih^T + b_ih ([batch, 3*hidden]); `gh` holds h W_hh^T + b_hh. r = σ(gi_r+gh_r),
   * z = σ(gi_z+gh_z), n = tanh(gi_n + r*gh_n), h = (1-z)*n + z*hPrev. Overwrites gi with the
   * activations (r, z, n); gh is left as is (its n part is needed by the backward).
   */
  gruForward(
    batch: number, hidden: number,
    gi: FloatArray, giOffset: number,
    gh: FloatArray, ghOffset: number,
    hPrev: FloatArray, hPrevOffset: number,
    h: FloatArray, hOffset: number,
  ): void;
  /**
   * Backward of one step from dh (gradient w.r.t. h). Writes dGi (w.r.t. gi pre-activations) and dGh
   * (w.r.t. gh), and dhPrev = the direct path dh*z (the caller adds dGh W_hh).
   */
  gruBackward(
    batch: number, hidden: number,
    gi: FloatArray, giOffset: number,
    gh: FloatArray, ghOffset: number,
    hPrev: FloatArray, hPrevOffset: number,
    dh: FloatArray, dhOffset: number,
    dGi: FloatArray, dGiOffset: number,
    dGh: FloatArray, dGhOffset: number,
    dhPrev: FloatArray, dhPrevOffset: number,
  ): void;

  /**
   * GRU with the reset gate applied before the recurrent product (ONNX's linear_before_reset = 0, the
   * default of ONNX, TensorFlow and Keras): n = tanh(x W_in^T + b_in + (r * hPrev) W_hn^T + b_hn),
   * whose step needs a second recurrent product, over r * hPrev, between two gate kernels. Forward
   * only. First half: `gates` [batch, 3*hidden] holds the r and z pre-activations (input and
   * recurrent products and every bias added), which it overwrites with r and z; rh [batch, hidden]
   * receives r * hPrev. The n part of gates is not touched.
   */
  gruResetBeforeGates(
    batch: number, hidden: number,
    gates: FloatArray, gatesOffset: number,
    hPrev: FloatArray, hPrevOffset: number,
    rh: FloatArray, rhOffset: number,
  ): void;
  /** Second half: gates' n part holds its pre-activation (rh W_hn^T added), overwritten with n;
   * h = (1-z)*n + z*hPrev with z from the first half. */
  gruResetBeforeUpdate(
    batch: number, hidden: number,
    gates: FloatArray, gatesOffset: number,
    hPrev: FloatArray, hPrevOffset: number,
    h: FloatArray, hOffset: number,
  ): void;

  // ---- whole time loops (optional) ----
  /**
   * The forward time loop of one layer direction without projection, in one call: for each step s,
   * the recurrent GEMM from states[s] with `packed` (W_hh^T, from packB(true, ...)) and the step
   * kernel above, exactly as a caller would issue them one by one (same results, bit for bit).
   * gates [T, B, G*H] holds the input projections (both biases folded in, except GRU's b_hh, given
   * as biasHh); states [T+1, B, H] holds h0 and receives h1..hT; cells (LSTM) likewise; gh (GRU)
   * receives h W_hh^T + b_hh per step. Arrays start at offset 0. Returns false, having done nothing,
   * when the backend would rather the caller ran the steps (work it shares across threads per step,
   * such as a batch too small to share the whole loop by rows).
   *
   * Variable lengths (packed sequences): `layout` [steps, 2] gives step s its first row in gates and
   * gh (and dGates, dGh, dOut backwards), which then hold only each step's active rows one step
   * after another, and its number of active rows: the first rows of the batch, which is sorted by
   * length. The step reads and writes only those rows of states and cells; the others keep what they
   * held (an ended sequence's last state; a reverse direction's rows not started yet, h0 if the
   * caller put it there). Without a layout, step s has all rows, from row s * batch.
   */
  sequenceForward?(
    kind: SequenceKind, steps: number, batch: number, hidden: number, packed: PackedMatrix,
    gates: FloatArray, gh: FloatArray | null, states: FloatArray, cells: FloatArray | null,
    biasHh: FloatArray | null, peep: FloatArray | null, layout?: Int32Array | null,
  ): boolean;
  /**
   * The backward time loop matching sequenceForward, from dh (dL/dh_T in, dL/dh0 out) and dc (LSTM,
   * likewise): per step dh += dOut[s], the step's backward kernel into dGates[s] (and dGh[s] for
   * GRU, with dhPrev as its scratch), then dh = dGates[s] W_hh with `packed` from packB(false, ...).
   * Returns false, having done nothing, as sequenceForward does. With a `layout`, as there: rows a
   * step does not touch keep their dh and dc, which so wait for the steps in which they are active.
   */
  sequenceBackward?(
    kind: SequenceKind, steps: number, batch: number, hidden: number, packed: PackedMatrix,
    gates: FloatArray, gh: FloatArray | null, states: FloatArray, cells: FloatArray | null,
    dOut: FloatArray, dh: FloatArray, dc: FloatArray | null, dGates: FloatArray, dGh: FloatArray | null,
    dhPrev: FloatArray | null, peep: FloatArray | null, dPeep: FloatArray | null, layout?: Int32Array | null,
  ): boolean;

  // ---- losses ----
  /**
   * Softmax cross-entropy over `rows` rows of `classes` logits with integer targets. Writes the
   * per-row loss (0 for ignored rows, target === ignoreIndex) and, when dLogits is given, softmax - onehot
   * (0 rows for ignored). Returns nothing; the caller reduces.
   */
  softmaxCrossEntropy(
    rows: number, classes: number,
    logits: FloatArray, logitsOffset: number,
    targets: Int32Array, ignoreIndex: number,
    loss: FloatArray, lossOffset: number,
    dLogits: FloatArray | null, dLogitsOffset: number,
  ): void;

  // ---- optimizers (PyTorch update rules; all in place over n elements) ----
  /** Adam / AdamW step. step is 1-based; decoupled = AdamW's weight decay. */
  adamUpdate(
    n: number, param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number,
  ): void;
}
