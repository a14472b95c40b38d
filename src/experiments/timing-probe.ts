/**
 * What a trained LSTM of the timing experiment times with, measured rather than guessed:
 *
 * - ablations: the test share right again with the recurrent weights W_hh set to zero (the gates then
 *   see the cell state only through the peepholes, if any: a plain LSTM that times through h's
 *   feedback must fail), and with the peephole weights set to zero (a peephole LSTM that uses its
 *   peepholes must fail);
 * - on a probe batch, per gate (i, f, o), the peepholes' share of the state-borne input to the gate:
 *   Σ|w_c ⊙ c| / (Σ|w_c ⊙ c| + Σ|W_h h_{t-1}|), how much of what the gate reads about the past comes
 *   through the peepholes rather than through h;
 * - the mean output gate (a plain LSTM's gates see c only as o ⊙ tanh(c), so it must keep o open
 *   where a peephole LSTM need not) and the weights' magnitudes (mean |w| of each peephole vector and
 *   of W_hh's entries, for scale).
 */
import { abs, linear, narrow, reshape, sum } from '../ops/index.js';
import { directionWeights } from '../nn/recurrent/layout.js';
import { traceDirection } from '../nn/recurrent/index.js';
import { noGrad, type Tensor } from '../tensor/index.js';
import type { LastStepRegressor } from './models.js';

export interface TimingProbe {
  /** Test share right with W_hh zeroed. */
  withoutRecurrence: number;
  /** Test share right with the peephole weights zeroed (null without peepholes). */
  withoutPeepholes: number | null;
  /** Peepholes' share of the gate's state-borne input, per gate (null without peepholes). */
  peepholeShare: { i: number; f: number; o: number } | null;
  meanOutputGate: number;
  /** Mean |w| of w_ci, w_cf, w_co (null without peepholes) and of W_hh's entries. */
  peepholeWeights: { i: number; f: number; o: number } | null;
  recurrentWeight: number;
}

const meanAbs = (t: Tensor): number => noGrad(() => sum(abs(t)).item()) / t.size;

/** Runs `score` with the given parameters set to zero, then puts them back. */
function withZeroed(params: readonly Tensor[], score: () => number): number {
  const saved = params.map((p) => Float32Array.from(p.data as ArrayLike<number>));
  try {
    for (const p of params) {
      (p.data as Float32Array).fill(0);
      p.bumpVersion();
    }
    return score();
  } finally {
    params.forEach((p, k) => {
      (p.data as Float32Array).set(saved[k]!);
      p.bumpVersion();
    });
  }
}

/**
 * Probes a trained LSTM model: `score` is the task's test share right, `probe` [steps, batch, 1] a
 * small batch of the task's inputs for the gate statistics.
 */
export function probeTiming(model: LastStepRegressor, score: () => number, probe: Tensor): TimingProbe {
  const params = new Map([...model.layer.namedParameters()]);
  const w = directionWeights(params, '_l0');
  const H = model.hiddenSize;
  const withoutRecurrence = withZeroed([w.weightHh], score);
  const withoutPeepholes = w.peephole ? withZeroed(w.peephole, score) : null;
  return noGrad(() => {
    const [steps, batch, features] = probe.shape as [number, number, number];
    const inputs = Array.from({ length: steps }, (_, t) => reshape(narrow(probe, 0, t, 1), [batch, features]));
    const trace = traceDirection('lstm', w, inputs);
    const gateIndex = { i: 0, f: 1, o: 3 } as const;
    // What W_hh carries into each gate from h_{t-1} (zero at t = 0, where h is the zero state).
    const recurrentInput = (gate: keyof typeof gateIndex): number => {
      const rows = narrow(w.weightHh, 0, gateIndex[gate] * H, H);
      return trace.h.slice(0, -1).reduce((total, h) => total + sum(abs(linear(h, rows))).item(), 0);
    };
    const peepholeInput = (gate: keyof typeof gateIndex): number =>
      trace.signals.get(`peephole_${gate}`)!.reduce((total, term) => total + sum(abs(term)).item(), 0);
    const share = (gate: keyof typeof gateIndex): number => {
      const through = peepholeInput(gate);
      return through / (through + recurrentInput(gate));
    };
    const outputGate = trace.signals.get('o')!;
    return {
      withoutRecurrence,
      withoutPeepholes,
      peepholeShare: w.peephole ? { i: share('i'), f: share('f'), o: share('o') } : null,
      meanOutputGate: outputGate.reduce((total, o) => total + sum(o).item(), 0) / (steps * batch * H),
      peepholeWeights: w.peephole ? { i: meanAbs(w.peephole[0]), f: meanAbs(w.peephole[1]), o: meanAbs(w.peephole[2]) } : null,
      recurrentWeight: meanAbs(w.weightHh),
    };
  });
}
