// Work shared by threads: a job is cut into chunks that threads claim one at a time (the claiming is
// done in JavaScript, src/kernels/wasm/threads.ts). The job lies in memory as i32 slots (f32 where
// noted), written by the JavaScript side, which reads these offsets and kinds from the copy that
// scripts/build-wasm.mjs generates (src/kernels/wasm/assembly-constants.generated.ts):
//
//   KIND   which kernel (below)
//   SPLIT  GEMMs: 0 = chunks are rows of C, 1 = columns
//   CHUNK  rows (or columns) per chunk
//   ARGS.. the kernel's arguments in the order of its signature, pointers as byte addresses
//
// A chunk computes exactly what the whole call computes for its rows (or columns), with the same
// instructions, so results do not depend on how many threads took part.

import { gemmChunk } from './gemm';
import { gruBackward, gruForward } from './gru';
import { lstmBackward, lstmForward } from './lstm';
import { stepGroupedUnits } from './prepared-step';
import { stepQuantizedUnits } from './quantized-step';
import { sequenceBackwardRows, sequenceForwardRows } from './sequence';

export const JOB_KIND = 0;
export const JOB_SPLIT = 1;
export const JOB_CHUNK = 2;
export const JOB_ARGS = 3;

export const KIND_GEMM = 0; //          transA, transB, m, n, k, alpha (f32), a, lda, b, ldb, beta (f32), c, ldc
export const KIND_GEMM_PACKED = 1; //   the same, b = packed B (assembly/gemm.ts packB), ldb unused
export const KIND_LSTM_FORWARD = 2; //  batch, hidden, gates, cPrev, c, hRaw, peep: chunks of batch rows
export const KIND_LSTM_BACKWARD = 3; // batch, hidden, gates, cPrev, c, dhRaw, dc, dGates (no peepholes)
export const KIND_GRU_FORWARD = 4; //   batch, hidden, gi, gh, hPrev, h
export const KIND_GRU_BACKWARD = 5; //  batch, hidden, gi, gh, hPrev, dh, dGi, dGh, dhPrev
export const KIND_STEP_GROUPED = 7; //  cell, batch, input, hidden, x, tokens, h, wIh, wHh, bIh, bHh, peep, cPrev, c, hOut, gates, gh: the same
export const KIND_SEQUENCE_FORWARD = 8; //  sequenceForward's arguments (assembly/sequence.ts): chunks of batch rows
export const KIND_SEQUENCE_BACKWARD = 9; // sequenceBackward's arguments: the same
export const KIND_STEP_QUANTIZED = 10; // cell, batch, input, hidden, xq, xs, tokens, hq, hs, h, prep, cPrev, c, hOut, gates, gh: chunks of hidden units

@inline function slot(job: usize, i: i32): i32 {
  return load<i32>(job + (<usize>i << 2));
}

@inline function arg(job: usize, i: i32): i32 {
  return slot(job, JOB_ARGS + i);
}

@inline function argF(job: usize, i: i32): f32 {
  return load<f32>(job + (<usize>(JOB_ARGS + i) << 2));
}

