import type { FloatArray } from '../contract.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function lstmForward(
  batch: number, hidden: number,
  gates: FloatArray, gatesOffset: number,
  cPrev: FloatArray, cPrevOffset: number,
  c: FloatArray, cOffset: number,
  hRaw: FloatArray, hRawOffset: number,
  peep: FloatArray | null, peepOffset: number,
): void {
  const H = hidden;
  for (let b = 0; b < batch; b++) {
    const gRow = gatesOffset + b * 4 * H;
    for (let j = 0; j < H; j++) {
      const cp = cPrev[cPrevOffset + b * H + j]!;
      const pi = gates[gRow + j]! + (peep ? peep[peepOffset + j]! * cp : 0);
      const pf = gates[gRow + H + j]! + (peep ? peep[peepOffset + H + j]! * cp : 0);
      const i = sigmoid(pi);
      const f = sigmoid(pf);
      const g = Math.tanh(gates[gRow + 2 * H + j]!);
      const cNew = f * cp + i * g;
      const po = gates[gRow + 3 * H + j]! + (peep ? peep[peepOffset + 2 * H + j]! * cNew : 0);
      const o = sigmoid(po);
      gates[gRow + j] = i;
      gates[gRow + H + j] = f;
      gates[gRow + 2 * H + j] = g;
      gates[gRow + 3 * H + j] = o;
      c[cOffset + b * H + j] = cNew;
      hRaw[hRawOffset + b * H + j] = o * Math.tanh(cNew);
    }
  }
}

export function lstmBackward(
  batch: number, hidden: number,
  gates: FloatArray, gatesOffset: number,
  cPrev: FloatArray, cPrevOffset: number,
  c: FloatArray, cOffset: number,
  dhRaw: FloatArray, dhRawOffset: number,
  dc: FloatArray, dcOffset: number,
  dGates: FloatArray, dGatesOffset: number,
  peep: FloatArray | null, peepOffset: number,
  dPeep: FloatArray | null, dPeepOffset: number,
): void {
  const H = hidden;
  for (let b = 0; b < batch; b++) {
    const gRow = gatesOffset + b * 4 * H;
    const dRow = dGatesOffset + b * 4 * H;
    for (let j = 0; j < H; j++) {
      const s = b * H + j;
      const i = gates[gRow + j]!;
      const f = gates[gRow + H + j]!;
      const g = gates[gRow + 2 * H + j]!;
      const o = gates[gRow + 3 * H + j]!;
      const cp = cPrev[cPrevOffset + s]!;
      const cv = c[cOffset + s]!;
      const tc = Math.tanh(cv);
      const dh = dhRaw[dhRawOffset + s]!;
      const dpo = dh * tc * o * (1 - o);
      let dct = dc[dcOffset + s]! + dh * o * (1 - tc * tc);
      if (peep) dct += dpo * peep[peepOffset + 2 * H + j]!;
      const dpi = dct * g * i * (1 - i);
      const dpf = dct * cp * f * (1 - f);
      const dpg = dct * i * (1 - g * g);
      let dcp = dct * f;
      if (peep) {
        dcp += dpi * peep[peepOffset + j]! + dpf * peep[peepOffset + H + j]!;
        if (dPeep) {
          dPeep[dPeepOffset + j]! += dpi * cp;
          dPeep[dPeepOffset + H + j]! += dpf * cp;
          dPeep[dPeepOffset + 2 * H + j]! += dpo * cv;
        }
      }
      dc[dcOffset + s] = dcp;
      dGates[dRow + j] = dpi;
      dGates[dRow + H + j] = dpf;
      dGates[dRow + 2 * H + j] = dpg;
      dGates[dRow + 3 * H + j] = dpo;
    }
  }
}
