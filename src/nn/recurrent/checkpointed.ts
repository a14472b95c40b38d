/**
 * Gradient checkpointing for one recurrent layer direction (docs/architecture.md, "Long sequences
 * trade compute for memory"): the forward keeps only the state (and LSTM cell) at every k-th step;
 * the backward walks the segments between them last first, recomputes each segment's gate
 * activations from its starting state, and backpropagates through it, carrying dh (and dc) into the
 * segment before. Kernel memory holds T/k checkpoints and the buffers of one segment and one chunk
 * (fused.ts, CHUNK_ROWS), instead of every step's gates and states; the price is one more forward.
 *
 * The gradients are the plain path's bit for bit: the per-step arithmetic is the same kernels' on
 * the same values (a time loop split into runs gives the bits of one run), and the products over
 * many rows are issued over the same chunks, in the same order, as fused.ts issues them, so a chunk's
 * weight gradients are summed once the backward has walked all of its steps.
 */
import { kernelsFor, type FloatArray, type KernelBuffer } from '../../kernels/index.js';
import { allocateArray, formatShape, isGradEnabled, Tensor } from '../../tensor/index.js';
import {
  addChunkGradients, backwardSteps, chunkSteps, directionInputs, finishGradients, forwardSteps, gateCount, projectRows, recordDirection,
  stepLayout, stepWeights, type CellKind, type DirectionResult, type DirectionWeights, type Geometry, type Gradients, type WeightGradients,
} from './fused.js';
import { oneHotRows } from './one-hot.js';
import { workspaceFor } from './workspace.js';

/**
 * One direction of one layer over x [T, B, I] from h0 [B, P] (c0 [B, H]) keeping a checkpoint every
 * `every` steps (1 <= every < T); the results and gradients of recurrentDirection, bit for bit.
 */
