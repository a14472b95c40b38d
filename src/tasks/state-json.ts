/**
 * Small tensors (a carried hidden state) as JSON for a checkpoint's `extra` metadata. A float32 value
 * printed by JSON.stringify reads back to the same float32, so the round trip is exact and a resumed
 * run continues bit for bit.
 */
import { tensor, type Tensor } from '../tensor/index.js';

export interface TensorJSON {
  shape: number[];
  data: number[];
}

export function stateToJSON(tensors: Record<string, Tensor>): Record<string, TensorJSON> {
  const out: Record<string, TensorJSON> = {};
  for (const [name, t] of Object.entries(tensors)) out[name] = { shape: [...t.shape], data: Array.from(t.data) };
  return out;
}

export function stateFromJSON(json: unknown): Record<string, Tensor> {
  if (typeof json !== 'object' || json === null) throw new Error('checkpoint: carried state must be an object of tensors');
  const out: Record<string, Tensor> = {};
  for (const [name, value] of Object.entries(json)) {
    const v = value as Partial<TensorJSON> | null;
    const ok =
      v !== null && Array.isArray(v.shape) && Array.isArray(v.data) && v.shape.every((d) => Number.isInteger(d) && d >= 0) &&
      v.data.every((x) => typeof x === 'number') && v.shape.reduce((p, d) => p * d, 1) === v.data.length;
    if (!ok) throw new Error(`checkpoint: carried state '${name}' must be { shape, data } with matching sizes`);
    out[name] = tensor(v!.data!, v!.shape!);
  }
  return out;
}
