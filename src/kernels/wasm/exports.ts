/** The functions the AssemblyScript module (assembly/index.ts) exports. Pointers are byte addresses
 * in linear memory; booleans travel as 0/1. */
export interface WasmExports {
  heapBase(): number;
  gemmWorkspaceBytes(): number;
  gemm(
    transA: number, transB: number, m: number, n: number, k: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number, work: number,
  ): void;
  /** Rows of A up to which gemm streams B instead of packing it (assembly/gemm-small.ts). */
  gemmSmallRows(): number;
  /** Bytes of op(B) [k, n] packed by packB. */
  packedBBytes(k: number, n: number): number;
  packB(transB: number, k: number, n: number, b: number, ldb: number, dst: number): void;
  gemmPacked(
    transA: number, m: number, n: number, k: number, alpha: number, a: number, lda: number, packed: number,
    beta: number, c: number, ldc: number, colStart: number, colEnd: number, work: number,
  ): void;
  /** Chunk `index` of the job shared by threads at `job` (assembly/threads.ts). */
  runChunk(job: number, index: number, work: number): void;
  addRowVector(rows: number, cols: number, x: number, v: number): void;
  sumRows(rows: number, cols: number, x: number, out: number, accumulate: number): void;
  axpy(n: number, alpha: number, x: number, y: number): void;
  scatterAddRows(rows: number, cols: number, ids: number, src: number, dst: number): void;
  scale(n: number, alpha: number, x: number): void;
  sumSquares(n: number, x: number): number;
  rnnForward(n: number, activation: number, pre: number): void;
  rnnBackward(n: number, activation: number, h: number, dh: number, dPre: number): void;
  lstmForward(batch: number, hidden: number, gates: number, cPrev: number, c: number, hRaw: number, peep: number): void;
  stepGroupedUnits(
    cell: number, batch: number, input: number, hidden: number, x: number, tokens: number, h: number, wIh: number, wHh: number,
    bIh: number, bHh: number, peep: number, cPrev: number, c: number, hOut: number, gates: number, gh: number, u0: number, u1: number, sums: number,
  ): void;
  /** x [rows, n] to i16 integers [rows, stride] and scales [rows] (assembly/quantized-step.ts). */
  quantizeRows(rows: number, n: number, stride: number, src: number, dst: number, scales: number): void;
  stepQuantizedUnits(
    cell: number, batch: number, input: number, hidden: number, xq: number, xs: number, tokens: number, hq: number, hs: number, h: number,
    prep: number, cPrev: number, c: number, hOut: number, gates: number, gh: number, u0: number, u1: number, sums: number,
  ): void;
  lstmBackward(
    batch: number, hidden: number, gates: number, cPrev: number, c: number, dhRaw: number, dc: number,
    dGates: number, peep: number, dPeep: number,
  ): void;
  gruForward(batch: number, hidden: number, gi: number, gh: number, hPrev: number, h: number): void;
  gruBackward(
    batch: number, hidden: number, gi: number, gh: number, hPrev: number, dh: number,
    dGi: number, dGh: number, dhPrev: number,
  ): void;
  gruResetBeforeGates(batch: number, hidden: number, gates: number, hPrev: number, rh: number): void;
  gruResetBeforeUpdate(batch: number, hidden: number, gates: number, hPrev: number, h: number): void;
  sequenceForward(
    kind: number, steps: number, batch: number, hidden: number, packed: number,
    gates: number, gh: number, states: number, cells: number, biasHh: number, peep: number, layout: number, work: number,
  ): void;
  sequenceBackward(
    kind: number, steps: number, batch: number, hidden: number, packed: number,
    gates: number, gh: number, states: number, cells: number, dOut: number, dh: number, dc: number,
    dGates: number, dGh: number, dhPrev: number, peep: number, dPeep: number, layout: number, work: number,
  ): void;
  softmaxCrossEntropy(
    rows: number, classes: number, logits: number, targets: number, ignoreIndex: number, loss: number, dLogits: number,
  ): void;
  adamUpdate(
    n: number, param: number, grad: number, m: number, v: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, decoupled: number, decay: number, stepSize: number, bias2Sqrt: number,
  ): void;
  /** exp (op 0), sigmoid (1) or tanh (2) in place; for the accuracy tests. */
  mathMap(op: number, x: number, n: number): void;
  /** The mul+add ceiling loop for bench/gemm.mjs. */
  peakLoop(iterations: number, seed: number): number;
  /** The same through madd: fused multiply-adds in the relaxed-SIMD build (assembly/fma.ts). */
  peakLoopMadd(iterations: number, seed: number): number;
  /** Chains per iteration of peakLoopMadd (fused 1) or peakLoop (0). */
  peakChains(fused: number): number;
  /** 1 in the relaxed-SIMD build. */
  relaxedSimd(): number;
}
