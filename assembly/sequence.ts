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
//
// Variable lengths (packed sequences): with a `layout`, step s of the loop (processing order) has
// layout[2s + 1] active rows, the first ones of the batch (sorted by length), and its rows of gates,
// gh, dGates, dGh and dOut start at row layout[2s] of those arrays, which then hold only active
// rows (PyTorch's packed layout). States and cells keep the whole batch per step; rows a step does
// not touch keep what they held, so an ended sequence keeps its last state and its gradient waits
// there for the steps in which it is active. Without a layout (0), every step has the whole batch
// at row s * batch.

import { addRowVector, axpy, rnnBackward, rnnForward } from './elementwise';
import { gemmPacked } from './gemm';
import { gruBackward, gruForward } from './gru';
import { lstmBackward, lstmForward } from './lstm';

export const SEQUENCE_RNN_TANH = 0;
export const SEQUENCE_RNN_RELU = 1;
export const SEQUENCE_LSTM = 2;
export const SEQUENCE_GRU = 3;
/** Our extension (PyTorch has tanh and relu only); its number is ACTIVATION_SIGMOID's. */
export const SEQUENCE_RNN_SIGMOID = 4;

@inline function gateCount(kind: i32): i32 {
  return kind == SEQUENCE_LSTM ? 4 : kind == SEQUENCE_GRU ? 3 : 1;
}

/** The first row of step s in the step-major arrays (gates, dOut, ...). */
@inline function stepRow(layout: usize, s: i32, batch: i32): i32 {
  return layout ? load<i32>(layout + (<usize>s << 3)) : s * batch;
}

/** How many of the rows [row0, row0 + rows) step s updates. */
@inline function activeRows(layout: usize, s: i32, row0: i32, rows: i32): i32 {
  return layout ? max(0, min(rows, load<i32>(layout + (<usize>s << 3) + 4) - row0)) : rows;
}

/**
 * gates [T, B, G*H] holds the input projections (with both biases, except GRU's b_hh); states
 * [T+1, B, H] holds h0 and receives h1..hT; cells [T+1, B, H] (LSTM) holds c0 and receives the rest;
 * gh [T, B, 3H] (GRU) receives h W_hh^T + b_hh. `packed` is W_hh^T packed by packB.
 */
export function sequenceForward(
  kind: i32, steps: i32, batch: i32, hidden: i32, packed: usize,
  gates: usize, gh: usize, states: usize, cells: usize, biasHh: usize, peep: usize, layout: usize, work: usize,
): void {
  sequenceForwardRows(kind, steps, batch, 0, batch, hidden, packed, gates, gh, states, cells, biasHh, peep, layout, work);
}

/** sequenceForward for batch rows [row0, row0 + rows) of `batch` (the pointers address row 0). */
export function sequenceForwardRows(
  kind: i32, steps: i32, batch: i32, row0: i32, rows: i32, hidden: i32, packed: usize,
  gates: usize, gh: usize, states: usize, cells: usize, biasHh: usize, peep: usize, layout: usize, work: usize,
): void {
  const gh4 = gateCount(kind) * hidden;
  const gateRowBytes = <usize>gh4 * 4;
  const stateBytes = <usize>batch * hidden * 4;
  gates += <usize>row0 * gateRowBytes;
  if (gh) gh += <usize>row0 * gateRowBytes;
  states += <usize>row0 * hidden * 4;
  if (cells) cells += <usize>row0 * hidden * 4;
  for (let s = 0; s < steps; s++) {
    const active = activeRows(layout, s, row0, rows);
    if (active == 0) continue;
    const stepOffset = <usize>stepRow(layout, s, batch) * gateRowBytes;
    const g = gates + stepOffset;
    const hPrev = states + <usize>s * stateBytes;
    const hNext = hPrev + stateBytes;
    if (kind == SEQUENCE_GRU) {
      const r = gh + stepOffset;
      gemmPacked(false, active, gh4, hidden, 1, hPrev, hidden, packed, 0, r, gh4, 0, gh4, work);
      if (biasHh) addRowVector(active, gh4, r, biasHh);
      gruForward(active, hidden, g, r, hPrev, hNext);
      continue;
    }
    gemmPacked(false, active, gh4, hidden, 1, hPrev, hidden, packed, 1, g, gh4, 0, gh4, work);
    if (kind == SEQUENCE_LSTM) {
      const cPrev = cells + <usize>s * stateBytes;
      lstmForward(active, hidden, g, cPrev, cPrev + stateBytes, hNext, peep);
    } else {
      rnnForward(active * hidden, kind, g);
      memory.copy(hNext, g, <usize>active * hidden * 4);
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
  dGates: usize, dGh: usize, dhPrev: usize, peep: usize, dPeep: usize, layout: usize, work: usize,
): void {
  sequenceBackwardRows(kind, steps, batch, 0, batch, hidden, packed, gates, gh, states, cells, dOut, dh, dc, dGates, dGh, dhPrev, peep, dPeep, layout, work);
}

/** sequenceBackward for batch rows [row0, row0 + rows) of `batch` (the pointers address row 0; dh, dc
 * and dhPrev are [batch, hidden]). Not for peepholes unless the range is the whole batch. */
export function sequenceBackwardRows(
  kind: i32, steps: i32, batch: i32, row0: i32, rows: i32, hidden: i32, packed: usize,
  gates: usize, gh: usize, states: usize, cells: usize, dOut: usize, dh: usize, dc: usize,
  dGates: usize, dGh: usize, dhPrev: usize, peep: usize, dPeep: usize, layout: usize, work: usize,
): void {
  const gh4 = gateCount(kind) * hidden;
  const gateRowBytes = <usize>gh4 * 4, stateRowBytes = <usize>hidden * 4;
  const stateBytes = <usize>batch * stateRowBytes;
  const gateRow = <usize>row0 * gateRowBytes, stateRow = <usize>row0 * stateRowBytes;
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
    const active = activeRows(layout, s, row0, rows);
    if (active == 0) continue;
    const units = active * hidden;
    const row = <usize>stepRow(layout, s, batch);
    const g = gates + row * gateRowBytes;
    const dg = dGates + row * gateRowBytes;
    const hPrev = states + <usize>s * stateBytes;
    axpy(units, 1, dOut + row * stateRowBytes, dh);
    if (kind == SEQUENCE_LSTM) {
      const cPrev = cells + <usize>s * stateBytes;
      lstmBackward(active, hidden, g, cPrev, cPrev + stateBytes, dh, dc, dg, peep, dPeep);
      gemmPacked(false, active, hidden, gh4, 1, dg, gh4, packed, 0, dh, hidden, 0, hidden, work);
    } else if (kind == SEQUENCE_GRU) {
      const dr = dGh + row * gateRowBytes;
      gruBackward(active, hidden, g, gh + row * gateRowBytes, hPrev, dh, dg, dr, dhPrev);
      memory.copy(dh, dhPrev, <usize>units * 4);
      gemmPacked(false, active, hidden, gh4, 1, dr, gh4, packed, 1, dh, hidden, 0, hidden, work);
    } else {
      rnnBackward(units, kind, hPrev + stateBytes, dh, dg);
      gemmPacked(false, active, hidden, gh4, 1, dg, gh4, packed, 0, dh, hidden, 0, hidden, work);
    }
  }
}
