// The time loop of one recurrent layer direction (without projection) in one call. Step by step from
// JavaScript, each time step costs three kernel calls and their argument handling, which for a tiny
// model (hidden 32, batch 1) outweighs the arithmetic; with threads, each step would also be two
// jobs to hand out and wait for. The steps are exactly those of the JavaScript loop in
// src/nn/recurrent/fused.ts (same kernels, same order), so the results are the same bits.
//
// Batch rows never meet in the recurrence (row b of h_t depends only on row b of h_{t-1}), so the
// loop can run on a range of rows: threads each take whole rows for the whole sequence and never
// wait for one another (assembly/threads.ts, KIND_SEQUENCE_*). Every kernel here computes a row the
// same way whatever rows surround it, so a range gives the rows' bits of the whole call. The one
// exception is the peephole gradient, a sum over rows: a backward pass with peepholes runs whole.

import { addRowVector, axpy, rnnBackward, rnnForward } from './elementwise';
import { gemmPacked } from './gemm';
import { gruBackward, gruForward } from './gru';
import { lstmBackward, lstmForward } from './lstm';

export const SEQUENCE_RNN_TANH = 0;
export const SEQUENCE_RNN_RELU = 1;
export const SEQUENCE_LSTM = 2;
export const SEQUENCE_GRU = 3;

@inline function gateCount(kind: i32): i32 {
  return kind == SEQUENCE_LSTM ? 4 : kind == SEQUENCE_GRU ? 3 : 1;
}

/**
 * gates [T, B, G*H] holds the input projections (with both biases, except GRU's b_hh); states
 * [T+1, B, H] holds h0 and receives h1..hT; cells [T+1, B, H] (LSTM) holds c0 and receives the rest;
 * gh [T, B, 3H] (GRU) receives h W_hh^T + b_hh. `packed` is W_hh^T packed by packB.
 */
export function sequenceForward(
  kind: i32, steps: i32, batch: i32, hidden: i32, packed: usize,
  gates: usize, gh: usize, states: usize, cells: usize, biasHh: usize, peep: usize, work: usize,
): void {
  sequenceForwardRows(kind, steps, batch, 0, batch, hidden, packed, gates, gh, states, cells, biasHh, peep, work);
}

/** sequenceForward for batch rows [row0, row0 + rows) of `batch` (the pointers address row 0). */
export function sequenceForwardRows(
  kind: i32, steps: i32, batch: i32, row0: i32, rows: i32, hidden: i32, packed: usize,
  gates: usize, gh: usize, states: usize, cells: usize, biasHh: usize, peep: usize, work: usize,
): void {
  const gh4 = gateCount(kind) * hidden;
  const gateBytes = <usize>batch * gh4 * 4;
  const stateBytes = <usize>batch * hidden * 4;
  const rowBytes = <usize>rows * hidden * 4;
  gates += <usize>row0 * gh4 * 4;
  if (gh) gh += <usize>row0 * gh4 * 4;
  states += <usize>row0 * hidden * 4;
  if (cells) cells += <usize>row0 * hidden * 4;
  for (let s = 0; s < steps; s++) {
    const g = gates + <usize>s * gateBytes;
    const hPrev = states + <usize>s * stateBytes;
    const hNext = hPrev + stateBytes;
    if (kind == SEQUENCE_GRU) {
      const r = gh + <usize>s * gateBytes;
      gemmPacked(false, rows, gh4, hidden, 1, hPrev, hidden, packed, 0, r, gh4, 0, gh4, work);
      if (biasHh) addRowVector(rows, gh4, r, biasHh);
      gruForward(rows, hidden, g, r, hPrev, hNext);
      continue;
    }
    gemmPacked(false, rows, gh4, hidden, 1, hPrev, hidden, packed, 1, g, gh4, 0, gh4, work);
    if (kind == SEQUENCE_LSTM) {
      const cPrev = cells + <usize>s * stateBytes;
      lstmForward(rows, hidden, g, cPrev, cPrev + stateBytes, hNext, peep);
    } else {
      rnnForward(rows * hidden, kind, g);
      memory.copy(hNext, g, rowBytes);
    }
  }
}

/**
 * Walks time backwards from dh (= dL/dh_T) and dc (LSTM): adds dOut[s] into dh, runs the gate
 * gradient kernel into dGates[s] (and dGh[s] for GRU), then dh = dGates[s] W_hh (`packed` is W_hh
 * packed by packB, not transposed). Leaves dL/dh0 in dh and dL/dc0 in dc.
 */
export function sequenceBackward(
  kind: i32, steps: i32, batch: i32, hidden: i32, packed: usize,
  gates: usize, gh: usize, states: usize, cells: usize, dOut: usize, dh: usize, dc: usize,
  dGates: usize, dGh: usize, dhPrev: usize, peep: usize, dPeep: usize, work: usize,
): void {
  sequenceBackwardRows(kind, steps, batch, 0, batch, hidden, packed, gates, gh, states, cells, dOut, dh, dc, dGates, dGh, dhPrev, peep, dPeep, work);
}

/** sequenceBackward for batch rows [row0, row0 + rows) of `batch` (the pointers address row 0; dh, dc
 * and dhPrev are [batch, hidden]). Not for peepholes unless the range is the whole batch. */
export function sequenceBackwardRows(
  kind: i32, steps: i32, batch: i32, row0: i32, rows: i32, hidden: i32, packed: usize,
  gates: usize, gh: usize, states: usize, cells: usize, dOut: usize, dh: usize, dc: usize,
  dGates: usize, dGh: usize, dhPrev: usize, peep: usize, dPeep: usize, work: usize,
): void {
  const gh4 = gateCount(kind) * hidden;
  const gateBytes = <usize>batch * gh4 * 4;
  const stateBytes = <usize>batch * hidden * 4;
  const rowBytes = <usize>rows * hidden * 4;
  const units = rows * hidden;
  const gateRow = <usize>row0 * gh4 * 4, stateRow = <usize>row0 * hidden * 4;
  gates += gateRow;
  dGates += gateRow;
  if (gh) gh += gateRow;
  if (dGh) dGh += gateRow;
  states += stateRow;
  if (cells) cells += stateRow;
  dOut += stateRow;
  dh += stateRow;
  if (dc) dc += stateRow;
  if (dhPrev) dhPrev += stateRow;
  for (let s = steps - 1; s >= 0; s--) {
    const g = gates + <usize>s * gateBytes;
    const dg = dGates + <usize>s * gateBytes;
    const hPrev = states + <usize>s * stateBytes;
    axpy(units, 1, dOut + <usize>s * stateBytes, dh);
    if (kind == SEQUENCE_LSTM) {
      const cPrev = cells + <usize>s * stateBytes;
      lstmBackward(rows, hidden, g, cPrev, cPrev + stateBytes, dh, dc, dg, peep, dPeep);
      gemmPacked(false, rows, hidden, gh4, 1, dg, gh4, packed, 0, dh, hidden, 0, hidden, work);
    } else if (kind == SEQUENCE_GRU) {
      const dr = dGh + <usize>s * gateBytes;
      gruBackward(rows, hidden, g, gh + <usize>s * gateBytes, hPrev, dh, dg, dr, dhPrev);
      memory.copy(dh, dhPrev, rowBytes);
      gemmPacked(false, rows, hidden, gh4, 1, dr, gh4, packed, 1, dh, hidden, 0, hidden, work);
    } else {
      rnnBackward(units, kind, hPrev + stateBytes, dh, dg);
      gemmPacked(false, rows, hidden, gh4, 1, dg, gh4, packed, 0, dh, hidden, 0, hidden, work);
    }
  }
}