/** Runs chunk `index` of the job at `job`, with this thread's GEMM workspace. */
export function runChunk(job: usize, index: i32, work: usize): void {
  const kind = slot(job, JOB_KIND);
  const size = slot(job, JOB_CHUNK);
  if (kind == KIND_GEMM || kind == KIND_GEMM_PACKED) {
    gemmChunk(
      kind == KIND_GEMM_PACKED, slot(job, JOB_SPLIT) == 1, size, index,
      arg(job, 0) != 0, arg(job, 1) != 0, arg(job, 2), arg(job, 3), arg(job, 4), argF(job, 5),
      <usize>arg(job, 6), arg(job, 7), <usize>arg(job, 8), arg(job, 9), argF(job, 10), <usize>arg(job, 11), arg(job, 12), work,
    );
    return;
  }
  if (kind == KIND_STEP_GROUPED) {
    const hidden = arg(job, 3);
    const u0 = index * size;
    stepGroupedUnits(
      arg(job, 0), arg(job, 1), arg(job, 2), hidden, <usize>arg(job, 4), <usize>arg(job, 5), <usize>arg(job, 6), <usize>arg(job, 7),
      <usize>arg(job, 8), <usize>arg(job, 9), <usize>arg(job, 10), <usize>arg(job, 11), <usize>arg(job, 12), <usize>arg(job, 13),
      <usize>arg(job, 14), <usize>arg(job, 15), <usize>arg(job, 16), u0, min(hidden, u0 + size), work,
    );
    return;
  }
  if (kind == KIND_STEP_QUANTIZED) {
    const hidden = arg(job, 3);
    const u0 = index * size;
    stepQuantizedUnits(
      arg(job, 0), arg(job, 1), arg(job, 2), hidden, <usize>arg(job, 4), <usize>arg(job, 5), <usize>arg(job, 6), <usize>arg(job, 7),
      <usize>arg(job, 8), <usize>arg(job, 9), <usize>arg(job, 10), <usize>arg(job, 11), <usize>arg(job, 12), <usize>arg(job, 13),
      <usize>arg(job, 14), <usize>arg(job, 15), u0, min(hidden, u0 + size), work,
    );
    return;
  }
  if (kind == KIND_SEQUENCE_FORWARD || kind == KIND_SEQUENCE_BACKWARD) {
    const batch = arg(job, 2);
    const row0 = index * size;
    const rows = min(batch, row0 + size) - row0;
    const kindOf = arg(job, 0), steps = arg(job, 1), hidden = arg(job, 3), packed = <usize>arg(job, 4);
    if (kind == KIND_SEQUENCE_FORWARD) {
      sequenceForwardRows(
        kindOf, steps, batch, row0, rows, hidden, packed, <usize>arg(job, 5), <usize>arg(job, 6), <usize>arg(job, 7),
        <usize>arg(job, 8), <usize>arg(job, 9), <usize>arg(job, 10), <usize>arg(job, 11), work,
      );
    } else {
      sequenceBackwardRows(
        kindOf, steps, batch, row0, rows, hidden, packed, <usize>arg(job, 5), <usize>arg(job, 6), <usize>arg(job, 7),
        <usize>arg(job, 8), <usize>arg(job, 9), <usize>arg(job, 10), <usize>arg(job, 11), <usize>arg(job, 12),
        <usize>arg(job, 13), <usize>arg(job, 14), <usize>arg(job, 15), <usize>arg(job, 16), <usize>arg(job, 17), work,
      );
    }
    return;
  }
  // Recurrent steps: chunks of batch rows; every state argument advances by whole rows.
  const batch = arg(job, 0), hidden = arg(job, 1);
  const start = index * size;
  const rows = min(batch, start + size) - start;
  const row = <usize>start * hidden * 4; // bytes of `start` rows of one hidden-wide block
  if (kind == KIND_LSTM_FORWARD) {
    lstmForward(rows, hidden, <usize>arg(job, 2) + 4 * row, <usize>arg(job, 3) + row, <usize>arg(job, 4) + row, <usize>arg(job, 5) + row, <usize>arg(job, 6));
  } else if (kind == KIND_LSTM_BACKWARD) {
    lstmBackward(
      rows, hidden, <usize>arg(job, 2) + 4 * row, <usize>arg(job, 3) + row, <usize>arg(job, 4) + row, <usize>arg(job, 5) + row,
      <usize>arg(job, 6) + row, <usize>arg(job, 7) + 4 * row, 0, 0,
    );
  } else if (kind == KIND_GRU_FORWARD) {
    gruForward(rows, hidden, <usize>arg(job, 2) + 3 * row, <usize>arg(job, 3) + 3 * row, <usize>arg(job, 4) + row, <usize>arg(job, 5) + row);
  } else if (kind == KIND_GRU_BACKWARD) {
    gruBackward(
      rows, hidden, <usize>arg(job, 2) + 3 * row, <usize>arg(job, 3) + 3 * row, <usize>arg(job, 4) + row, <usize>arg(job, 5) + row,
      <usize>arg(job, 6) + 3 * row, <usize>arg(job, 7) + 3 * row, <usize>arg(job, 8) + row,
    );
  }
}
