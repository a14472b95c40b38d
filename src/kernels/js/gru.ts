import type { FloatArray } from '../contract.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function gruForward(
  batch: number, hidden: number,
  gi: FloatArray, giOffset: number,
  gh: FloatArray, ghOffset: number,
  hPrev: FloatArray, hPrevOffset: number,
  h: FloatArray, hOffset: number,
): void {
  const H = hidden;
  for (let b = 0; b < batch; b++) {
    const iRow = giOffset + b * 3 * H;
    const hRow = ghOffset + b * 3 * H;
    for (let j = 0; j < H; j++) {
      const r = sigmoid(gi[iRow + j]! + gh[hRow + j]!);
      const z = sigmoid(gi[iRow + H + j]! + gh[hRow + H + j]!);
      const n = Math.tanh(gi[iRow + 2 * H + j]! + r * gh[hRow + 2 * H + j]!);
      gi[iRow + j] = r;
      gi[iRow + H + j] = z;
      gi[iRow + 2 * H + j] = n;
      h[hOffset + b * H + j] = (1 - z) * n + z * hPrev[hPrevOffset + b * H + j]!;
    }
  }
}

export function gruBackward(
  batch: number, hidden: number,
  gi: FloatArray, giOffset: number,
  gh: FloatArray, ghOffset: number,
  hPrev: FloatArray, hPrevOffset: number,
  dh: FloatArray, dhOffset: number,
  dGi: FloatArray, dGiOffset: number,
  dGh: FloatArray, dGhOffset: number,
  dhPrev: FloatArray, dhPrevOffset: number,
): void {
  const H = hidden;
  for (let b = 0; b < batch; b++) {
    const iRow = giOffset + b * 3 * H;
    const hRow = ghOffset + b * 3 * H;
    const diRow = dGiOffset + b * 3 * H;
    const dhRow = dGhOffset + b * 3 * H;
    for (let j = 0; j < H; j++) {
      const r = gi[iRow + j]!;
      const z = gi[iRow + H + j]!;
      const n = gi[iRow + 2 * H + j]!;
      const hp = hPrev[hPrevOffset + b * H + j]!;
      const d = dh[dhOffset + b * H + j]!;
      const dpn = d * (1 - z) * (1 - n * n);
      const dpz = d * (hp - n) * z * (1 - z);
      const dpr = dpn * gh[hRow + 2 * H + j]! * r * (1 - r);
      dGi[diRow + j] = dpr;
      dGi[diRow + H + j] = dpz;
      dGi[diRow + 2 * H + j] = dpn;
      dGh[dhRow + j] = dpr;
      dGh[dhRow + H + j] = dpz;
      dGh[dhRow + 2 * H + j] = dpn * r;
      dhPrev[dhPrevOffset + b * H + j] = d * z;
    }
  }
}

/**
 * GRU with the reset gate before the recurrent product (linear_before_reset = 0), first half of a
 * step: r and z from their pre-activations in `gates` (written back activated), and rh = r * hPrev,
 * the operand of the second recurrent product.
 */
export function gruResetBeforeGates(
  batch: number, hidden: number,
  gates: FloatArray, gatesOffset: number,
  hPrev: FloatArray, hPrevOffset: number,
  rh: FloatArray, rhOffset: number,
): void {
  const H = hidden;
  for (let b = 0; b < batch; b++) {
    const row = gatesOffset + b * 3 * H;
    for (let j = 0; j < H; j++) {
      const r = sigmoid(gates[row + j]!);
      gates[row + j] = r;
      gates[row + H + j] = sigmoid(gates[row + H + j]!);
      rh[rhOffset + b * H + j] = r * hPrev[hPrevOffset + b * H + j]!;
    }
  }
}

/** Second half: n = tanh of its pre-activation (written back), h = (1 - z) * n + z * hPrev. */
export function gruResetBeforeUpdate(
  batch: number, hidden: number,
  gates: FloatArray, gatesOffset: number,
  hPrev: FloatArray, hPrevOffset: number,
  h: FloatArray, hOffset: number,
): void {
  const H = hidden;
  for (let b = 0; b < batch; b++) {
    const row = gatesOffset + b * 3 * H;
    for (let j = 0; j < H; j++) {
      const z = gates[row + H + j]!;
      const n = Math.tanh(gates[row + 2 * H + j]!);
      gates[row + 2 * H + j] = n;
      h[hOffset + b * H + j] = (1 - z) * n + z * hPrev[hPrevOffset + b * H + j]!;
    }
  }
}