export function checkpointedDirection(
  kind: CellKind, x: Tensor, h0: Tensor, c0: Tensor | null, w: DirectionWeights, reverse: boolean, every: number,
): DirectionResult {
  if (x.shape.length !== 3) throw new Error(`checkpointedDirection: input must be [seq, batch, input], got ${formatShape(x.shape)}`);
  const [T, B, I] = x.shape as [number, number, number];
  if (!Number.isInteger(every) || every < 1 || every >= T) throw new Error(`checkpointedDirection: every must be an integer in [1, ${T - 1}], got ${every}`);
  const G = gateCount(kind), H = w.weightIh.shape[0]! / G, P = w.weightHr ? w.weightHr.shape[0]! : H, GH = G * H;
  const g: Geometry = { kind, T, B, I, H, P, G, reverse, rows: T * B, layout: stepLayout(T, B, false, null), packed: false };
  const dtype = x.dtype;
  const k = kernelsFor(dtype);
  const C = chunkSteps(B), chunks = Math.ceil(T / C), segments = Math.ceil(T / every);
  const isLstm = kind === 'lstm';
  const records = isGradEnabled() && directionInputs(x, h0, c0, w).some((t) => t.requiresGrad);
  /** Time-order rows of step s (processing order). */
  const timeOf = (s: number): number => (reverse ? T - 1 - s : s);
  /** Copies `n` steps from processing step s0 of a time-order array (rows of `width`) into dst. */
  const gatherSteps = (src: FloatArray, width: number, s0: number, n: number, dst: FloatArray): void => {
    const block = B * width;
    if (!reverse) dst.set(src.subarray(s0 * block, (s0 + n) * block));
    else for (let s = 0; s < n; s++) dst.set(src.subarray(timeOf(s0 + s) * block, (timeOf(s0 + s) + 1) * block), s * block);
  };
  /** The inverse: n steps of src (processing order, from its start) into a time-order array at step s0. */
  const scatterSteps = (src: FloatArray, width: number, s0: number, n: number, dst: FloatArray): void => {
    const block = B * width;
    if (!reverse) dst.set(src.subarray(0, n * block), s0 * block);
    else for (let s = 0; s < n; s++) dst.set(src.subarray(s * block, (s + 1) * block), timeOf(s0 + s) * block);
  };
  const runOf = (n: number): Geometry => ({ ...g, T: n, rows: n * B, layout: stepLayout(n, B, false, null) });

  // One-hot rows in processing order (the plain path finds them in its processing-order copy of x).
  const timeIds = oneHotRows(x.data, T * B, I);
  let ids: Int32Array | null = null;
  if (timeIds) {
    ids = new Int32Array(T * B);
    for (let s = 0; s < T; s++) ids.set(timeIds.subarray(timeOf(s) * B, (timeOf(s) + 1) * B), s * B);
  }

  // Forward. Kept for the backward: the checkpoints and the gathered peepholes.
  const saved = workspaceFor(k, dtype);
  const ckStates = saved.take(segments * B * P, false);
  const ckCells = isLstm ? saved.take(segments * B * H, false) : null;
  const peepBuf = w.peephole ? saved.take(3 * H, false) : null;
  if (peepBuf) w.peephole!.forEach((p, i) => peepBuf.view().set(p.data, i * H));
  const temp = workspaceFor(k, dtype);
  const swForward = stepWeights(g, k, w, true);
  const chunkBufs = {
    x: temp.take(C * B * I, false), gates: temp.take(C * B * GH, false), gh: kind === 'gru' ? temp.take(C * B * GH, false) : null,
    states: temp.take((C + 1) * B * P, false), cells: isLstm ? temp.take((C + 1) * B * H, false) : null,
    hRaw: w.weightHr ? temp.take(C * B * H, false) : null, scratch: ids ? temp.take(I * GH, false) : null,
  };
  const output = allocateArray(T * B * P, dtype);
  {
    const states = chunkBufs.states.view(), cells = chunkBufs.cells?.view() ?? null;
    states.set(h0.data.subarray(0, B * P));
    if (cells) {
      if (c0) cells.set(c0.data.subarray(0, B * H));
      else cells.fill(0, 0, B * H);
    }
  }
  for (let c = 0; c < chunks; c++) {
    const s0 = c * C, n = Math.min(C, T - s0);
    const xs = chunkBufs.x.view(), gates = chunkBufs.gates.view(), states = chunkBufs.states.view(), cells = chunkBufs.cells?.view() ?? null;
    gatherSteps(x.data, I, s0, n, xs);
    projectRows(k, kind !== 'gru', w, I, GH, n * B, xs, gates, ids?.subarray(s0 * B, (s0 + n) * B) ?? null, chunkBufs.scratch?.view() ?? null);
    forwardSteps(runOf(n), k, w, swForward, {
      gates, gh: chunkBufs.gh?.view() ?? null, states, cells, hRaw: chunkBufs.hRaw?.view() ?? null, peep: peepBuf?.view() ?? null,
    });
    // The checkpoints among this chunk's states (state s: the one before step s).
    for (let s = Math.ceil(s0 / every) * every; s < s0 + n; s += every) {
      const j = s / every, at = s - s0;
      ckStates.view().set(states.subarray(at * B * P, (at + 1) * B * P), j * B * P);
      if (ckCells && cells) ckCells.view().set(cells.subarray(at * B * H, (at + 1) * B * H), j * B * H);
    }
    scatterSteps(states.subarray(B * P), P, s0, n, output);
    // The chunk's last state starts the next one.
    states.copyWithin(0, n * B * P, (n + 1) * B * P);
    cells?.copyWithin(0, n * B * H, (n + 1) * B * H);
  }
  const h = new Tensor(chunkBufs.states.view().slice(0, B * P), [B, P]);
  const cFinal = chunkBufs.cells ? new Tensor(chunkBufs.cells.view().slice(0, B * H), [B, H]) : null;
  temp.release();
  const outputTensor = new Tensor(output, [T, B, P]);
  if (!records) {
    saved.release();
    return { output: outputTensor, h, c: cFinal };
  }

  // The backward reads x from the caller's tensor (autograd checks it is unchanged) and the weights in place.
  return recordDirection(kind, x, h0, c0, w, { output: outputTensor, h, c: cFinal }, saved, (need, ws, dOutput, dHn, dCn): Gradients => {
    // Everything is allocated (packing included) before any view is taken.
    const swF = stepWeights(g, k, w, true), swB = stepWeights(g, k, w, false);
    const K = every;
    const seg = {
      gates: ws.take(K * B * GH, false), gh: kind === 'gru' ? ws.take(K * B * GH, false) : null, states: ws.take((K + 1) * B * P, false),
      cells: isLstm ? ws.take((K + 1) * B * H, false) : null, hRaw: w.weightHr ? ws.take(K * B * H, false) : null, dOut: ws.take(K * B * P, true),
    };
    // The input projections of one chunk, kept while the segments walking down still need them.
    const proj = { x: ws.take(C * B * I, false), gates: ws.take(C * B * GH, false), scratch: ids ? ws.take(I * GH, false) : null };
    let projected = -1;
    // The rows of the chunk the backward is in, for its weight gradients once it is complete.
    const win = {
      dGates: ws.take(C * B * GH, false), dGh: kind === 'gru' ? ws.take(C * B * GH, false) : null, x: ws.take(C * B * I, false),
      hPrev: ws.take(C * B * P, false), dhAll: w.weightHr ? ws.take(C * B * P, false) : null, hRaw: w.weightHr ? ws.take(C * B * H, false) : null,
      dx: need.x ? ws.take(C * B * I, false) : null,
    };
    const dhBuf = ws.take(B * P, dHn === null), dcBuf = isLstm ? ws.take(B * H, dCn === null) : null;
    const dhRawBuf = w.weightHr ? ws.take(B * H, false) : null, dhPrevBuf = kind === 'gru' ? ws.take(B * H, false) : null;
    const dPeepBuf = w.peephole ? ws.take(3 * H) : null;
    const dWihBuf = need.weightIh ? ws.take(GH * I, false) : null, dWhhBuf = need.weightHh ? ws.take(GH * P, false) : null;
    const dBihBuf = w.biasIh && need.biasIh ? ws.take(GH, false) : null, dBhhBuf = w.biasHh && need.biasHh ? ws.take(GH, false) : null;
    const dWhrBuf = w.weightHr && need.weightHr ? ws.take(P * H, false) : null;
    const oneHotScratch = dWihBuf && ids ? ws.take(I * GH, true) : null;
    const gx = need.x ? allocateArray(T * B * I, dtype) : null;
    if (dHn) dhBuf.view().set(dHn);
    if (dcBuf && dCn) dcBuf.view().set(dCn);
    const v = (b: KernelBuffer | null): FloatArray | null => b?.view() ?? null;

    const lastChunk = chunks - 1;
    const finishChunk = (c: number): void => {
      const s0 = c * C, n = Math.min(C, T - s0);
      const out: WeightGradients = { dWih: v(dWihBuf), dWhh: v(dWhhBuf), dBih: v(dBihBuf), dBhh: v(dBhhBuf), dWhr: v(dWhrBuf), oneHotScratch: v(oneHotScratch) };
      const xs = win.x.view(), dGates = win.dGates.view();
      gatherSteps(x.data, I, s0, n, xs);
      addChunkGradients(k, g, out, {
        count: n * B, dGates, dGh: v(win.dGh), x: xs, ids: ids?.subarray(s0 * B, (s0 + n) * B) ?? null,
        hPrev: win.hPrev.view(), dhAll: v(win.dhAll), hRaw: v(win.hRaw),
      }, c === lastChunk);
      if (win.dx && gx) {
        k.gemm(false, false, n * B, I, GH, 1, win.dGates.view(), 0, GH, w.weightIh.data, 0, I, 0, win.dx.view(), 0, I);
        scatterSteps(win.dx.view(), I, s0, n, gx);
      }
    };
    /** The input projections of steps [a, b) into the segment's gates, chunk by chunk as the plain path makes them. */
    const projectSegment = (a: number, b: number): void => {
      for (let c = Math.floor(a / C); c <= Math.floor((b - 1) / C); c++) {
        const s0 = c * C, n = Math.min(C, T - s0);
        if (projected !== c) {
          gatherSteps(x.data, I, s0, n, proj.x.view());
          projectRows(k, kind !== 'gru', w, I, GH, n * B, proj.x.view(), proj.gates.view(), ids?.subarray(s0 * B, (s0 + n) * B) ?? null, v(proj.scratch));
          projected = c;
        }
        const from = Math.max(a, s0), to = Math.min(b, s0 + n);
        seg.gates.view().set(proj.gates.view().subarray((from - s0) * B * GH, (to - s0) * B * GH), (from - a) * B * GH);
      }
    };

    for (let j = segments - 1; j >= 0; j--) {
      const a = j * every, b = Math.min(a + every, T), n = b - a;
      projectSegment(a, b);
      const states = seg.states.view(), cells = v(seg.cells);
      states.set(ckStates.view().subarray(j * B * P, (j + 1) * B * P));
      if (cells && ckCells) cells.set(ckCells.view().subarray(j * B * H, (j + 1) * B * H));
      forwardSteps(runOf(n), k, w, swF, { gates: seg.gates.view(), gh: v(seg.gh), states, cells, hRaw: v(seg.hRaw), peep: v(peepBuf) });
      if (dOutput) gatherSteps(dOutput, P, a, n, seg.dOut.view());
      // Backward through the segment, cut where chunks begin: a chunk whose first step is reached is
      // complete. Views are taken anew for each run: finishing a chunk may stage arrays (one-hot ids)
      // in kernel memory, and growing it detaches the views taken before.
      for (let hi = b; hi > a;) {
        const c = Math.floor((hi - 1) / C), lo = Math.max(a, c * C), inSeg = lo - a, inChunk = lo - c * C;
        const segStates = seg.states.view(), segRaw = v(seg.hRaw), dGh = v(win.dGh), dhAll = v(win.dhAll), segGh = v(seg.gh), segCells = v(seg.cells);
        backwardSteps(runOf(hi - lo), k, w, swB, {
          gates: seg.gates.view().subarray(inSeg * B * GH), gh: segGh?.subarray(inSeg * B * GH) ?? null,
          states: segStates.subarray(inSeg * B * P), cells: segCells?.subarray(inSeg * B * H) ?? null, hRaw: null, peep: v(peepBuf),
          dOut: seg.dOut.view().subarray(inSeg * B * P), dh: dhBuf.view(), dc: v(dcBuf), dGates: win.dGates.view().subarray(inChunk * B * GH),
          dGh: dGh?.subarray(inChunk * B * GH) ?? null, dhPrev: v(dhPrevBuf), dhRaw: v(dhRawBuf),
          dhAll: dhAll?.subarray(inChunk * B * P) ?? null, dPeep: v(dPeepBuf),
        });
        win.hPrev.view().set(segStates.subarray(inSeg * B * P, (hi - a) * B * P), inChunk * B * P);
        if (segRaw && win.hRaw) win.hRaw.view().set(segRaw.subarray(inSeg * B * H, (hi - a) * B * H), inChunk * B * H);
        if (lo === c * C) finishChunk(c);
        hi = lo;
      }
    }
    finishGradients(g, { dWih: v(dWihBuf), dWhh: v(dWhhBuf), dBih: v(dBihBuf), dBhh: v(dBhhBuf), dWhr: v(dWhrBuf), oneHotScratch: v(oneHotScratch) });

    return {
      x: gx, h0: dhBuf.view().slice(), c0: dcBuf ? dcBuf.view().slice() : null,
      weightIh: dWihBuf, weightHh: dWhhBuf, biasIh: dBihBuf, biasHh: dBhhBuf, weightHr: dWhrBuf, peephole: dPeepBuf,
    };
  });
}
