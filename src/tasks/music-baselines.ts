/**
 * Reference points for the music task's NLL, in the same units (nats per time step), so a figure such
 * as "poly 9.18" can be read: a unigram model (how often each class or pitch occurs in the training
 * part) and a repeat model (the next step is the current one with the probability seen in training).
 * For the piano roll also the frame accuracy of Boulanger-Lewandowski et al. (2012): over all frames,
 * true positives / (true positives + false positives + false negatives) of the predicted notes.
 */

/** Statistics of the training part, kept in the run's summary so eval --data uses the same ones. */
export type MusicBaselineStats =
  | { encoding: 'mono'; classCounts: number[]; repeats: number; transitions: number }
  | { encoding: 'poly'; pitchOn: number[]; frames: number; onAfterOn: number; onBefore: number; onAfterOff: number; offBefore: number };

/** Counts of a mono class sequence (add-one smoothed later) and how often a step repeats the last. */
export function monoStats(ids: ArrayLike<number>, classes: number): MusicBaselineStats {
  const classCounts = new Array<number>(classes).fill(0);
  let repeats = 0;
  for (let t = 0; t < ids.length; t++) {
    classCounts[ids[t]!]!++;
    if (t > 0 && ids[t] === ids[t - 1]) repeats++;
  }
  return { encoding: 'mono', classCounts, repeats, transitions: Math.max(0, ids.length - 1) };
}

/** Per-pitch occupancy of a piano roll [steps, pitches] and its step-to-step persistence. */
export function polyStats(rows: ArrayLike<number>, steps: number, pitches: number): MusicBaselineStats {
  const pitchOn = new Array<number>(pitches).fill(0);
  let onAfterOn = 0;
  let onBefore = 0;
  let onAfterOff = 0;
  let offBefore = 0;
  for (let t = 0; t < steps; t++) {
    for (let j = 0; j < pitches; j++) {
      const on = rows[t * pitches + j]! > 0.5;
      if (on) pitchOn[j]!++;
      if (t === 0) continue;
      if (rows[(t - 1) * pitches + j]! > 0.5) {
        onBefore++;
        if (on) onAfterOn++;
      } else {
        offBefore++;
        if (on) onAfterOff++;
      }
    }
  }
  return { encoding: 'poly', pitchOn, frames: steps, onAfterOn, onBefore, onAfterOff, offBefore };
}

/** Add-one (Laplace) estimate, so an event unseen in training costs a finite NLL. */
const smoothed = (count: number, total: number, outcomes: number): number => (count + 1) / (total + outcomes);

/** NLL per predicted step of the two baselines on a mono sequence (each step predicts the next). */
export function monoBaselineNll(stats: Extract<MusicBaselineStats, { encoding: 'mono' }>, ids: ArrayLike<number>): { unigram: number; repeat: number } {
  const classes = stats.classCounts.length;
  const total = stats.classCounts.reduce((a, b) => a + b, 0);
  const p = stats.classCounts.map((c) => smoothed(c, total, classes));
  const stay = smoothed(stats.repeats, stats.transitions, 2);
  let unigram = 0;
  let repeat = 0;
  for (let t = 1; t < ids.length; t++) {
    const next = ids[t]!;
    const current = ids[t - 1]!;
    unigram -= Math.log(p[next]!);
    // Not repeating: the other classes in proportion to their unigram probabilities.
    repeat -= Math.log(next === current ? stay : ((1 - stay) * p[next]!) / (1 - p[current]!));
  }
  const n = Math.max(1, ids.length - 1);
  return { unigram: unigram / n, repeat: repeat / n };
}

/**
 * NLL per predicted step (summed over pitches) of the two baselines, and the repeat model's frame
 * accuracy; its frame counts are added to `counts` when given (to pool several stretches).
 */
export function polyBaselines(
  stats: Extract<MusicBaselineStats, { encoding: 'poly' }>, rows: ArrayLike<number>, steps: number, pitches: number,
  counts: FrameCounts = { truePositives: 0, falsePositives: 0, falseNegatives: 0 },
) {
  const p = stats.pitchOn.map((c) => smoothed(c, stats.frames, 2));
  const onAfterOn = smoothed(stats.onAfterOn, stats.onBefore, 2);
  const onAfterOff = smoothed(stats.onAfterOff, stats.offBefore, 2);
  const bernoulli = (prob: number, on: boolean): number => -Math.log(on ? prob : 1 - prob);
  let unigram = 0;
  let repeat = 0;
  for (let t = 1; t < steps; t++) {
    for (let j = 0; j < pitches; j++) {
      const on = rows[t * pitches + j]! > 0.5;
      const wasOn = rows[(t - 1) * pitches + j]! > 0.5;
      unigram += bernoulli(p[j]!, on);
      repeat += bernoulli(wasOn ? onAfterOn : onAfterOff, on);
      countFrame(counts, wasOn, on);
    }
  }
  const n = Math.max(1, steps - 1);
  return { unigram: unigram / n, repeat: repeat / n, repeatAccuracy: frameAccuracy(counts) };
}

export interface FrameCounts {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
}

export function countFrame(counts: FrameCounts, predicted: boolean, actual: boolean): void {
  if (predicted && actual) counts.truePositives++;
  else if (predicted) counts.falsePositives++;
  else if (actual) counts.falseNegatives++;
}

/** TP / (TP + FP + FN); 1 for a stretch of silence predicted as silence. */
export function frameAccuracy(c: FrameCounts): number {
  const denominator = c.truePositives + c.falsePositives + c.falseNegatives;
  return denominator === 0 ? 1 : c.truePositives / denominator;
}
